"""The compiled timing run is the SimPy run, event for event.

``test_golden.py`` compares the results of :func:`chipsim.timing.engine.run_plan` (compiled)
with the frozen golden data; here: that every golden configuration does run compiled (a
silent fall-back would pass the golden test unseen), that the SimPy engine gives the golden
results too, and that both engines agree where no golden data exist (window granularity,
more inferences, timelines, off-chip transport, GDPU slices, attention units, systems).
"""

from dataclasses import replace

import pytest

from chipsim.mapping import map_workload
from chipsim.models import resolve_model
from chipsim.spec import BufferSpec, hermes, hermes16, hermes256, hermes_attn, override
from chipsim.timing import TimingConfig, TimingError, TransportMode, engine, run_plan
from chipsim.timing.run import plan_of

from .golden import harness

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`

@pytest.fixture
def compiled_runs(monkeypatch):
    """Whether each run_plan call ran compiled (True) or on SimPy (False)."""
    made = []
    original = engine.run_compiled

    def run_compiled(st):
        made.append(original(st))
        return made[-1]

    monkeypatch.setattr(engine, "run_compiled", run_compiled)
    return made


@pytest.mark.parametrize("name", sorted(harness.CONFIGS))
def test_the_golden_configurations_run_compiled(compiled_runs, name):
    """Every golden configuration (LSTMs with their GDPU slices too) runs compiled and gives
    the golden result."""
    golden = harness.load_golden()["configs"][name]["result"]
    got = harness.one_chip(harness.serialize(harness.CONFIGS[name]().result))
    assert harness.canonical(got) == harness.canonical(golden)
    assert compiled_runs == [True], name


@pytest.mark.parametrize("name", sorted(harness.CONFIGS))
def test_the_reference_engine_gives_the_golden_results(monkeypatch, name):
    """The SimPy engine (the compiled run's reference and fall-back) still gives every golden
    result: ``test_golden.py`` now runs only the compiled engine."""
    monkeypatch.setattr(engine, "run_compiled", lambda st: False)
    golden = harness.load_golden()["configs"][name]["result"]
    got = harness.one_chip(harness.serialize(harness.CONFIGS[name]().result))
    assert harness.canonical(got) == harness.canonical(golden)


def _both(model: str, chip, replicate: bool, buffers: dict | None = None, *,
          transport: TransportMode = TransportMode.ONCHIP, **cfg):
    if buffers:
        chip = replace(chip, buffers=BufferSpec(**buffers))
    layers = resolve_model(model).workload.lowered()
    mapping = map_workload(layers, chip, replicate=replicate, seed=0)
    config = TimingConfig(transport=transport, **cfg)
    plan = plan_of(mapping, layers, chip, config)
    return (harness.serialize(run_plan(plan, chip, config)),
            harness.serialize(run_plan(plan, chip, config, reference=True)))


@pytest.mark.parametrize("model, chip, replicate, inferences", [
    ("resnet9", hermes(), True, 6), ("resnet9", hermes(), False, 3),
    ("resnet32", hermes256(), True, 3)])
def test_window_granularity_as_the_reference(compiled_runs, model, chip, replicate,
                                             inferences):
    got, want = _both(model, chip, replicate, inferences=inferences, granularity="window",
                      timeline=True)
    assert compiled_runs == [True]
    assert harness.canonical(got) == harness.canonical(want)


def test_gdc_as_the_reference(compiled_runs):
    """GDC calibrations every 7 µs, window granularity, with the timeline: the daemons' entries,
    their share of each core's MVM unit and their place among its busy spans."""
    got, want = _both("resnet9", hermes(), True, inferences=3, gdc_interval_us=7.0,
                      granularity="window", timeline=True)
    assert compiled_runs == [True]
    assert harness.canonical(got) == harness.canonical(want)
    assert want["counts"]["gdc_mvms"] > 0


def test_back_pressure_as_the_reference(compiled_runs):
    """One-vector input and partial-sum buffers: sends wait for credits, wakes matter."""
    got, want = _both("resnet9", hermes(), True, {"input_vectors": 1, "psum_vectors": 1},
                      inferences=4, granularity="window", timeline=True)
    assert compiled_runs == [True]
    assert harness.canonical(got) == harness.canonical(want)


@pytest.mark.parametrize("model, chip, buffers, cfg", [
    # one-vector residual buffers: the host's residual sends wait for credits
    ("resnet9", hermes(), {"residual_vectors": 1},
     {"inferences": 3, "granularity": "window", "timeline": True}),
    # one-vector input and partial-sum buffers, GDC calibrations among the MVMs
    ("resnet9", hermes(), {"input_vectors": 1, "psum_vectors": 1},
     {"inferences": 4, "gdc_interval_us": 7.0}),
    ("resnet32", hermes256(), None, {"inferences": 3}),
    # a system of three chips: the layers' copies and the host's traffic over chip-to-chip links
    ("resnet9", override(hermes16(), "system.chips", 3), None, {"inferences": 3})])
def test_offchip_transport_as_the_reference(compiled_runs, model, chip, buffers, cfg):
    """Off-chip transport: every layer's feeder waits for the host to hold its sources'
    outputs of the inference, the input layer's for the previous inference, and sends the
    residuals the host adds; replicated layers."""
    got, want = _both(model, chip, True, buffers, transport=TransportMode.OFFCHIP, **cfg)
    assert compiled_runs == [True]
    assert harness.canonical(got) == harness.canonical(want)


@pytest.fixture(scope="module")
def encoders():
    """The Transformer encoders of ``test_attention.py``: post-norm, pre-norm (its first
    LayerNorm takes the network input, so the host feeds an attention unit) and causal."""
    from .test_attention import _workload

    return {"post": _workload(), "pre": _workload(norm_first=True),
            "causal": _workload(causal=True)}


@pytest.mark.parametrize("name, transport, replicate, cfg", [
    ("post", TransportMode.ONCHIP, True, {"inferences": 3, "timeline": True}),
    ("post", TransportMode.OFFCHIP, False, {"inferences": 2}),
    ("pre", TransportMode.ONCHIP, False, {"inferences": 2, "granularity": "window"}),
    ("pre", TransportMode.OFFCHIP, True, {"inferences": 2}),
    ("causal", TransportMode.ONCHIP, True, {"inferences": 2, "gdc_interval_us": 20.0})])
def test_attention_units_as_the_reference(compiled_runs, encoders, name, transport, replicate,
                                          cfg):
    """Attention stages: each token's work when its window of tokens is on the unit, the
    destinations have room and the unit is free (units shared by stages), its output to the
    layer's cores; the units' counts and busy spans."""
    chip = hermes_attn()
    layers = encoders[name].lowered()
    mapping = map_workload(layers, chip, replicate=replicate)
    config = TimingConfig(transport=transport, **cfg)
    plan = plan_of(mapping, layers, chip, config)
    got = harness.serialize(run_plan(plan, chip, config))
    want = harness.serialize(run_plan(plan, chip, config, reference=True))
    assert compiled_runs == [True]
    assert harness.canonical(got) == harness.canonical(want)
    assert want["counts"]["attention_macs"] > 0


@pytest.mark.parametrize("model, chip, replicate, cfg", [
    ("lstm-ptb", hermes(), True, {"inferences": 6, "granularity": "window", "timeline": True}),
    ("lstm-ptb", hermes(), False,
     {"inferences": 4, "transport": TransportMode.OFFCHIP, "gdc_interval_us": 2.0}),
    # 11 chips: the slices in use are numbered with gaps (their rows in the run's tables are
    # not their numbers)
    ("speech-lstm", override(hermes(), "system.chips", 11), True, {"inferences": 2})])
def test_gdpu_slices_as_the_reference(compiled_runs, model, chip, replicate, cfg):
    """The LSTM's GDPU slices: each serves its queue of gate vectors in arrival order, sends
    the hidden values on (the recurrent edge to the next time step) and returns the gates'
    credits once it has taken them in."""
    got, want = _both(model, chip, replicate, **cfg)
    assert compiled_runs == [True]
    assert harness.canonical(got) == harness.canonical(want)
    assert want["counts"]["gdpu_inputs"] > 0


def test_a_deadlock_is_reported_as_by_the_reference(compiled_runs):
    """Residual buffers too small for the dataflow: the compiled run finds the deadlock and
    hands the run to the SimPy engine, whose message says who waits for what."""
    with pytest.raises(TimingError, match="deadlocked at .* waits for buffer space"):
        _both("resnet9", hermes(), True, {"residual_vectors": 1}, inferences=2)
    assert compiled_runs == [False]


def test_the_hash_table_keeps_what_a_dict_keeps():
    """Random inserts, overwrites and deletions (backward-shift deletion in linear probing)
    on a small table, against a dict: every key found with its value, absent keys not."""
    import numpy as np

    from chipsim.timing import compiled

    rng = np.random.default_rng(0)
    table = compiled._table(64)
    h = np.zeros(6, dtype=np.int64)
    ref: dict[int, int] = {}
    keys = rng.integers(0, 10_000, 200)
    for step in range(20_000):
        key = int(keys[rng.integers(len(keys))])
        if key in ref and rng.random() < 0.5:
            compiled._delete(table, key)
            del ref[key]
        elif key in ref or len(ref) < 32:
            compiled._set(h, table, key, step)
            ref[key] = step
        for probe in keys[rng.integers(len(keys), size=4)]:
            assert compiled._get(table, int(probe)) == ref.get(int(probe), -1)
    assert table[0, 64] == len(ref) and h[2] == 0
    new = 10**6
    while h[2] == 0:  # new keys until the table would be more than half full
        compiled._set(h, table, new, 1)
        new += 1
    assert table[0, 64] == 32  # the key that found it half full was refused: the run overflows
