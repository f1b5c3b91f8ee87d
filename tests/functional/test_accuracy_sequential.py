"""A target width of the chip score's 95 % interval (``RunConfig.ci_width``): sequential
stages that stop once the interval is narrow enough, reproducibly (seed and target only)."""

import dataclasses

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from chipsim import RunConfig
from chipsim.errors import ChipsimError
from chipsim.functional.accuracy import _ci95, chip_accuracy
from chipsim.mapping import map_workload
from chipsim.spec import SpecError, hermes, override
from chipsim.workload import (
    forward,
)


def _agreement(out, ref_labels):
    return "top1", 100.0 * float(np.mean(out.argmax(-1) == ref_labels))


@pytest.fixture(scope="module")
def case(tiny_cnn):
    """A small network whose chip instances disagree (5-bit ADC): net, mapping, chip, x, y."""
    net = tiny_cnn
    x = np.random.default_rng(3).uniform(0, 1, (120, 1, 8, 8)).astype(np.float32)
    y = forward(net, x).argmax(-1)
    chip = override(hermes(), "core.adc_bits", 5)
    return net, map_workload(net.lowered(), chip), chip, x, y


def _measure(case, width, *, instances=6, batch=200, samples=None, stage=50):
    net, m, chip, x, y = case
    n = len(x) if samples is None else samples
    return chip_accuracy(net, m, chip, x[:n], y[:n], _agreement, instances=instances, seed=7,
                         batch=batch, ci_width=width, stage=stage)


def test_no_target_is_the_measurement_of_every_sample_on_every_instance(case):
    net, m, chip, x, y = case
    kw = dict(instances=3, seed=7, batch=50)
    plain = chip_accuracy(net, m, chip, x, y, _agreement, **kw).to_dict()
    none = chip_accuracy(net, m, chip, x, y, _agreement, ci_width=None, **kw).to_dict()
    assert plain == none
    assert none["samples"] == none["samples_max"] == len(x)
    assert none["instances"] == none["instances_max"] == 3
    assert none["ci_target"] is None and none["ci_reached"] is None and none["ci_stages"] == []
    lo, hi = none["chip_ci95"]
    assert none["ci95_width"] == hi - lo
    assert RunConfig() == RunConfig(ci_width=None) and RunConfig().ci_width is None


def test_same_seed_and_target_give_the_same_result_whatever_the_batch_or_threads(case):
    ref = _measure(case, 4.0, batch=200).to_dict()
    assert _measure(case, 4.0, batch=7).to_dict() == ref
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        with threadpool_limits(1):
            assert _measure(case, 4.0, batch=33).to_dict() == ref
    finally:
        numba.set_num_threads(before)
    with threadpool_limits(2):
        assert _measure(case, 4.0).to_dict() == ref


@pytest.mark.parametrize("width", [40.0, 10.0, 6.0, 4.0, 2.0, 0.5])
def test_reached_means_narrow_enough_and_not_reached_means_everything_used(case, width):
    r = _measure(case, width)
    assert r.ci_target == width
    assert r.ci95_width == pytest.approx(r.chip_ci95[1] - r.chip_ci95[0])
    assert r.samples_max == 120 and r.instances_max == 6
    assert 3 <= r.instances <= 6 and 1 <= r.samples <= 120 and len(r.chip) == r.instances
    if r.ci_reached:
        assert r.ci95_width <= width
    else:
        assert r.ci95_width > width and (r.samples, r.instances) == (120, 6)
    # every check narrower than the target ends the measurement: only the last one is
    widths = [e.chip_ci95[1] - e.chip_ci95[0] for e in r.ci_stages]
    assert all(w > width for w in widths[:-1])
    last = r.ci_stages[-1]
    assert (last.samples, last.instances) == (r.samples, r.instances)
    assert last.chip_ci95 == r.chip_ci95 == _ci95(np.array(r.chip), r.metric)
    # stages: samples first (50 at a time on 3 instances), then one instance at a time
    steps = [(e.samples, e.instances) for e in r.ci_stages]
    assert steps == sorted(steps) and steps[0] == (50, 3)


