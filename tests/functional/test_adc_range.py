"""ADC range per core: ``core.adc_range = fixed`` (the spec's full scale on every core, the
default, unchanged) and ``calibrated`` (per core, a percentile of the line currents of the
block's calibration inputs, at most the spec's full scale)."""

import numpy as np
import pytest

from chipsim.errors import ChipsimError
from chipsim.functional.accuracy import chip_accuracy
from chipsim.functional.core import ADC_RANGE_FLOOR, calibrated_full_scale, program_core
from chipsim.functional.executor import INT8_LEVELS, ChipInstance, noise_free
from chipsim.functional.mvm_error import mvm_error
from chipsim.mapping import map_workload
from chipsim.spec import AdcRange, hermes, override
from chipsim.workload import (
    forward,
)
from chipsim.workload.forward import im2col


def _chip(bits=8, mode=None, chip=None):
    chip = override(chip or hermes(), "core.adc_bits", bits)
    return chip if mode is None else override(chip, "core.adc_range", mode)


def _core_case(seed=11):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1, (64, 32))
    codes = rng.integers(-127, 128, (50, 64)).astype(np.int16)
    codes[rng.random(codes.shape) < 0.5] = 0
    return w, codes, rng


# ---------------------------------------------------------------- fixed: unchanged
@pytest.mark.parametrize("bits, golden", [
    # computed with the code before per-core ranges (commit ab45948), then again when the
    # read noise moved to the counter-based draws (same code path otherwise)
    (4, (69, 5165, 1537, 1.136741509145273, 6.251842112436171)),
    (8, (517, 13321, 10269, 1.1627227528982969, 0.3445897227327024)),
])
@pytest.mark.parametrize("mode", [None, "fixed"])
def test_fixed_range_is_the_default_and_matches_the_golden_counts(bits, golden, mode):
    w, codes, rng = _core_case()
    inst = program_core(w, _chip(bits, mode), rng, core_id=0)
    assert inst.adc_full_scale_ua == hermes().core.adc_full_scale_ua
    assert inst.range_calibration_mvms == 0
    state = inst.read_state(3600.0)
    counts = inst.mvm_counts(codes, state, np.random.default_rng(3)).astype(np.int64)
    gdc = inst.gdc_factor(state, np.random.default_rng(4))
    assert (int(counts.sum()), int((counts * np.arange(1, 33)).sum()),
            int(np.abs(counts).sum()), gdc, inst.unit_scale()) == golden


def test_fixed_range_network_outputs_do_not_change_with_the_explicit_setting(tiny_cnn):
    net, x = tiny_cnn, _images(24)
    outs = []
    for chip in (hermes(), _chip(8, "fixed")):
        m = map_workload(net.lowered(), chip)
        inst = ChipInstance(net, m, chip, np.random.default_rng(0), np.random.default_rng(1),
                            calibration_inputs=x)
        assert inst.range_codes is None and not inst.range_calibration_mvms.any()
        used = np.zeros(chip.n_cores, bool)
        used[[b.core for b in m.blocks]] = True
        assert np.all(inst.adc_full_scale_ua[used] == chip.core.adc_full_scale_ua)
        assert not inst.adc_full_scale_ua[~used].any()
        outs.append(inst.run(x, np.random.default_rng(2)))
    np.testing.assert_array_equal(outs[0], outs[1])


# ---------------------------------------------------------------- calibrated: one core
def _reference_currents(inst, codes):
    """Noiseless 4-ph line currents at t = 0 in float64 (checked: no line saturates)."""
    g = inst.read_state(0.0).g.astype(np.float64)
    u = codes / inst.core.input_levels
    phases = [inst.core.v_read_v * np.maximum(s * u, 0) @ g[p] for s in (1, -1) for p in (0, 1)]
    assert max(ph.max() for ph in phases) < inst.core.i_sat_ua
    return phases[0] - phases[1] - phases[2] + phases[3]


def test_calibrated_full_scale_is_the_percentile_of_the_calibration_currents():
    w, codes, rng = _core_case()
    chip = _chip(4, "calibrated")
    inst = program_core(w, chip, rng, range_codes=codes)
    ref = np.percentile(np.abs(_reference_currents(inst, codes)),
                        chip.core.adc_range_percentile)
    assert 1.0 < ref < chip.core.adc_full_scale_ua  # the case is inside the clip bounds
    assert inst.adc_full_scale_ua == pytest.approx(ref, rel=1e-5)
    assert inst.range_calibration_mvms == len(codes)
    # the same devices as with a fixed range: the calibration draws no random numbers
    w2, _, rng2 = _core_case()
    fixed = program_core(w2, _chip(4, "fixed"), rng2)
    np.testing.assert_array_equal(inst.g_prog, fixed.g_prog)
    np.testing.assert_array_equal(inst.adc_gain, fixed.adc_gain)


