"""combine_phases and analog_readout against their NumPy references; saturation in both read
modes."""

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipsim.kernels import analog_readout, combine_phases, noisy_readout, reference

from ._kernel_strategies import SETTINGS, log_uniform, rng_of, seeds, shapes2d


@SETTINGS
@given(shape=shapes2d, seed=seeds, one_phase=st.booleans(),
       i_sat=st.floats(1e-3, 1e4, allow_nan=False), mode=st.sampled_from(["uniform", "log"]))
def test_combine_phases_matches_reference(shape, seed, one_phase, i_sat, mode):
    rng = rng_of(seed)
    if mode == "uniform":  # around the saturation current, so some lines saturate
        p = rng.uniform(0.0, 2.5 * i_sat, size=(4, *shape))
    else:
        p = log_uniform(rng, (4, *shape), -40, 40)
    p = p.astype(np.float32)
    got = combine_phases(p, one_phase, i_sat)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_array_equal(got, reference.combine_phases(p, one_phase, i_sat))


def _products(p0, p1, p2, p3):
    return np.array([p0, p1, p2, p3], dtype=np.float32).reshape(4, 1, -1)


@pytest.mark.parametrize(
    ("p", "four_phase", "one_phase"),
    [
        ((20, 10, 5, 1), 6, 6),  # nothing saturates: both modes agree
        ((150, 60, 0, 0), 40, 90),  # 4-ph clips p0 alone; 1-ph line current 90 is in range
        ((250, 60, 0, 0), 40, 100),  # 1-ph positive line saturates
        ((0, 0, 30, 180), 70, 100),  # 4-ph clips p3 to 100; 1-ph negative line -150 -> -100
        ((130, 0, 120, 0), 0, 0),  # both lines saturate equally
        ((-150, 0, 0, 0), -100, -100),  # symmetric clip
    ],
)
def test_saturation_in_both_modes(p, four_phase, one_phase):
    products = _products(*p)
    assert combine_phases(products, False, 100.0)[0, 0] == four_phase
    assert combine_phases(products, np.True_, 100.0)[0, 0] == one_phase


def test_float64_non_contiguous_and_empty_inputs():
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 200, size=(4, 10, 6))
    view = p[:, ::2, ::-1]  # float64 and strided: converted to float32 C order
    want = reference.combine_phases(np.ascontiguousarray(view, dtype=np.float32), False, 150.0)
    np.testing.assert_array_equal(combine_phases(view, False, 150.0), want)
    assert combine_phases(np.zeros((4, 0, 3)), True, 1.0).shape == (0, 3)


def _readout_inputs(rng, shape, n_prod, i_sat):
    p = rng.uniform(0.0, 3.0 * i_sat, size=(n_prod, *shape)).astype(np.float32)
    var = rng.uniform(0.0, 10.0, size=shape).astype(np.float32)
    z = rng.standard_normal(shape, dtype=np.float32)
    # float32, as the core model holds them (the kernels take float32; the reference rounds
    # nothing, so float64 values would differ in a count now and then)
    gain = rng.uniform(0.9, 1.1, size=shape[1]).astype(np.float32)
    offset = rng.normal(0.0, 1.0, size=shape[1]).astype(np.float32)
    return p, var, z, gain, offset


@SETTINGS
@given(shape=shapes2d, seed=seeds, n_prod=st.sampled_from([1, 2, 4]),
       saturating=st.booleans(), one_phase=st.booleans(),
       v=st.floats(0.05, 2.0), i_sat=st.floats(1.0, 500.0), levels=st.sampled_from([7, 127]))
def test_analog_readout_matches_reference(shape, seed, n_prod, saturating, one_phase, v, i_sat,
                                          levels):
    rng = rng_of(seed)
    p, var, z, gain, offset = _readout_inputs(rng, shape, n_prod, i_sat)
    kw = dict(saturating=saturating, one_phase=one_phase, v_read_v=v, i_sat_ua=i_sat,
              noise_scale=v * v, noise_offset=0.01, gain=gain, offset_lsb=offset,
              full_scale_ua=i_sat / 2, levels=levels)
    got = analog_readout(p, var, z, **kw)
    assert got.dtype == np.int32 and got.shape == shape
    want = reference.analog_readout(p, var, z, **{**kw, "gain": gain.astype(np.float32),
                                                  "offset_lsb": offset.astype(np.float32)})
    np.testing.assert_array_equal(got, want)


