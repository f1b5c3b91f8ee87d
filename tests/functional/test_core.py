"""The programmed core: conductance mapping, noise-free exactness, GDC, input checks."""

import dataclasses

import numpy as np
import pytest

from chipsim.errors import ChipsimError
from chipsim.functional.core import exact_products, products_method, program_core
from chipsim.kernels import pwm_quantize
from chipsim.kernels.fixedmm import amx_available
from chipsim.spec import DeviceModel, hermes, override


def _ideal_chip(adc_bits=14, mode="4ph", devices=2, model="hermes"):
    """A chip with every noise source and spread off and a fine ADC."""
    chip = hermes()
    for key, value in {
        "device.model": model, "device.prog_noise_scale": 0, "device.read_noise_scale": 0,
        "device.drift_scale": 0, "core.adc_gain_std": 0, "core.adc_offset_std_lsb": 0,
        "core.output_noise_std_fs": 0, "core.one_phase_asymmetry_mean": 0,
        "core.one_phase_asymmetry_std": 0, "core.adc_bits": adc_bits, "core.read_mode": mode,
        "core.devices_per_polarity": devices, "core.adc_full_scale_ua": 400.0,
        "core.i_sat_ua": 1000.0,
    }.items():
        chip = override(chip, key, value)
    return chip


def _data(rng, rows=200, cols=100, batch=64):
    w = rng.uniform(-1, 1, size=(rows, cols))
    x = rng.uniform(-1, 1, size=(batch, rows)).astype(np.float32)
    return w, x


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize(("model", "devices"), [("hermes", 1), ("hermes", 2),
                                                ("pcm_like", 1), ("pcm_like", 2)])
def test_noise_free_core_computes_the_exact_product(mode, model, devices):
    rng = np.random.default_rng(1)
    w, x = _data(rng)
    chip = _ideal_chip(mode=mode, model=model, devices=devices)
    inst = program_core(w, chip, np.random.default_rng(2))
    codes = pwm_quantize(x, 1.0, 127)
    ideal = (codes / 127.0) @ w
    y = inst.mvm(codes, inst.read_state(0.0), np.random.default_rng(3))
    assert y.shape == (64, 100)
    # ADC LSB (400 µA / 8191) in weight units plus FP16 rounding of the LDPU (2**-11 relative)
    lsb = inst.unit_scale()
    err = np.abs(y - ideal)
    assert np.all(err <= 0.5 * lsb + 2**-10 * np.abs(ideal) + 1e-6)


def test_conductance_mapping_per_core():
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.5, 0.5, size=(10, 20))
    w[3, 4] = -0.9  # max |W| is negative: it maps to g_max on the negative device
    chip = _ideal_chip()
    inst = program_core(w, chip, rng)
    assert inst.w_max == pytest.approx(0.9)
    g = inst.g_prog.sum(axis=1)  # (2, rows, cols), noise off
    gmax = inst.device.polarity_g_max_us
    assert g[1, 3, 4] == pytest.approx(gmax)
    np.testing.assert_allclose(g[0] - g[1], w * gmax / 0.9, atol=1e-9)
    assert g.shape == (2, 10, 20)  # only the block: the zero-filled rest is never driven
    assert np.all((g[0] == 0) | (g[1] == 0))  # one polarity per weight


def test_pcm_like_two_devices_split_the_target():
    chip = _ideal_chip(model="pcm_like", devices=2)
    inst = program_core(np.array([[1.0, -0.5]]), chip, np.random.default_rng(0))
    assert inst.g_prog.shape[:2] == (2, 2)
    np.testing.assert_allclose(inst.g_prog[0, :, 0, 0], [12.5, 12.5])
    np.testing.assert_allclose(inst.g_prog[1, :, 0, 1], [6.25, 6.25])


def test_chip_instance_is_persistent_and_seeded():
    w = np.random.default_rng(0).uniform(-1, 1, size=(256, 256))
    a = program_core(w, hermes(), np.random.default_rng(7))
    b = program_core(w, hermes(), np.random.default_rng(7))
    c = program_core(w, hermes(), np.random.default_rng(8))
    assert np.array_equal(a.g_prog, b.g_prog) and np.array_equal(a.nu, b.nu)
    assert not np.array_equal(a.g_prog, c.g_prog)
    # reading does not change the programmed state; read noise differs per MVM
    codes = np.full((4, 256), 50, dtype=np.int16)
    state = a.read_state(3600.0)
    r = np.random.default_rng(0)
    y1, y2 = a.mvm(codes, state, r), a.mvm(codes, state, r)
    assert not np.array_equal(y1, y2)
    assert np.array_equal(a.g_prog, b.g_prog)


