"""The saturation screen of a core's MVM (``CoreInstance._may_saturate``): exact, tight.

A vector that the screen does not flag is read as one signed product, without clipping, so
the screen must flag every vector that drives some line of some read phase to ``i_sat_ua``
(a miss would be a wrong result; a false flag only costs the phase-wise read). The brute
force below forms every line current of every phase in float64 (4-ph: each input sign ×
polarity phase of each column; 1-ph: each polarity's line carrying both pulse signs).
"""

import dataclasses
import hashlib

import numpy as np
import pytest

from chipsim.functional import core as core_module
from chipsim.functional.core import CoreReadState, ReadNoise, program_core
from chipsim.kernels import duty_square, pwm_quantize
from chipsim.spec import ReadMode, hermes, override

LEVELS = 127


def _ordered_matmul(a, b, out=None):
    """``a @ b`` in float32 summed over the inner index in order, one rounding per step
    (NumPy's element-wise multiply and add): the same bits on any machine, and a row's
    result independent of the other rows, as BLAS does not guarantee."""
    b2 = b[:, None] if b.ndim == 1 else b
    acc = np.zeros((a.shape[0], b2.shape[1]), dtype=np.float32)
    for k in range(a.shape[1]):
        acc += a[:, k, None] * b2[k]
    acc = acc[:, 0] if b.ndim == 1 else acc
    if out is None:
        return acc
    out[...] = acc
    return out


@pytest.fixture(params=["exact", "blas"])
def products(request, monkeypatch):
    """The test with each way of forming the read's products (``core.exact_products``):
    exact, whose screen is the norm and row bounds (``_norm_screen``), and float32 BLAS,
    whose screen is all four bounds of ``_may_saturate``."""
    monkeypatch.setenv("CHIPSIM_PRODUCTS", request.param)
    return request.param


@pytest.fixture
def blas(monkeypatch):
    """The read's products by float32 BLAS, the screen ``_may_saturate``."""
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "blas")


@pytest.fixture
def ordered_products(monkeypatch):
    """Every array product of a core's read summed in a fixed order (the screen's and the
    read-out's logic under test, not the BLAS's rounding)."""
    monkeypatch.setattr(core_module, "_matmul", _ordered_matmul)


def _chip(mode="4ph", **overrides):
    chip = override(hermes(), "core.read_mode", mode)
    for key, value in overrides.items():
        chip = override(chip, key.replace("__", "."), value)
    return chip


def _lines(inst, codes, state):
    """Every line current (µA, float64) of every read phase: (lines, batch, cols)."""
    core = inst.core
    u = codes.astype(np.float64) / core.input_levels
    up, un = np.maximum(u, 0.0), np.maximum(-u, 0.0)
    g = state.g.astype(np.float64)
    gn = state.g_neg_read.astype(np.float64)
    if core.read_mode is ReadMode.ONE_PHASE:  # both pulse signs on a polarity's line at once
        lines = [up @ g[0] - un @ gn[0], up @ g[1] - un @ gn[1]]
    else:  # each input sign × polarity in its own phase
        lines = [up @ g[0], up @ g[1], un @ g[0], un @ g[1]]
    return core.v_read_v * np.stack(lines)


def _peak(inst, codes, state):
    """Largest |line current| (µA) of each vector over its phases and columns."""
    return np.abs(_lines(inst, codes, state)).max(axis=(0, 2))


def _flags(inst, codes, state):
    """The screen's verdict per vector (bool, (batch,)), as the read takes it."""
    risky = inst._screen(inst._inputs(codes), state)
    return np.zeros(len(codes), dtype=bool) if risky is None else risky


def _with_i_sat(inst, i_sat):
    """``inst`` with its lines saturating at ``i_sat`` µA (the ADC's range, which the screen
    does not read, kept within the spec's 64 × i_sat)."""
    core = dataclasses.replace(inst.core, i_sat_ua=float(i_sat),
                               adc_full_scale_ua=min(inst.core.adc_full_scale_ua, 64 * i_sat))
    return dataclasses.replace(inst, core=core)