def test_analog_readout_paths_on_one_column():
    one = np.ones((1, 1), np.float32)
    zero = np.zeros((1, 1), np.float32)

    def read(p, saturating=False, one_phase=False):
        return int(analog_readout(np.array(p, np.float32).reshape(-1, 1, 1), zero, zero,
                                  saturating=saturating, one_phase=one_phase, v_read_v=1.0,
                                  i_sat_ua=100.0, noise_scale=0.0, noise_offset=0.0,
                                  gain=np.ones(1), offset_lsb=np.zeros(1), full_scale_ua=127.0,
                                  levels=127)[0, 0])

    assert read([150]) == 127  # no saturation assumed: the ADC clips
    assert read([150, 60]) == 90
    assert read([150, 60], saturating=True) == 40  # 100 - 60
    assert read([150, 10, 30, 5]) == 65  # 4-ph: 100 - 10 - 30 + 5
    assert read([150, 10, 30, 5], one_phase=True) == 75  # 1-ph: min(140, 100) - 25
    # noise: sqrt(0 · 1 + 4) · 1 = 2 µA more
    got = analog_readout(np.full((1, 1, 1), 10.0, np.float32), zero, one, saturating=False,
                         one_phase=False, v_read_v=1.0, i_sat_ua=100.0, noise_scale=1.0,
                         noise_offset=4.0, gain=np.ones(1), offset_lsb=np.zeros(1),
                         full_scale_ua=127.0, levels=127)
    assert int(got[0, 0]) == 12


@SETTINGS
@given(shape=shapes2d, seed=seeds, n_prod=st.sampled_from([1, 2, 4]),
       saturating=st.booleans(), one_phase=st.booleans(), i_sat=st.floats(1.0, 500.0),
       with_ldpu=st.booleans(), relu=st.booleans(), key=st.integers(0, 2**64 - 1),
       int8=st.sampled_from(["", "add", "requantize", "add+requantize"]))
def test_noisy_readout_matches_reference(shape, seed, n_prod, saturating, one_phase, i_sat,
                                         with_ldpu, relu, key, int8):
    rng = rng_of(seed)
    p, var, _, gain, offset = _readout_inputs(rng, shape, n_prod, i_sat)
    positions = rng.choice(10 * shape[0] + 1, size=shape[0], replace=False)
    dead = rng.random(shape[1]) < 0.2
    ldpu = None
    if with_ldpu:
        ldpu = tuple(rng.uniform(-2.0, 2.0, size=shape[1]) for _ in range(3))
    kw = dict(saturating=saturating, one_phase=one_phase, v_read_v=0.3, i_sat_ua=i_sat,
              noise_scale=0.09, noise_offset=0.01, gain=gain.astype(np.float32),
              offset_lsb=offset.astype(np.float32), full_scale_ua=i_sat / 2, levels=127)
    steps = {}
    if with_ldpu and "add" in int8:  # a partial sum received over a link
        steps["add"] = (rng.integers(-128, 128, size=shape).astype(np.int8),
                        float(rng.uniform(0.01, 0.5)))
    if with_ldpu and "requantize" in int8:  # and the sum put back on the wire
        steps["requantize"] = float(rng.uniform(0.01, 0.5))
    got = noisy_readout(p, var, key, positions, dead=dead, ldpu=ldpu, relu=relu, **steps,
                        **kw)
    want = reference.noisy_readout(p, var, key, positions, dead=dead, ldpu=ldpu, relu=relu,
                                   **steps, **kw)
    dtype = (np.int8 if "requantize" in steps else np.float32) if with_ldpu else np.int32
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_array_equal(got, want)