def test_drift_lowers_conductance_and_gdc_restores_the_scale():
    w = np.random.default_rng(0).uniform(-1, 1, size=(256, 256))
    inst = program_core(w, hermes(), np.random.default_rng(1))
    s0, s1 = inst.read_state(0.0), inst.read_state(86400.0)
    assert s1.g.sum() < 0.8 * s0.g.sum()
    factor = inst.gdc_factor(s1, np.random.default_rng(2))
    assert 1.2 < factor < 1.6  # ((86400+300)/300)^0.06 ≈ 1.4
    assert inst.calibration_mvms == hermes().core.gdc_calibration_mvms


@pytest.mark.parametrize("bad", [np.full((2, 2), np.nan), np.array([[np.inf]]),
                                 np.zeros((300, 10)), np.zeros((0, 4)), np.zeros(5),
                                 np.array([["a"]]), np.ones((2, 2)) * 1j])
def test_bad_weights_are_rejected(bad):
    with pytest.raises(ChipsimError, match="weights"):
        program_core(bad, hermes(), np.random.default_rng(0))


def test_bad_time_and_inputs_are_rejected():
    inst = program_core(np.eye(3), hermes(), np.random.default_rng(0))
    with pytest.raises(ChipsimError, match="t_s"):
        inst.read_state(-1.0)
    with pytest.raises(ChipsimError, match="codes"):
        inst.mvm(np.zeros((2, 4), dtype=np.int16), inst.read_state(0.0),
                 np.random.default_rng(0))


def test_device_model_is_selectable():
    chip = override(hermes(), "device.model", "pcm_like")
    inst = program_core(np.eye(3), chip, np.random.default_rng(0))
    assert inst.device.model is DeviceModel.PCM_LIKE
    assert dataclasses.replace(chip).device.model is DeviceModel.PCM_LIKE


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
def test_fast_path_equals_phase_by_phase_read(mode):
    """Without reachable saturation the signed sum of phases is one product: same counts."""
    rng = np.random.default_rng(0)
    w, x = _data(rng, rows=64, cols=32)
    chip = override(hermes(), "core.read_mode", mode)
    inst = program_core(w, chip, np.random.default_rng(1))
    codes = pwm_quantize(x, 1.0, 127)
    state = inst.read_state(60.0)
    assert state.line_max_ua < chip.core.i_sat_ua  # 64 rows cannot saturate: fast path
    fast = inst.mvm_counts(codes, state, np.random.default_rng(2))
    slow_state = dataclasses.replace(state, line_max_ua=np.inf)  # force the phase-wise path
    slow = inst.mvm_counts(codes, slow_state, np.random.default_rng(2))
    assert np.abs(fast.astype(int) - slow).max() <= 1  # float32 summation order only


