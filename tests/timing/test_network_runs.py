"""Timing runs of mapped networks: MVM counts, transports, chips, topologies, GDC, CLI."""

import dataclasses
import json

import pytest

from chipsim.cli import main
from chipsim.cost import Latencies
from chipsim.mapping import map_workload
from chipsim.spec import hermes, hermes16, hermes256, override
from chipsim.timing import TimingConfig, TimingError, TransportMode
from chipsim.timing.run import expected_mvms, simulate_timing
from chipsim.workload import build
from chipsim.workload.lowered import LoweredLayer

MLP = (LoweredLayer("fc1", "linear", 784, 256, 1),
       LoweredLayer("fc2", "linear", 256, 128, 1, sources=("fc1",)),
       LoweredLayer("fc3", "linear", 128, 10, 1, sources=("fc2",)))


def _expected(mapping, layers, n):
    """MVMs per core, from the mapping alone: a replica computes a band of as many vectors
    of each inference as there are indices equal to its number mod R (an LSTM's and its
    consumers' replicas: the time steps equal to it mod R)."""
    stepped = set()
    for ly in layers:
        if ly.kind.startswith("lstm") or set(ly.sources) & stepped:
            stepped.add(ly.name)
    vec = {ly.name: ly.vectors for ly in layers}
    out = {}
    for b in mapping.blocks:
        r = mapping.layer(b.layer).replicas
        if b.layer in stepped:
            out[b.core] = vec[b.layer] * sum(1 for i in range(n) if i % r == b.replica)
        else:
            out[b.core] = n * sum(1 for k in range(vec[b.layer]) if k % r == b.replica)
    return out


def _run(model, chip, transport, n=2, replicate=None, **cfg):
    layers = build(model).lowered() if isinstance(model, str) else model
    rep = transport == "onchip" if replicate is None else replicate
    m = map_workload(layers, chip, replicate=rep)
    r = simulate_timing(m, layers, chip, TimingConfig(
        transport=TransportMode(transport), inferences=n, **cfg))
    return m, layers, r


@pytest.fixture(scope="module")
def runs():
    chip = hermes()
    return {(model, t): _run(model, chip, t, timeline=(model == "lstm-ptb"))
            for model in ("resnet9", "lstm-ptb") for t in ("offchip", "onchip")}


@pytest.mark.parametrize("model", ["resnet9", "lstm-ptb"])
@pytest.mark.parametrize("transport", ["offchip", "onchip"])
def test_mvm_counts_are_those_the_mapping_implies(runs, model, transport):
    m, layers, r = runs[(model, transport)]
    want = _expected(m, layers, r.inferences)
    assert {c: v["mvms"] for c, v in r.core_counts.items()} == want
    assert expected_mvms(m, layers, hermes(), r.inferences) == want
    assert r.counts.mvms == sum(want.values())
    per_inf = sum(ly.vectors * ly.blocks for ly in m.layers)
    assert r.counts.mvms == r.inferences * per_inf
    ops = sum(2 * (b.rows[1] - b.rows[0]) * (b.cols[1] - b.cols[0]) * want[b.core]
              for b in m.blocks)
    assert r.ops_per_inference * r.inferences == ops


@pytest.mark.parametrize("model", ["resnet9", "lstm-ptb"])
def test_onchip_pipelining_beats_offchip(runs, model):
    off, on = runs[(model, "offchip")][2], runs[(model, "onchip")][2]
    assert on.throughput_inf_per_s > off.throughput_inf_per_s
    assert on.tops > off.tops
    assert off.counts.offchip_bits > on.counts.offchip_bits
    s = on.summary()
    for key in ("latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
                "tops_per_w", "transport", "cores_used", "energy_breakdown"):
        assert key in s
    assert s["transport"] == "onchip" and s["cores_used"] == on.cores_used > 0
    assert sum(s["energy_breakdown"].values()) == pytest.approx(s["energy_uj_per_inference"])
    assert all(v >= 0 for v in s["energy_breakdown"].values())
    assert 0 < s["tops_per_w"] < s["tops_per_w_mvm"]