def test_noisy_readout_of_a_vector_does_not_depend_on_its_batch():
    rng = np.random.default_rng(3)
    p, var, _, gain, offset = _readout_inputs(rng, (6, 5), 1, 100.0)
    kw = dict(saturating=False, one_phase=False, v_read_v=0.3, i_sat_ua=100.0,
              noise_scale=4.0, noise_offset=0.5, gain=gain, offset_lsb=offset,
              full_scale_ua=50.0, levels=127)
    positions = np.arange(6) + 100
    whole = noisy_readout(p, var, 11, positions, **kw)
    for sel in (np.array([4, 1]), np.array([5]), np.arange(6)[::-1]):
        part = noisy_readout(p[:, sel], var[sel], 11, positions[sel], **kw)
        np.testing.assert_array_equal(part, whole[sel])
    other = noisy_readout(p, var, 12, positions, **kw)  # another key: other noise
    assert (other != whole).any()


@pytest.mark.parametrize("rows", [200, 700])  # LDPU computed per count / looked up
@pytest.mark.parametrize("with_ldpu", [False, True])
def test_noisy_readout_split_over_threads_matches_reference(rows, with_ldpu):
    """A large read is split over the calling thread's Numba thread count: the same values
    on one thread, on all of them, and as the NumPy reference."""
    rng = np.random.default_rng(8)
    p, var, _, gain, offset = _readout_inputs(rng, (rows, 48), 4, 60.0)
    ldpu = tuple(rng.uniform(-2.0, 2.0, size=48) for _ in range(3)) if with_ldpu else None
    kw = dict(saturating=True, one_phase=False, v_read_v=0.3, i_sat_ua=60.0,
              noise_scale=0.09, noise_offset=0.01, gain=gain, offset_lsb=offset,
              full_scale_ua=30.0, levels=127, ldpu=ldpu, relu=with_ldpu)
    if with_ldpu:  # with the INT8 step of a partial-sum chain, split with the rows
        kw.update(add=(rng.integers(-128, 128, size=(rows, 48)).astype(np.int8), 0.03),
                  requantize=0.05)
    positions = rng.permutation(rows) + 5
    want = reference.noisy_readout(p, var, 9, positions, **kw)
    threads = numba.get_num_threads()
    try:
        for n in sorted({1, threads, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(n)
            np.testing.assert_array_equal(noisy_readout(p, var, 9, positions, **kw), want)
    finally:
        numba.set_num_threads(threads)


@pytest.mark.parametrize("with_ldpu", [False, True])
def test_noisy_readout_piece_by_piece_as_the_products_are_formed(with_ldpu, monkeypatch):
    """The read of a pipelined core MVM: piece by piece, each once the progress counter
    passes it, the same values as in one go; none once the counter is negative."""
    from chipsim.kernels import readout

    rng = np.random.default_rng(9)
    rows = 300
    p, var, _, gain, offset = _readout_inputs(rng, (rows, 48), 2, 60.0)
    ldpu = tuple(rng.uniform(-2.0, 2.0, size=48) for _ in range(3)) if with_ldpu else None
    kw = dict(saturating=True, one_phase=False, v_read_v=0.3, i_sat_ua=60.0,
              noise_scale=0.09, noise_offset=0.01, gain=gain, offset_lsb=offset,
              full_scale_ua=30.0, levels=127, ldpu=ldpu)
    positions = rng.permutation(rows)
    want = noisy_readout(p, var, 9, positions, **kw)
    bounds = np.array([0, 128, 256, rows])

    def in_pieces(read):
        return lambda *args, **kw: read(*args, **kw, after=(bounds, np.array([3])))

    for name in ("_noisy_counts", "_noisy_ldpu"):
        monkeypatch.setattr(readout, name, in_pieces(getattr(readout, name)))
    np.testing.assert_array_equal(noisy_readout(p, var, 9, positions, **kw), want)
    untouched = np.full((rows, 48), -7, dtype=np.int32)
    monkeypatch.undo()
    readout._noisy_counts(*_readout_args(p, var, positions, kw), out=untouched,
                          after=(bounds, np.array([-1])))
    assert (untouched == -7).all()


def _readout_args(p, var, positions, kw):
    """The arguments :func:`noisy_readout` passes its pass (counts, no dead column)."""
    return (np.asarray(p, np.float32), kw["saturating"], kw["one_phase"],
            np.float32(kw["v_read_v"]), np.float32(kw["i_sat_ua"]), kw["i_sat_ua"],
            np.asarray(var, np.float32), np.float32(kw["noise_scale"]),
            np.float32(kw["noise_offset"]), np.uint64(9), positions.astype(np.uint64),
            kw["gain"], kw["offset_lsb"], kw["full_scale_ua"], kw["levels"],
            np.zeros(p.shape[2], dtype=np.bool_))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf: NaN
@pytest.mark.parametrize("add_scale", [2.0**-24, 2.0**-18, 0.03, 700.0])
def test_fused_int8_steps_at_subnormal_and_overflowing_magnitudes(add_scale):
    """The fused INT8 steps round a row in their common case and fall back to the exact
    rounding for a row with a subnormal, overflowing or NaN magnitude: the NumPy reference's
    values either way (received values of 2**-24 · q are FP16 subnormals; 700 · q
    overflow, and inf − inf is sent as 0)."""
    rng = np.random.default_rng(12)
    rows = 300
    p, var, _, gain, offset = _readout_inputs(rng, (rows, 48), 1, 60.0)
    ldpu = (rng.uniform(-2.0, 2.0, size=48), rng.uniform(-2.0, 2.0, size=48) * add_scale,
            np.zeros(48))
    q = rng.integers(-128, 128, size=(rows, 48)).astype(np.int8)
    kw = dict(saturating=False, one_phase=False, v_read_v=0.3, i_sat_ua=60.0,
              noise_scale=0.09, noise_offset=0.01, gain=gain, offset_lsb=offset,
              full_scale_ua=30.0, levels=127, ldpu=ldpu, add=(q, add_scale))
    positions = np.arange(rows)
    for extra in ({}, {"requantize": max(add_scale, 2.0**-14)}):
        got = noisy_readout(p, var, 3, positions, **kw, **extra)
        np.testing.assert_array_equal(got, reference.noisy_readout(p, var, 3, positions,
                                                                   **kw, **extra))


@pytest.mark.parametrize(("kwargs", "arg"), [
    ({"positions": np.array([0.5, 1.0])}, "positions"),
    ({"positions": np.array([-1, 2])}, "positions"),
    ({"positions": np.array([0])}, "positions"),
    ({"positions": np.array([2**63, 0], dtype=np.uint64)}, "positions"),
    ({"key": -1}, "key"),
    ({"dead": np.zeros(3, bool)}, "dead"),
    ({"dead": np.zeros(2, int)}, "dead"),
    ({"ldpu": (np.ones(2), np.ones(2))}, "ldpu"),
    ({"ldpu": (np.ones(2), np.full(2, 1e6), np.ones(2))}, "ldpu scale"),
    ({"add": (np.zeros((2, 2), np.int8), 0.1)}, "add"),  # without ldpu
    ({"requantize": 0.1}, "requantize"),  # without ldpu
    ({"ldpu": (np.ones(2),) * 3, "add": (np.zeros((1, 2), np.int8), 0.1)}, "add"),
    ({"ldpu": (np.ones(2),) * 3, "add": (np.full((2, 2), 300), 0.1)}, "add"),
    ({"ldpu": (np.ones(2),) * 3, "add": np.zeros((2, 2), np.int8)}, "add"),
    ({"ldpu": (np.ones(2),) * 3, "add": (np.zeros((2, 2), np.int8), -1.0)}, "scale"),
    ({"ldpu": (np.ones(2),) * 3, "requantize": 0.0}, "out_scale"),
])
def test_noisy_readout_bad_input_names_the_argument(kwargs, arg):
    args = dict(products=np.ones((1, 2, 2), np.float32), noise_var=np.ones((2, 2), np.float32),
                key=1, positions=np.array([0, 1]), saturating=False, one_phase=False,
                v_read_v=1.0, i_sat_ua=100.0, noise_scale=1.0, noise_offset=0.0,
                gain=np.ones(2), offset_lsb=np.zeros(2), full_scale_ua=50.0, levels=127)
    with pytest.raises(ValueError, match=f"^{arg}"):
        noisy_readout(**{**args, **kwargs})