def _assert_no_miss(inst, codes, state, label=""):
    """At several saturation currents around the batch's own peaks (some exactly at a
    vector's peak), every vector whose peak reaches i_sat is flagged."""
    peak = _peak(inst, codes, state)
    targets = np.quantile(peak, [0.0, 0.1, 0.5, 0.9, 1.0])
    targets = np.concatenate([targets, targets * (1 + 1e-6), targets * (1 - 1e-6)])
    # and padded with zero inputs (a vector's verdict is its own, whatever the batch)
    padded = np.concatenate([codes, np.zeros((len(codes) + 1, codes.shape[1]), codes.dtype)])
    for i_sat in targets[targets > 0]:
        probe = _with_i_sat(inst, i_sat)
        for batch in (codes, padded):
            flags = _flags(probe, batch, state)[:len(codes)]
            missed = (peak >= i_sat) & ~flags
            assert not missed.any(), (label, i_sat, np.flatnonzero(missed))


def _random_weights(rng, rows, cols, kind):
    if kind == "uniform":
        return rng.uniform(-1, 1, size=(rows, cols))
    if kind == "sparse":
        return rng.standard_t(2, size=(rows, cols)) * (rng.random((rows, cols)) < 0.2)
    if kind == "positive":
        return rng.uniform(0.2, 1, size=(rows, cols))
    w = rng.normal(size=(rows, cols))  # "columns": a few heavy columns of one sign
    w[:, rng.choice(cols, size=max(cols // 8, 1), replace=False)] = 3.0
    return w


def _random_codes(rng, batch, rows, signed):
    scale = rng.uniform(0, 1, size=(batch, 1)) ** 0.5
    x = rng.uniform(-1 if signed else 0, 1, size=(batch, rows)) * scale
    x *= rng.random((batch, rows)) < rng.uniform(0.1, 1, size=(batch, 1))  # varied density
    return pwm_quantize(x.astype(np.float32), 1.0, LEVELS)


CONDUCTANCE_STATES = [  # (weights, rows, cols, t_s, chip overrides)
    ("uniform", 256, 256, 3600.0, {}),
    ("sparse", 256, 64, 0.0, {}),
    ("positive", 200, 48, 86400.0, {"core__devices_per_polarity": 1}),
    ("columns", 256, 32, 60.0, {"device__model": "pcm_like"}),
    ("uniform", 96, 128, 3.15e7, {"faults__stuck_fraction": 0.2,
                                  "faults__stuck_at_gmax_share": 1.0}),
    ("sparse", 256, 40, 3600.0, {"core__one_phase_asymmetry_mean": -0.5,
                                 "core__one_phase_asymmetry_std": 0.5}),  # negative 1-ph reads
]


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("case", range(len(CONDUCTANCE_STATES)))
def test_screen_never_misses_on_random_inputs(mode, signed, case, products):
    kind, rows, cols, t_s, extra = CONDUCTANCE_STATES[case]
    rng = np.random.default_rng(10 + case)
    inst = program_core(_random_weights(rng, rows, cols, kind), _chip(mode, **extra),
                        np.random.default_rng(20 + case))
    state = inst.read_state(t_s)
    codes = _random_codes(rng, 300, rows, signed)
    _assert_no_miss(inst, codes, state, (mode, signed, case))


def test_negative_one_phase_reads_use_the_summed_bound():
    """An asymmetry below −1 makes some negative-voltage reads negative: a 1-ph line then
    carries p+ + |p−|, up to twice the larger of the two, and the screen adds the two bounds
    instead of taking their max. Adversarial: one column, negative pulses on every row whose
    read at negative voltage is negative, positive pulses on just enough other rows that
    p+ ≈ |p−| (and on fewer and more rows)."""
    rng = np.random.default_rng(0)
    inst = program_core(rng.uniform(0.5, 1, (256, 1)),
                        _chip("1ph", core__one_phase_asymmetry_mean=-0.5,
                              core__one_phase_asymmetry_std=0.5), np.random.default_rng(1))
    state = inst.read_state(0.0)
    assert not state.reads_nonneg and state.line_max_ua == np.inf
    g0, gn0 = state.g[0][:, 0], state.g_neg_read[0][:, 0]
    neg_rows, pos_rows = np.flatnonzero(gn0 < 0), np.flatnonzero(gn0 >= 0)
    k = int(np.searchsorted(np.cumsum(g0[pos_rows]), -gn0[neg_rows].sum()))
    assert len(neg_rows) > 10 and 0 < k < len(pos_rows)
    codes = np.zeros((7, 256), dtype=np.int16)
    for i, kk in enumerate((k - 3, k - 1, k, k + 1, k + 3, k // 2, 2 * k)):
        codes[i, pos_rows[:kk]] = LEVELS
        codes[i, neg_rows] = -LEVELS
    _assert_no_miss(inst, codes, state)


def test_negative_one_phase_reads_scale_the_norm_bound():
    """The norm bound when some negative-voltage reads are negative: a 1-ph line then carries
    ``u_pos @ g + |u_neg @ g_neg_read|`` of two currents each up to its input part's norm
    times a column norm, ``(‖u_pos‖ + ‖u_neg‖) · col_norm_max`` <= ``√2 ‖u‖ ·
    col_norm_max``. A designed state (no device gives it: the test is of the bound's
    algebra) where the line reaches that: positive pulses on the rows read at positive
    voltage, negative pulses on the rows whose negative-voltage read is negative."""
    rows = 128
    g = np.zeros((2, rows, 1))
    gn = np.zeros((2, rows, 1))
    g[0, : rows // 2, 0] = 10.0
    gn[0, rows // 2:, 0] = -10.0
    state = CoreReadState.of(0.0, g, gn, np.zeros((rows, 1)), one_phase=True, v_read_v=0.2)
    assert not state.reads_nonneg
    inst = program_core(np.ones((rows, 1)), _chip("1ph"), np.random.default_rng(0))
    codes = np.full((1, rows), LEVELS, dtype=np.int16)
    codes[0, rows // 2:] = -LEVELS
    peak = _peak(inst, codes, state)[0]  # 0.2 · (64 · 10 + 64 · 10) µA = 256 µA
    norm_bound = 0.2 * np.sqrt(rows) * state.col_norm_max  # √2 · 128 µA: less than the peak
    assert peak == pytest.approx(256.0) and norm_bound < peak
    _assert_no_miss(inst, codes, state)


def _adversarial_codes(inst, state):
    """Inputs built to saturate: full-scale pulses on each column's heaviest rows (for every
    phase, the k heaviest rows for every k), single hot rows of both signs, all-max codes of
    random signs, and 1-ph lines where the other pulse sign is placed on the lightest rows
    (the line carries the difference)."""
    rows, cols = state.g_diff.shape
    rng = np.random.default_rng(5)
    one_phase = inst.core.read_mode is ReadMode.ONE_PHASE
    out = []
    for c in rng.choice(cols, size=min(cols, 4), replace=False):
        for sign, reads in ((1, state.g), (-1, state.g_neg_read if one_phase else state.g)):
            for p in (0, 1):
                order = np.argsort(-reads[p][:, c])
                for k in range(1, rows + 1, max(rows // 32, 1)):
                    code = np.zeros(rows, dtype=np.int16)
                    code[order[:k]] = sign * LEVELS
                    out.append(code)
                    if one_phase:  # the opposite sign on the rows that read least
                        other = np.argsort(reads[p][:, c] if sign > 0 else state.g[p][:, c])
                        code = code.copy()
                        free = [r for r in other[: rows // 2] if code[r] == 0]
                        code[free] = -sign * LEVELS
                        out.append(code)
    # the Cauchy–Schwarz bound's equality case: inputs proportional to a column (of the
    # largest norm, and of others) of a matrix a pulse sign reads
    for sign, reads in ((1, state.g), (-1, state.g_neg_read if one_phase else state.g)):
        for p in (0, 1):
            g = np.abs(reads[p].astype(np.float64))
            for c in {int(np.argmax((g * g).sum(axis=0))), *rng.choice(cols, size=2)}:
                col = g[:, c] / (g[:, c].max() or 1.0)
                out.append((sign * np.rint(col * LEVELS)).astype(np.int16))
    eye = np.eye(rows, dtype=np.int16) * LEVELS
    out.extend(eye)
    out.extend(-eye)
    out.extend(rng.choice(np.array([-LEVELS, LEVELS], dtype=np.int16), size=(32, rows)))
    out.append(np.full(rows, LEVELS, dtype=np.int16))
    out.append(np.full(rows, -LEVELS, dtype=np.int16))
    return np.array(out, dtype=np.int16)


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize("case", range(len(CONDUCTANCE_STATES)))
def test_screen_never_misses_on_adversarial_inputs(mode, case, products):
    kind, rows, cols, t_s, extra = CONDUCTANCE_STATES[case]
    rng = np.random.default_rng(30 + case)
    inst = program_core(_random_weights(rng, rows, cols, kind), _chip(mode, **extra),
                        np.random.default_rng(40 + case))
    state = inst.read_state(t_s)
    codes = _adversarial_codes(inst, state)
    _assert_no_miss(inst, codes, state, (mode, case))
    # a single hot row saturates only when one cross point's current reaches i_sat
    single = _peak(inst, np.eye(rows, dtype=np.int16) * LEVELS, state)
    _assert_no_miss(_with_i_sat(inst, np.sort(single)[-3]),
                    np.eye(rows, dtype=np.int16) * LEVELS, state, "single hot rows")


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
def test_line_currents_match_brute_force_clipping(mode, products):
    """End to end: each vector's line currents (the read phases clipped and combined) equal
    the float64 brute force, for adversarial inputs at a saturation current that about half
    of them reach."""
    rng = np.random.default_rng(3)
    inst = program_core(rng.uniform(-1, 1, (128, 24)), _chip(mode), np.random.default_rng(4))
    state = inst.read_state(3600.0)
    codes = _adversarial_codes(inst, state)
    codes = codes[rng.choice(len(codes), size=120, replace=False)]
    i_sat = float(np.median(_peak(inst, codes, state)))
    inst = _with_i_sat(inst, i_sat)
    clipped = np.clip(_lines(inst, codes, state), -i_sat, i_sat)
    if mode == "1ph":
        want = clipped[0] - clipped[1]
    else:
        want = clipped[0] - clipped[1] - clipped[2] + clipped[3]
    got = np.concatenate([inst.line_currents(codes[b:b + 1], state) for b in range(len(codes))])
    assert np.allclose(got, want, rtol=1e-4, atol=1e-4 * i_sat)


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize("signed", [True, False])
def test_split_read_equals_phase_wise_read_of_the_flagged_vectors(mode, signed, products,
                                                                   ordered_products):
    """The flagged vectors get exactly the counts of the phase-wise read of the whole batch;
    the others (no line saturates) differ from it by float32 summation order only."""
    rng = np.random.default_rng(6)
    inst = program_core(rng.uniform(-1, 1, (256, 64)), _chip(mode), np.random.default_rng(7))
    state = inst.read_state(60.0)
    codes = _random_codes(rng, 200, 256, signed)
    flags = _flags(inst, codes, state)
    assert 0 < flags.sum() < len(flags)
    split = inst.mvm_counts(codes, state, np.random.default_rng(8))
    huge = dataclasses.replace(state, line_max_ua=np.inf, col_norm_max=1e30,
                               row_max_g=np.full_like(state.row_max_g, 1e30),
                               **{name: np.full_like(getattr(state, name), 1e30)
                                  for name in ("col_max_pos", "group_max_pos",
                                               "group_max_neg")})
    assert _flags(inst, codes, huge).all()
    whole = inst.mvm_counts(codes, huge, np.random.default_rng(8))
    assert np.array_equal(split[flags], whole[flags])
    assert np.abs(split.astype(int) - whole).max() <= 1


def test_norm_bound_clears_dense_inputs_that_the_row_bound_flags(products):
    """Zero-mean weights (most of a column's conductance in few devices) and dense, moderate
    inputs, as a CNN's layers have them: ``|u| @ row_max_g`` sums each row's largest
    conductance and flags most vectors, ``‖u‖ · col_norm_max`` clears them; none of the
    cleared vectors reaches i_sat."""
    rng = np.random.default_rng(14)
    inst = program_core(rng.normal(size=(256, 128)), _chip("4ph"), np.random.default_rng(15))
    state = inst.read_state(3600.0)
    x = np.abs(rng.normal(0, 0.35, size=(300, 256))).astype(np.float32)
    codes = pwm_quantize(np.minimum(x, 1.0), 1.0, LEVELS)
    u_pos, _, u_sq, _ = duty_square(codes, LEVELS)
    i_sat = inst.core.i_sat_ua
    v = np.float32(inst.core.v_read_v)
    row = (u_pos @ state.row_max_g) * v >= np.float32(i_sat * 0.999)
    norm = np.sqrt(u_sq.sum(axis=1, dtype=np.float64)) * inst.core.v_read_v * state.col_norm_max
    assert row.mean() > 0.5 and (norm < i_sat * 0.999).mean() > 0.9
    flags = _flags(inst, codes, state)
    assert flags.sum() <= (norm >= i_sat * 0.999).sum()
    assert (_peak(inst, codes, state)[~flags] < i_sat).all()


def test_screen_is_tight_and_never_looser_than_the_row_bound(blas):
    """One polarity programmed (the other holds programming noise only) and inputs >= 0: the
    per-column bound is the phase current itself, so a flagged vector's peak is within 2 %
    of i_sat; and the screen flags no vector that the former row bound
    ``v_read · |u| @ max(g, g_neg_read)`` would have cleared."""
    rng = np.random.default_rng(11)
    inst = program_core(rng.uniform(0.3, 1, (256, 64)), _chip("4ph"), np.random.default_rng(12))
    state = inst.read_state(3600.0)
    codes = _random_codes(rng, 400, 256, signed=False)
    peak = _peak(inst, codes, state)
    inst = _with_i_sat(inst, np.quantile(peak, 0.7))
    flags = _flags(inst, codes, state)
    assert flags.any() and (peak[flags] >= 0.98 * inst.core.i_sat_ua).all()
    for mode, signed in (("1ph", True), ("4ph", True), ("1ph", False)):
        other = program_core(rng.uniform(-1, 1, (256, 64)), _chip(mode),
                             np.random.default_rng(13))
        st = other.read_state(60.0)
        codes = _random_codes(rng, 300, 256, signed)
        u = np.abs(codes.astype(np.float32) / LEVELS)
        old_row_max = np.maximum(st.g, st.g_neg_read).max(axis=(0, 2))
        old = (u @ old_row_max) * np.float32(0.2) >= np.float32(other.core.i_sat_ua * 0.999)
        new = _flags(other, codes, st)
        assert not (new & ~old).any()
        assert new.sum() < old.sum()


# The counts (sha256 of the little-endian int32 counts, first 16 hex digits) recorded when the
# read noise moved to the counter-based draws of chipsim.kernels.normal (the fused read-out):
# any later change of the screen or of the read-out must leave them as they are. (Before
# that, the same test held the NumPy-generator counts of the phase-wise read across the
# screen's per-column bound; the fused kernel was checked against that formulation with the
# same draws, tests/functional/test_core.py.) One case changed since, on purpose: the
# per-column bound now runs for every flagged vector without negative inputs and for no
# other (it ran for a whole batch or for none, by the share of the batch left), so in
# 1ph-w0-t3600-mixed a signed vector is read phase by phase: 1 of its 24,576 counts moved
# by 1 (was 804b9be2b78ad79b). Since then the products are summed in a fixed order
# (``ordered_products``): recorded with OpenBLAS's AVX-512 kernels, the counts on its AVX2
# kernels differed in two cases, which no change of ours explained; in order, 35 of the 36
# digests are the AVX-512 ones, and 1ph-w0-t0-signed (was 00b1f39fadaa3764) has its own.
GOLDEN = {
    "4ph-w0-t0-signed": "3ef8066051fc541d", "4ph-w0-t0-relu": "5089b25912b787ab",
    "4ph-w0-t0-mixed": "b12034872de2bd27", "4ph-w0-t3600-signed": "3557831472bb497c",
    "4ph-w0-t3600-relu": "d2eee8feb4df8b4d", "4ph-w0-t3600-mixed": "6c119640d7b67141",
    "4ph-w1-t0-signed": "5e62f99ec981500e", "4ph-w1-t0-relu": "587d5362008272f2",
    "4ph-w1-t0-mixed": "62ffd80fc6570cad", "4ph-w1-t3600-signed": "06497307ed93f2bc",
    "4ph-w1-t3600-relu": "e8a04218b6198c75", "4ph-w1-t3600-mixed": "716ae5e5f81d1fcb",
    "4ph-w2-t0-signed": "9e07c4440596d109", "4ph-w2-t0-relu": "5ac8be57eb0ae940",
    "4ph-w2-t0-mixed": "d7536d1889692c77", "4ph-w2-t3600-signed": "2dff166ac89363b2",
    "4ph-w2-t3600-relu": "144482ccaf5e9b5f", "4ph-w2-t3600-mixed": "2ce877c7b06fa4b8",
    "1ph-w0-t0-signed": "8d12d5065e1fe23b", "1ph-w0-t0-relu": "5089b25912b787ab",
    "1ph-w0-t0-mixed": "098f7bb93bcc9d8c", "1ph-w0-t3600-signed": "454d9abbae036010",
    "1ph-w0-t3600-relu": "d2eee8feb4df8b4d", "1ph-w0-t3600-mixed": "d7f74ba26cba94e0",
    "1ph-w1-t0-signed": "e2f804032807b741", "1ph-w1-t0-relu": "587d5362008272f2",
    "1ph-w1-t0-mixed": "81796db7458f7035", "1ph-w1-t3600-signed": "3c3ba97ba50703ac",
    "1ph-w1-t3600-relu": "e8a04218b6198c75", "1ph-w1-t3600-mixed": "1a2bd9463666d94d",
    "1ph-w2-t0-signed": "6d4a127c211bd7c7", "1ph-w2-t0-relu": "5ac8be57eb0ae940",
    "1ph-w2-t0-mixed": "837ea8bf610f8144", "1ph-w2-t3600-signed": "be1711ecb7e4dad7",
    "1ph-w2-t3600-relu": "144482ccaf5e9b5f", "1ph-w2-t3600-mixed": "f0d25be7c37fe342",
}


# The same cases' counts with the exact products (fixed point, the screen's norm and
# row bounds), recorded when they came: 6 of the 599,040 counts differ from the float32 BLAS
# read's above, each by 1, in the five cases below (1ph-w0-t0-signed: 2); the other 31 are
# GOLDEN's. Exact sums: the same bits on any machine.
GOLDEN_EXACT = {**GOLDEN,
                "4ph-w0-t0-signed": "f61282c8de95d1cc",
                "4ph-w0-t0-mixed": "b3cefd90c8b80814",
                "1ph-w0-t0-signed": "14f9bdc16b9750ea",
                "1ph-w0-t3600-mixed": "804b9be2b78ad79b",
                "1ph-w2-t3600-signed": "3f1fc9d49a13dadc"}


def _golden_cases():
    for mode in ("4ph", "1ph"):
        chip = hermes() if mode == "4ph" else override(hermes(), "core.read_mode", "1ph")
        for wseed, (rows, cols) in ((0, (256, 256)), (1, (256, 64)), (2, (120, 200))):
            rng = np.random.default_rng(100 + wseed)
            w = rng.uniform(-1, 1, size=(rows, cols))
            w[:, ::3] *= 0.1
            inst = program_core(w, chip, np.random.default_rng(wseed))
            for t in (0.0, 3600.0):
                state = inst.read_state(t)
                for kind in ("signed", "relu", "mixed"):
                    r = np.random.default_rng(7 + wseed)
                    if kind == "signed":
                        x = r.uniform(-1, 1, size=(96, rows))
                    elif kind == "relu":
                        x = np.maximum(r.normal(0, 0.5, size=(96, rows)), 0)
                    else:
                        x = (r.uniform(-1, 1, size=(96, rows))
                             * r.uniform(0, 1, size=(96, 1)) ** 2)
                    codes = pwm_quantize(x.astype(np.float32), 1.0, LEVELS)
                    yield (f"{mode}-w{wseed}-t{int(t)}-{kind}", inst, codes, state,
                           inst.mvm_counts(codes, state, np.random.default_rng(5)))


def test_counts_equal_the_golden_counts(products, ordered_products):
    golden = GOLDEN_EXACT if products == "exact" else GOLDEN
    seen = set()
    for name, *_, counts in _golden_cases():
        seen.add(name)
        digest = hashlib.sha256(np.ascontiguousarray(counts, dtype="<i4").tobytes())
        assert digest.hexdigest()[:16] == golden[name], name
    assert seen == set(golden)


@pytest.mark.parametrize("signed", [True, False])
def test_a_vectors_read_does_not_depend_on_its_batch(signed, products):
    """Uniform weights at full scale: the lines can saturate and the row and group bounds
    flag most vectors, so the per-column bound decides the read path (one signed product,
    or phase by phase: different rounding) of those without negative inputs. A vector's
    flag and counts are the same alone, in a batch of vectors near saturation, and padded
    among zero inputs (they were not when the per-column bound ran only for a batch mostly
    cleared before it)."""
    rng = np.random.default_rng(3)
    inst = program_core(rng.uniform(-1, 1, (256, 256)), _chip(), np.random.default_rng(4))
    state = inst.read_state(3600.0)
    assert state.line_max_ua > inst.core.i_sat_ua
    codes = _random_codes(rng, 256, 256, signed)
    flags = _flags(inst, codes, state)
    assert 0 < flags.sum() < len(codes)  # both read paths occur
    padded = np.concatenate([codes, np.zeros((3 * len(codes), 256), codes.dtype)])
    assert (_flags(inst, padded, state)[:len(codes)] == flags).all()
    alone = np.concatenate([_flags(inst, codes[i:i + 1], state) for i in range(len(codes))])
    assert (alone == flags).all()
    key = 11
    counts = inst.mvm_counts(codes, state, ReadNoise(key, np.arange(len(codes))))
    halves = [inst.mvm_counts(codes[sel], state, ReadNoise(key, sel))
              for sel in (np.flatnonzero(flags), np.flatnonzero(~flags))]
    mixed = np.empty_like(counts)
    mixed[flags], mixed[~flags] = halves
    assert (mixed == counts).all()
    big = inst.mvm_counts(padded, state, ReadNoise(key, np.arange(len(padded))))
    assert (big[:len(codes)] == counts).all()
    for i in range(0, len(codes), 7):
        alone = inst.mvm_counts(codes[i:i + 1], state, ReadNoise(key, [i]))
        assert (alone[0] == counts[i]).all()