def test_a_loose_target_stops_earlier_than_a_tight_one(case):
    loose, tight = _measure(case, 40.0), _measure(case, 0.5)
    assert loose.ci_reached and not tight.ci_reached
    assert loose.samples * loose.instances < tight.samples * tight.instances
    assert (tight.samples, tight.instances) == (120, 6)


def test_a_stopped_measurement_scores_like_one_with_those_maxima(case):
    """Stopping at n samples and k instances gives the scores of a measurement whose maxima
    are n and k (and an unreachable target): stages do not depend on what comes after."""
    r = _measure(case, 11.0)
    assert r.ci_reached and (r.samples, r.instances) < (120, 6)
    again = _measure(case, 1e-9, samples=r.samples, instances=r.instances)
    assert again.chip == r.chip and again.software == r.software


def test_instance_i_is_programmed_and_read_as_without_a_target(case):
    """Instance i has the seeds of the plain run's instance i (programming, calibration and
    read-noise key) and each sample's read noise depends only on its index: the scores are
    the plain run's, read noise included."""
    net, m, chip, x, y = case
    plain = chip_accuracy(net, m, chip, x, y, _agreement, instances=3, seed=7, batch=40,
                          calibration_inputs=x[:50])
    seq = chip_accuracy(net, m, chip, x, y, _agreement, instances=3, seed=7, ci_width=1e-9,
                        stage=50)
    assert (seq.samples, seq.instances) == (120, 3) and not seq.ci_reached
    assert seq.chip == plain.chip and seq.software == plain.software
    assert len(set(plain.chip)) > 1  # the instances differ: programming noise


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf"), "2", True])
def test_bad_target_is_refused(bad, case):
    with pytest.raises(SpecError, match="ci_width"):
        RunConfig(ci_width=bad)
    with pytest.raises(ChipsimError, match="ci_width"):
        _measure(case, bad)


def test_a_target_needs_two_instances(case):
    with pytest.raises(ChipsimError, match="ci_width.*2 chip instances"):
        _measure(case, 2.0, instances=1)
    cfg = dataclasses.replace(RunConfig(), ci_width=2.0, instances=1)  # valid alone ...
    from chipsim.api import simulate

    net, m, chip, _x, _y = case
    with pytest.raises(ChipsimError, match=r"run\.ci_width"):  # ... refused before mapping
        simulate(net, chip, m, cfg, task="resnet9")


def test_the_same_seed_gives_the_same_scores_whatever_batch_threads_or_target(case):
    """Without a target too: any batch, any number of instance threads, BLAS threads of the
    caller; and a sequential measurement that stops at n samples and k instances scores its
    instances as the plain measurement does on those."""
    net, m, chip, x, y = case
    kw = dict(instances=3, seed=7, calibration_inputs=x[:50])
    ref = chip_accuracy(net, m, chip, x, y, _agreement, batch=120, threads=1, **kw).to_dict()
    for batch, threads in ((7, 2), (50, 3), (120, 2)):
        with threadpool_limits(2):
            got = chip_accuracy(net, m, chip, x, y, _agreement, batch=batch, threads=threads,
                                **kw).to_dict()
        assert got == ref, (batch, threads)
    seq = _measure(case, 1e-9, instances=3, stage=50)  # never reached: everything used
    assert seq.chip == tuple(ref["chip"])
    with pytest.raises(ChipsimError, match="^threads"):
        chip_accuracy(net, m, chip, x, y, _agreement, threads=0, **kw)
    with pytest.raises(ChipsimError, match="^stage: must be a positive multiple of 50"):
        _measure(case, 2.0, stage=30)