def test_calibrated_full_scale_is_clipped_to_the_adc_range_and_its_floor():
    core = hermes().core
    top = core.adc_full_scale_ua
    assert calibrated_full_scale(np.full((4, 4), 3 * top), core) == top
    assert calibrated_full_scale(np.zeros((4, 4)), core) == top * ADC_RANGE_FLOOR
    assert calibrated_full_scale(np.empty((0, 4)), core) == top * ADC_RANGE_FLOOR
    a = np.random.default_rng(0).normal(0, 5, (64, 32))
    pct = override(hermes(), "core.adc_range_percentile", 90.0).core
    assert calibrated_full_scale(a, pct) == pytest.approx(np.percentile(np.abs(a), 90.0))
    # on a core: large dense inputs reach past the largest range, zero inputs the floor
    w = np.random.default_rng(1).normal(0, 1, (256, 16))
    chip = _chip(6, "calibrated")
    big = program_core(w, chip, np.random.default_rng(2),
                       range_codes=np.where(w[:, :1].T > 0, 127, -127).repeat(8, 0))
    assert big.adc_full_scale_ua == top
    zero = program_core(w, chip, np.random.default_rng(2),
                        range_codes=np.zeros((8, 256), np.int16))
    assert zero.adc_full_scale_ua == top * ADC_RANGE_FLOOR


def test_the_adc_converts_over_the_calibrated_range():
    """Noise off: counts are rint(i / fs_core · levels), clipped; the LDPU's unit follows."""
    w, codes, rng = _core_case()
    chip = noise_free(_chip(5, "calibrated"))
    core = chip.core
    inst = program_core(w, chip, rng, range_codes=codes[:20])
    fs = inst.adc_full_scale_ua
    assert fs < core.adc_full_scale_ua / 2
    state = inst.read_state(0.0)
    counts = inst.mvm_counts(codes, state, np.random.default_rng(0))
    ref = np.clip(np.rint(_reference_currents(inst, codes) / fs * core.adc_levels),
                  -core.adc_levels, core.adc_levels)
    assert np.mean(counts == ref) > 0.99 and np.abs(counts - ref).max() <= 1
    assert np.any(np.abs(counts) == core.adc_levels)  # vectors beyond the first 20 clip
    assert inst.unit_scale() == pytest.approx(
        inst.w_max * fs / (core.adc_levels * core.v_read_v * inst.device.polarity_g_max_us))


def test_output_noise_is_a_fraction_of_the_core_full_scale():
    """Only output noise on: its σ in counts is output_noise_std_fs × levels, either range."""
    w, codes, rng = _core_case()
    chip = override(noise_free(_chip(10, "calibrated")), "core.output_noise_std_fs", 0.01)
    inst = program_core(w, chip, rng, range_codes=codes)
    assert inst.adc_full_scale_ua < chip.core.adc_full_scale_ua / 2
    state = inst.read_state(0.0)
    zero = np.zeros((4000, 64), np.int16)
    counts = inst.mvm_counts(zero, state, np.random.default_rng(0))
    assert counts.std() == pytest.approx(0.01 * chip.core.adc_levels, rel=0.05)


def test_calibrated_range_needs_the_calibration_inputs():
    w, codes, rng = _core_case()
    with pytest.raises(ChipsimError, match="range_codes"):
        program_core(w, _chip(8, "calibrated"), rng)
    with pytest.raises(ChipsimError, match="range_codes"):
        program_core(w, _chip(8, "calibrated"), rng, range_codes=codes[:, :10])


def test_dead_adc_columns_are_left_out_of_the_range():
    w, codes, _ = _core_case()
    loud = np.argmax(np.abs(codes @ w).max(axis=0))  # the column of the largest current
    chip = override(_chip(8, "calibrated"), "faults.dead_adc_columns", [[0, int(loud)]])
    alive = program_core(w, chip, np.random.default_rng(5), range_codes=codes)
    dead = program_core(w, chip, np.random.default_rng(5), range_codes=codes, core_id=0)
    i = np.abs(_reference_currents(dead, codes))
    assert dead.adc_full_scale_ua == pytest.approx(
        np.percentile(np.delete(i, loud, axis=1), 99.99), rel=1e-5)
    assert dead.adc_full_scale_ua < alive.adc_full_scale_ua