def test_saturation_limits_large_line_currents():
    chip = override(_ideal_chip(), "core.i_sat_ua", 20.0)
    w = np.ones((256, 4))
    inst = program_core(w, chip, np.random.default_rng(0))
    codes = np.full((2, 256), 127, dtype=np.int16)
    y = inst.mvm(codes, inst.read_state(0.0), np.random.default_rng(1))
    # 256 × 20.7 µS × 0.2 V ≈ 1060 µA of line current, clipped at 20 µA
    per_weight_ua = inst.device.polarity_g_max_us * chip.core.v_read_v
    assert np.allclose(y, 20.0 / per_weight_ua, rtol=0.01)


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize("signed", [True, False])
def test_only_vectors_that_may_saturate_are_read_phase_by_phase(mode, signed):
    """A batch of small and full-scale inputs: the bound flags the full-scale ones, every
    vector whose lines do reach i_sat is flagged, and the split read gives the counts of the
    phase-wise read of the whole batch."""
    rng = np.random.default_rng(3)
    chip = override(hermes(), "core.read_mode", mode)
    w = rng.uniform(-1, 1, size=(256, 64))
    inst = program_core(w, chip, np.random.default_rng(1))
    state = inst.read_state(60.0)
    x = rng.uniform(-1 if signed else 0, 1, size=(40, 256)).astype(np.float32)
    x[::2] *= 0.05  # every other vector too small to saturate any line
    codes = pwm_quantize(x, 1.0, 127)
    u = codes.astype(np.float32) / 127
    risky = inst._may_saturate(np.maximum(u, 0), np.maximum(-u, 0) if signed else None, u * u,
                               state)
    assert not risky[::2].any() and risky[1::2].any()
    v = chip.core.v_read_v
    phases = [np.maximum(s * u, 0) @ g for s in (1, -1) for g in (*state.g, *state.g_neg_read)]
    reaches = (v * np.max([p.max(axis=1) for p in phases], axis=0)) >= chip.core.i_sat_ua
    assert reaches.any() and not (reaches & ~risky).any()
    split = inst.mvm_counts(codes, state, np.random.default_rng(2))
    # every bound of the screen made huge: the whole batch is read phase by phase
    huge = {f: np.full_like(getattr(state, f), 1e30) for f in (
        "row_max_g", "col_max_pos", "group_max_pos", "group_max_neg")}
    huge["col_norm_max"] = 1e30
    whole = inst.mvm_counts(codes, dataclasses.replace(state, **huge), np.random.default_rng(2))
    assert np.abs(split.astype(int) - whole).max() <= 1  # float32 summation order only
    assert np.array_equal(split[1::2], whole[1::2])  # the same phase-wise read


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("i_sat", [1e4, 30.0])  # no line can saturate / some lines do
def test_read_equals_the_numpy_formulation_with_the_counter_draws(mode, signed, i_sat,
                                                                   monkeypatch):
    """The fused read-out (products, noise drawn in the kernel, ADC, LDPU) against the NumPy
    formulation of the same chain with the draws of the same positions, bit for bit (float32
    BLAS products)."""
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "blas")
    from chipsim.functional.core import ReadNoise
    from chipsim.kernels import reference

    rng = np.random.default_rng(5)
    w, x = _data(rng, rows=96, cols=40, batch=30)
    if not signed:
        x = np.abs(x)
    chip = override(override(hermes(), "core.read_mode", mode), "core.i_sat_ua", i_sat)
    chip = override(chip, "faults.dead_adc_columns", [[0, 3]])
    inst = program_core(w, chip, np.random.default_rng(1), core_id=0)
    state = inst.read_state(60.0)
    codes = pwm_quantize(x, 1.0, 127)
    noise = ReadNoise(99, rng.permutation(1000)[:30])
    core = chip.core
    u = codes.astype(np.float32) / np.float32(127)
    u_pos, u_neg = np.maximum(u, 0), np.maximum(-u, 0)
    g = state.g_neg_read if mode == "1ph" else state.g
    products = np.stack([u_pos @ state.g[0], u_neg @ g[0], u_pos @ state.g[1], u_neg @ g[1]])
    noise_var = (u_pos * u_pos + u_neg * u_neg) @ state.read_var
    want = reference.noisy_readout(
        products, noise_var, 99, noise.positions, dead=np.arange(40) == 3,
        saturating=True, one_phase=mode == "1ph", v_read_v=core.v_read_v,
        i_sat_ua=core.i_sat_ua, noise_scale=core.v_read_v**2,
        noise_offset=(core.output_noise_std_fs * inst.adc_full_scale_ua) ** 2,
        gain=inst.adc_gain, offset_lsb=inst.adc_offset_lsb,
        full_scale_ua=inst.adc_full_scale_ua, levels=core.adc_levels)
    got = inst.mvm_counts(codes, state, noise)
    # the one-product read of unsaturated vectors sums in another order: a count at most
    assert np.abs(got.astype(int) - want).max() <= (0 if i_sat < 100 else 1)
    assert (got == want).mean() > 0.99
    ldpu = inst.ldpu_params(0.5, 1.1)
    np.testing.assert_array_equal(inst.mvm_ldpu(codes, state, noise, ldpu),
                                  reference.ldpu_affine(got, *ldpu))