def test_a_run_split_into_batches_gives_the_outputs_of_the_whole(case):
    from chipsim.functional.executor import ChipInstance

    net, m, chip, x, _ = case
    inst = ChipInstance(net, m, chip, np.random.default_rng(1), np.random.default_rng(2),
                        calibration_inputs=x[:20])
    whole = inst.run(x[:30], 1234)
    parts = [inst.run(x[lo:hi], 1234, first=lo) for lo, hi in ((20, 30), (0, 7), (7, 20))]
    np.testing.assert_array_equal(np.concatenate([parts[1], parts[2], parts[0]]), whole)
    assert not np.array_equal(inst.run(x[:30], 1235), whole)  # another key: other noise
    assert not np.array_equal(inst.run(x[:30], 1234, first=1), whole)
    with pytest.raises(ChipsimError, match="^first"):
        inst.run(x[:2], 1234, first=-1)


@pytest.mark.parametrize("quantize", [True, False])
def test_an_instance_read_at_another_time_is_the_instance_programmed_for_it(case, quantize):
    from chipsim.functional.executor import ChipInstance

    net, m, chip, x, _ = case

    def programmed(t_s, gdc):
        return ChipInstance(net, m, chip, np.random.default_rng(1), np.random.default_rng(2),
                            calibration_inputs=x[:20], t_s=t_s, gdc=gdc, quantize=quantize)

    base = programmed(60.0, True)
    base.run(x[:5], 9)
    for t_s, gdc in ((86400.0, True), (86400.0, False), (60.0, True)):
        fresh, reread = programmed(t_s, gdc), base.at(t_s, gdc)
        np.testing.assert_array_equal(reread.run(x[:30], 9), fresh.run(x[:30], 9))
        np.testing.assert_array_equal(reread.calibration_mvms, fresh.calibration_mvms)
        np.testing.assert_array_equal(reread.mvms, fresh.mvms)
        assert reread.t_s == t_s
    assert base.at(1e6).run(x[:3], 9).shape == base.run(x[:3], 9).shape
    with pytest.raises(ChipsimError, match="^t_s"):
        base.at(-1.0)


@pytest.mark.parametrize("width", [None, 3.0])
def test_kept_instances_give_the_scores_of_programmed_ones(case, width):
    from chipsim.functional.accuracy import Programmed

    net, m, chip, x, y = case
    kw = dict(instances=3, seed=7, batch=50, calibration_inputs=x[:40], ci_width=width,
              stage=50)
    kept = Programmed()
    for t_s, gdc in ((60.0, True), (86400.0, True), (86400.0, False), (1e7, True)):
        fresh = chip_accuracy(net, m, chip, x, y, _agreement, t_s=t_s, gdc=gdc, **kw)
        again = chip_accuracy(net, m, chip, x, y, _agreement, t_s=t_s, gdc=gdc,
                              programmed=kept, **kw)
        assert fresh.reused_instances == 0
        assert again.reused_instances == (0 if t_s == 60.0 else again.instances)
        want = dataclasses.replace(fresh, reused_instances=again.reused_instances)
        assert again.to_dict() == want.to_dict()
    with pytest.raises(ChipsimError, match="^programmed"):
        chip_accuracy(net, m, chip, x, y, _agreement, programmed=kept,
                      **{**kw, "seed": 8})


def test_reading_a_layer_in_chunks_changes_nothing(case, monkeypatch):
    from chipsim.functional import executor
    from chipsim.functional.executor import ChipInstance

    net, m, chip, x, _ = case

    def outputs():
        inst = ChipInstance(net, m, chip, np.random.default_rng(1), np.random.default_rng(2),
                            calibration_inputs=x[:20])
        return inst.run(x[:30], 77), inst.mvms

    whole, mvms = outputs()
    monkeypatch.setattr(executor, "CHUNK_VECTORS", 37)  # conv layers: 30 × 64 vectors
    chunked, chunked_mvms = outputs()
    np.testing.assert_array_equal(chunked, whole)
    np.testing.assert_array_equal(chunked_mvms, mvms)