def test_mvm_error_reports_the_calibrated_range():
    r = mvm_error(_chip(6, "calibrated"), vectors=128)
    assert r.range_calibration_mvms == hermes().core.adc_range_calibration_mvms
    assert 0 < r.adc_full_scale_ua <= hermes().core.adc_full_scale_ua
    f = mvm_error(_chip(6), vectors=128)
    assert f.range_calibration_mvms == 0 and f.adc_full_scale_ua == 50.0


# ---------------------------------------------------------------- calibrated: a network


def _images(n, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, (n, 1, 8, 8)).astype(np.float32)


def test_range_calibration_inputs_counts_and_full_scales(tiny_cnn):
    net, x = tiny_cnn, _images(40)
    chip = override(_chip(5, "calibrated"), "core.adc_range_calibration_mvms", 24)
    m = map_workload(net.lowered(), chip, replicate=True)
    assert max(ly.replicas for ly in m.layers) > 1  # copies calibrate on their own bands
    inst = ChipInstance(net, m, chip, np.random.default_rng(0), np.random.default_rng(1),
                        calibration_inputs=x)
    used = np.zeros(chip.n_cores, bool)
    used[[b.core for b in m.blocks]] = True
    assert np.all(inst.range_calibration_mvms[used] == 24)
    assert not inst.range_calibration_mvms[~used].any()
    assert inst.range_calibration_mvms.sum() == m.cores_used * 24
    fs = inst.adc_full_scale_ua
    assert np.all(fs[used] > 0) and np.all(fs[used] <= chip.core.adc_full_scale_ua)
    assert not fs[~used].any() and len(set(fs[used])) > 1
    # conv0's inputs: evenly spaced (image, pixel) vectors of its replica's band, as codes
    n_rep = m.layer("conv0").replicas
    cols = im2col(x, (3, 3), (1, 1), (1, 1)).reshape(-1, 9)
    pixel = np.tile(np.arange(64), len(x))
    band = inst._replica_of("conv0", pixel, n_rep)
    s_in = inst.scales[0]["input"]
    for r in range(n_rep):
        sel = np.flatnonzero(band == r)
        idx = sel[(2 * np.arange(24) + 1) * len(sel) // 48]
        ref = np.clip(np.rint(cols[idx] / np.float32(s_in)), -INT8_LEVELS, INT8_LEVELS)
        np.testing.assert_array_equal(inst.range_codes[("conv0", r)], ref)
    # each block's full scale is the percentile of its own calibration currents
    for layer, reps in inst._blocks.items():
        for r, blocks in enumerate(reps):
            for b in blocks:
                codes = inst.range_codes[(layer, r)][:, b.rows[0]:b.rows[1]]
                i = b.inst.line_currents(codes, b.inst.read_state(0.0))
                assert b.inst.adc_full_scale_ua == calibrated_full_scale(i, chip.core)
                assert fs[b.core_id] == b.inst.adc_full_scale_ua


def _agreement(out, ref_labels):
    return "top1", 100.0 * float(np.mean(out.argmax(-1) == ref_labels))


@pytest.mark.parametrize("bits", [4, 5])
def test_calibrated_range_is_no_worse_than_fixed_on_a_small_network(bits, tiny_cnn):
    """Agreement with the float network's own top-1 on 3 chip instances (seeded)."""
    net = tiny_cnn
    x, calib = _images(300, seed=3), _images(50, seed=4)
    labels = forward(net, x).argmax(-1)
    res = {}
    for mode in (AdcRange.FIXED, AdcRange.CALIBRATED):
        chip = _chip(bits, mode.value)
        m = map_workload(net.lowered(), chip)
        res[mode] = chip_accuracy(net, m, chip, x, labels, _agreement, instances=3, seed=7,
                                  calibration_inputs=calib, batch=150)
    fixed, cal = res[AdcRange.FIXED], res[AdcRange.CALIBRATED]
    assert cal.chip_ci95[1] >= fixed.chip_mean and cal.chip_mean >= fixed.chip_ci95[0]
    assert cal.range_calibration_mvms_per_core == tuple(
        hermes().core.adc_range_calibration_mvms * (v > 0) for v in cal.mvms_per_core)
    assert sum(fixed.range_calibration_mvms_per_core) == 0
    assert len(cal.adc_full_scale_ua_per_core) == 3
    assert all(max(v) <= 50.0 for v in cal.adc_full_scale_ua_per_core)
    assert fixed.adc_full_scale_ua_per_core[0] == tuple(
        50.0 * (v > 0) for v in fixed.mvms_per_core)
    d = cal.to_dict()
    assert d["adc_full_scale_ua_per_core"][0] == list(cal.adc_full_scale_ua_per_core[0])