@pytest.mark.parametrize("mode", ["1ph", "4ph"])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("i_sat", [1e4, 30.0])  # no line can saturate / every vector may
def test_exact_read_equals_the_numpy_formulation(mode, signed, i_sat, monkeypatch):
    """With exact products the read is the NumPy formulation of its chain on the int64
    products of the state's fixed-point matrices, bit for bit, on either read path."""
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "exact")
    from chipsim.functional.core import ReadNoise
    from chipsim.kernels import reference
    from chipsim.kernels.fixedmm import code_parts, square_parts

    rng = np.random.default_rng(5)
    w, x = _data(rng, rows=96, cols=40, batch=30)
    if not signed:
        x = np.abs(x)
    chip = override(override(hermes(), "core.read_mode", mode), "core.i_sat_ua", i_sat)
    inst = program_core(w, chip, np.random.default_rng(1), core_id=0)
    state = inst.read_state(60.0)
    codes = pwm_quantize(x, 1.0, 127)
    noise = ReadNoise(99, rng.permutation(1000)[:30])
    core = chip.core
    pos, neg, both = code_parts(codes)
    risky = inst._screen(inst._inputs(codes), state)
    saturating = risky is not None
    assert saturating == (i_sat < 100) and (not saturating or risky.all())

    def product(parts, name):
        return reference.fixed_matmul(parts, state.fixed(name), 1 / 127)

    if saturating and signed:
        n0, n1 = ("gn0", "gn1") if mode == "1ph" else ("g0", "g1")
        products = [product(pos, "g0"), product(neg, n0), product(pos, "g1"),
                    product(neg, n1)]
    elif saturating:
        products = [product(pos, "g0"), product(pos, "g1")]
    elif signed and mode == "1ph":
        products = [product(pos, "g_diff"), product(neg, "g_neg_read_diff")]
    else:
        products = [product(both if signed else pos, "g_diff")]
    noise_var = reference.fixed_matmul(square_parts(codes), state.fixed("read_var"), 1 / 127**2)
    want = reference.noisy_readout(
        np.stack(products), noise_var, 99, noise.positions, saturating=saturating,
        one_phase=mode == "1ph", v_read_v=core.v_read_v, i_sat_ua=core.i_sat_ua,
        noise_scale=core.v_read_v**2,
        noise_offset=(core.output_noise_std_fs * inst.adc_full_scale_ua) ** 2,
        gain=inst.adc_gain, offset_lsb=inst.adc_offset_lsb,
        full_scale_ua=inst.adc_full_scale_ua, levels=core.adc_levels)
    np.testing.assert_array_equal(inst.mvm_counts(codes, state, noise), want)


def test_exact_and_blas_reads_differ_by_float32_rounding_only(monkeypatch):
    """The same read with exact and with float32 BLAS products: products within float32
    rounding of each other, counts equal but for a rare rounding-edge count (off by one)."""
    rng = np.random.default_rng(8)
    w, x = _data(rng, rows=256, cols=128, batch=256)
    inst = program_core(w, hermes(), np.random.default_rng(2))
    state = inst.read_state(3600.0)
    codes = pwm_quantize(x, 1.0, 127)
    counts, products = {}, {}
    for choice in ("exact", "blas"):
        monkeypatch.setenv("CHIPSIM_PRODUCTS", choice)
        inp = inst._inputs(codes)
        products[choice] = inst._products(inp, state, True)
        counts[choice] = inst.mvm_counts(codes, state, np.random.default_rng(3))
    scale = np.abs(products["blas"]).max()
    assert np.abs(products["exact"] - products["blas"]).max() <= 256 * 2.0**-24 * scale
    diff = np.abs(counts["exact"].astype(int) - counts["blas"])
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_fixed_point_matrices_of_a_read_state(monkeypatch):
    """The state's fixed-point matrices: one unit for the conductances, a difference the
    difference of its polarities' integers, each within its unit of the float32 matrix; made
    once; a replaced state has its own."""
    rng = np.random.default_rng(4)
    chip = override(hermes(), "core.read_mode", "1ph")
    inst = program_core(rng.uniform(-1, 1, (70, 50)), chip, np.random.default_rng(5))
    state = inst.read_state(60.0)
    fixed = {name: state.fixed(name) for name in state.FIXED}
    assert state.fixed("g0") is fixed["g0"]
    units = {fixed[name].unit for name in fixed if name != "read_var"}
    assert len(units) == 1
    np.testing.assert_array_equal(fixed["g_diff"].q, fixed["g0"].q - fixed["g1"].q)
    np.testing.assert_array_equal(fixed["g_neg_read_diff"].q, fixed["gn0"].q - fixed["gn1"].q)
    for name, fm in fixed.items():
        matrix = state.matrix(name).astype(np.float64)
        bound = fm.unit * (1.0 if name.endswith("_diff") else 0.5)
        assert np.abs(fm.q * fm.unit - matrix).max() <= bound + np.abs(matrix).max() * 2**-23
    fresh = dataclasses.replace(state)
    assert fresh.fixed("g0", keep=False) is not fresh.fixed("g0")  # not kept, then kept
    assert fresh.fixed("g0") is fresh.fixed("g0", keep=False)
    other = dataclasses.replace(state, read_var=state.read_var * 4)
    assert other.fixed("read_var") is not fixed["read_var"]
    np.testing.assert_array_equal(other.fixed("read_var").q, fixed["read_var"].q)
    assert other.fixed("read_var").unit == 4 * fixed["read_var"].unit