def test_lstm_uses_the_gdpu_and_timeline_is_consistent(runs):
    m, _, r = runs[("lstm-ptb", "onchip")]
    assert sum(g["inputs"] for g in r.gdpu_counts.values()) == 2016 * r.inferences
    mvm_ps = Latencies.of(hermes()).mvm_ps
    for _core, start, end, action in r.timeline:
        assert 0 <= start < end <= r.makespan_ps
        if action == "mvm":
            assert end - start == mvm_ps
    mvms = sum(1 for *_, a in r.timeline if a == "mvm")
    assert mvms == r.counts.mvms
    assert all(0 <= u <= 1 for u in r.core_utilization.values())
    assert all(0 <= u <= 1 for u in r.link_utilization.values())
    assert max(r.link_peak_queue.values()) >= 1


def test_runs_are_deterministic():
    a = _run(MLP, hermes16(), "onchip", n=3)[2]
    b = _run(MLP, hermes16(), "onchip", n=3)[2]
    assert a == b


@pytest.mark.parametrize("transport", ["offchip", "onchip"])
def test_small_mlp_on_16_cores(transport):
    m, layers, r = _run(MLP, hermes16(), transport, n=3)
    assert r.cores_used == m.cores_used if transport == "offchip" else r.cores_used >= 6
    assert {c: v["mvms"] for c, v in r.core_counts.items()} == _expected(m, layers, 3)
    assert r.latency_ns > 3 * Latencies.of(hermes16()).mvm_ps / 1e3


@pytest.mark.parametrize(("model", "transport"), [("resnet9", "offchip"),
                                                  ("lstm-ptb", "offchip"),
                                                  ("lstm-ptb", "onchip")])
def test_256_core_chip(model, transport):
    m, layers, r = _run(model, hermes256(), transport, n=2, replicate=False)
    assert {c: v["mvms"] for c, v in r.core_counts.items()} == _expected(m, layers, 2)
    assert r.throughput_inf_per_s > 0 and r.energy.total_pj > 0


@pytest.mark.parametrize("change", [("network.topology", "mesh"), ("network.topology", "torus"),
                                    ("grid", "6x10")])
@pytest.mark.parametrize("transport", ["offchip", "onchip"])
def test_other_topologies_and_grids(change, transport):
    chip = override(hermes(), *change)
    m, layers, r = _run("lstm-ptb", chip, transport, n=3)
    assert {c: v["mvms"] for c, v in r.core_counts.items()} == _expected(m, layers, 3)
    m2, layers2, r2 = _run(MLP, chip, transport, n=2)
    assert r2.counts.mvms == 2 * 6


def test_gdc_calibration_costs_time_and_energy():
    chip = hermes16()
    base = _run(MLP, chip, "offchip", n=3)[2]
    gdc = _run(MLP, chip, "offchip", n=3, gdc_interval_us=1.0)[2]
    n_cal = chip.core.gdc_calibration_mvms
    assert gdc.counts.gdc_mvms > 0 and gdc.counts.gdc_mvms % n_cal == 0
    assert base.counts.gdc_mvms == 0
    assert gdc.makespan_ps > base.makespan_ps
    assert gdc.energy.mvm_pj > base.energy.mvm_pj
    assert gdc.counts.mvms == base.counts.mvms  # calibration MVMs are counted apart
    assert any(a == "gdc" for *_, a in gdc.timeline)
    rare = _run(MLP, chip, "offchip", n=3, gdc_interval_us=1e6)[2]
    assert rare.counts.gdc_mvms == 0


def test_mapping_for_another_chip_is_an_error():
    layers = MLP
    m = map_workload(layers, hermes16())
    with pytest.raises(TimingError, match="4x4"):
        simulate_timing(m, layers, hermes())


def test_run_cli_json(capsys):
    assert main(["run", "lstm-ptb", "--transport", "onchip", "--no-accuracy", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "lstm-ptb" and out["transport"] == "onchip"
    for key in ("latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
                "tops_per_w", "cores_used", "energy_breakdown"):
        assert key in out
    assert main(["run", "lstm-ptb", "--transport", "offchip", "--inferences", "2",
                 "--no-accuracy"]) == 0
    assert "latency" in capsys.readouterr().out
    assert main(["run", "lstm-ptb", "--inferences", "0"]) == 2


def test_energy_recomputes_without_resimulating(runs):
    r = runs[("lstm-ptb", "offchip")][2]
    spec = dataclasses.replace(r.energy_spec, ldpu_pj_per_value=0.0)
    assert r.energy_with(spec).ldpu_pj == 0.0 < r.energy.ldpu_pj