def test_products_method_follows_the_environment(monkeypatch):
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "blas")
    assert not exact_products() and products_method() == "float32 BLAS"
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "auto")
    assert exact_products() == amx_available()
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "exact")
    assert exact_products() and products_method().startswith("exact fixed point")
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "fast")
    with pytest.raises(ChipsimError, match="CHIPSIM_PRODUCTS: must be auto, exact or blas"):
        exact_products()


@pytest.mark.parametrize("signed", [False, True])
def test_products_on_a_helper_thread_change_nothing(signed, monkeypatch):
    """A large exact read forms its products on a helper thread: piece by piece beside this
    thread's read-out when every vector takes one read path (all flagged by the saturation
    screen, or none), else its variance product beside the signal's products. The same
    outputs as in line, on either read path, as counts, LDPU values or INT8 partial sums."""
    import numba

    from chipsim.functional import core as core_module
    from chipsim.functional.core import ReadNoise
    from chipsim.kernels.ldpu import accumulate_factor, requantize_factor

    monkeypatch.setenv("CHIPSIM_PRODUCTS", "exact")
    rng = np.random.default_rng(12)
    w, x = _data(rng, rows=256, cols=96, batch=600)
    if not signed:
        x = np.abs(x)
    inst = program_core(w, hermes(), np.random.default_rng(3))
    codes = pwm_quantize(x, 1.0, 127)
    state = inst.read_state(60.0)
    mixed = codes.copy()
    mixed[::3] //= 50
    add = rng.integers(-128, 128, size=(600, 96)).astype(np.int8)
    ldpu = inst.ldpu_params(1.0)
    assert numba.get_num_threads() > 1
    # full scale: every vector flagged; small: none; mixed: some
    for batch in (codes, codes // 50, mixed):
        risky = inst._screen(inst._inputs(batch), state)
        assert risky is None or len(np.unique(risky)) == (2 if batch is mixed else 1)
        outs = []
        for rows in (core_module.OVERLAP_ROWS, 10**9):
            monkeypatch.setattr(core_module, "OVERLAP_ROWS", rows)
            outs.append((inst.mvm(batch, state, ReadNoise(5, np.arange(600))),
                         inst.mvm_counts(batch, state, ReadNoise(6, np.arange(600))),
                         inst.mvm_ldpu(batch, state, ReadNoise(7, np.arange(600)), ldpu,
                                       add=(add, accumulate_factor(0.5)),
                                       requantize=requantize_factor(0.25))))
        for got, want in zip(*outs, strict=True):
            np.testing.assert_array_equal(got, want)


def test_an_error_on_either_thread_is_raised(monkeypatch):
    """An error forming a pipelined read's products reaches the caller (the read-out waiting
    for the pieces does not wait forever), and one on the calling thread too."""
    from chipsim.kernels import fixedmm

    def fail(*args):
        raise ChipsimError("no products")

    monkeypatch.setenv("CHIPSIM_PRODUCTS", "exact")
    rng = np.random.default_rng(13)
    w, x = _data(rng, rows=256, cols=64, batch=300)
    inst = program_core(w, hermes(), np.random.default_rng(3))
    state = inst.read_state(60.0)
    codes = pwm_quantize(np.abs(x) / 50, 1.0, 127)
    want = inst.mvm(codes, state, np.random.default_rng(1))
    with monkeypatch.context() as patch:
        patch.setattr(fixedmm, "_check_rows", fail)  # called with or without AMX
        with pytest.raises(ChipsimError, match="no products"):
            inst.mvm(codes, state, np.random.default_rng(1))
    # an error on this thread while the helper waits for the screen's verdict: the helper
    # is released (the next read does not wait for it forever)
    with monkeypatch.context() as patch:
        patch.setattr(type(inst), "_screen", fail)
        with pytest.raises(ChipsimError, match="no products"):
            inst.mvm(codes, state, np.random.default_rng(1))
    np.testing.assert_array_equal(inst.mvm(codes, state, np.random.default_rng(1)), want)
