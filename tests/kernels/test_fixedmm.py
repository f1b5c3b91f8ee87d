"""The exact fixed-point products on Intel AMX (chipsim.kernels.fixedmm) against their int64
NumPy reference, the fixed-point rounding and the codes' bytes; and code_norms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipsim.errors import ChipsimError
from chipsim.kernels import fixedmm, reference
from chipsim.kernels.fixedmm import (
    FixedMatrix,
    code_parts,
    code_range,
    fixed_matmul,
    fixed_pieces,
    fixed_point,
    fixed_unit,
    square_parts,
)
from chipsim.kernels.pwm import code_norms

from ._kernel_strategies import SETTINGS, rng_of, seeds

levels_st = st.sampled_from([1, 127, 255, 256, 1000, 32767])
dims = st.integers(1, 70)


def _codes(rng, batch, rows, levels, kind):
    lo = 0 if kind == "nonneg" else -levels
    hi = 0 if kind == "nonpos" else levels
    codes = rng.integers(lo, hi + 1, size=(batch, rows))
    codes[rng.random(codes.shape) < 0.3] = 0
    if kind == "extreme":
        codes = rng.choice([-levels, 0, levels], size=(batch, rows))
    return codes.astype(np.int16)


def _matrix(rng, rows, cols, kind):
    if kind == "normal":
        return rng.normal(size=(rows, cols)) * 2.0 ** rng.integers(-20, 20)
    if kind == "positive":
        return rng.uniform(0, 25, size=(rows, cols))
    if kind == "extreme":  # entries at the largest power of two (2**22 units) and its negative
        return rng.choice([-4.0, 0.0, 4.0, 3.999], size=(rows, cols))
    return np.zeros((rows, cols))


@SETTINGS
@given(batch=dims, rows=dims, cols=dims, seed=seeds, levels=levels_st,
       codes_kind=st.sampled_from(["signed", "nonneg", "nonpos", "extreme"]),
       matrix_kind=st.sampled_from(["normal", "positive", "extreme", "zero"]),
       factor=st.sampled_from([1.0, 1 / 255, 1 / 255**2, 3.0]))
def test_fixed_matmul_matches_reference(batch, rows, cols, seed, levels, codes_kind,
                                        matrix_kind, factor):
    rng = rng_of(seed)
    codes = _codes(rng, batch, rows, levels, codes_kind)
    fm = fixed_point(_matrix(rng, rows, cols, matrix_kind))
    pos, neg, signed = code_parts(codes)
    for parts in (pos, neg, signed, square_parts(codes)):
        if parts is None:
            continue
        got = fixed_matmul(parts, fm, factor)
        assert got.dtype == np.float32 and got.shape == (batch, cols)
        np.testing.assert_array_equal(got, reference.fixed_matmul(parts, fm, factor))


def test_fixed_matmul_is_the_exact_product_rounded():
    """Against the exact rational product (float64 of int64 sums, divided by the levels): one
    float32 rounding after one float64 rounding."""
    rng = np.random.default_rng(1)
    codes = rng.integers(-255, 256, size=(300, 256)).astype(np.int16)
    g = rng.uniform(0, 25, size=(256, 100))
    fm = fixed_point(g)
    exact = codes.astype(np.int64) @ reference.fixed_ints(g, fm.unit)
    want = (exact.astype(np.float64) * fm.unit / 255).astype(np.float32)
    got = fixed_matmul(code_parts(codes)[2], fm, 1 / 255)
    assert np.abs(got - want).max() <= np.abs(want).max() * 2.0**-23
    # and within float32 rounding of the float64 product of the unrounded matrix
    assert np.allclose(got, codes / 255 @ g, rtol=1e-6, atol=np.abs(want).max() * 1e-6)


def test_a_rows_product_does_not_depend_on_its_batch():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 256, size=(100, 90)).astype(np.int16)
    fm = fixed_point(rng.normal(size=(90, 40)))
    whole = fixed_matmul(square_parts(codes), fm, 1.0)
    for lo, hi in ((0, 1), (31, 64), (37, 100)):
        np.testing.assert_array_equal(fixed_matmul(square_parts(codes[lo:hi]), fm, 1.0),
                                      whole[lo:hi])


def test_fixed_matmul_writes_into_out_and_checks_shapes():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 128, size=(5, 9)).astype(np.int16)
    fm = fixed_point(rng.normal(size=(9, 3)))
    out = np.full((5, 3), np.nan, dtype=np.float32)
    assert fixed_matmul(code_parts(codes)[0], fm, 1.0, out=out) is out
    np.testing.assert_array_equal(out, reference.fixed_matmul(code_parts(codes)[0], fm, 1.0))
    with pytest.raises(ChipsimError, match="inputs of 9 rows for a matrix of 8"):
        fixed_matmul(code_parts(codes)[0], fixed_point(np.ones((8, 3))), 1.0)


def test_without_amx_float64_blas_gives_the_same_bits(monkeypatch):
    rng = np.random.default_rng(4)
    codes = rng.integers(-32767, 32768, size=(40, 300)).astype(np.int16)
    fm = fixed_point(rng.normal(size=(300, 70)))
    monkeypatch.setattr(fixedmm, "amx_available", lambda: False)
    monkeypatch.setattr(fixedmm.numba.config, "DISABLE_JIT", False)
    for parts in (*code_parts(codes), square_parts(codes)):  # up to 2**61: int64 sums
        np.testing.assert_array_equal(fixed_matmul(parts, fm, 1 / 32767),
                                      reference.fixed_matmul(parts, fm, 1 / 32767))


def test_fixed_matmul_forms_the_rows_asked_for():
    rng = np.random.default_rng(5)
    codes = rng.integers(-127, 128, size=(100, 70)).astype(np.int16)
    fm = fixed_point(rng.normal(size=(70, 40)))
    parts = code_parts(codes)[2]
    out = np.full((100, 40), np.nan, dtype=np.float32)
    fixed_matmul(parts, fm, 1 / 127, out=out, rows=(32, 70))
    np.testing.assert_array_equal(out[32:70], fixed_matmul(parts, fm, 1 / 127)[32:70])
    assert np.isnan(out[:32]).all() and np.isnan(out[70:]).all()
    for rows in ((5, 40), (32, 101), (64, 32)):
        with pytest.raises(ChipsimError, match=f"rows {rows[0]} .. {rows[1]} of 100"):
            fixed_matmul(parts, fm, 1.0, out=out, rows=rows)


@pytest.mark.parametrize("amx", [True, False])
def test_fixed_pieces_form_every_product_piece_by_piece(amx, monkeypatch):
    """The products of a pipelined read, piece by piece: the same bits as whole, and the
    progress counter at the number of pieces."""
    if not amx:
        monkeypatch.setattr(fixedmm, "amx_available", lambda: False)
    rng = np.random.default_rng(6)
    codes = rng.integers(-127, 128, size=(100, 70)).astype(np.int16)
    pos, neg, signed = code_parts(codes)
    mats = [fixed_point(rng.normal(size=(70, 40))) for _ in range(3)]
    todo = [(square_parts(codes), mats[0], 1 / 127**2), (pos, mats[1], 1 / 127),
            (signed, mats[2], 3.0)]
    outs = [np.full((100, 40), np.nan, dtype=np.float32) for _ in todo]
    bounds, progress = np.array([0, 32, 96, 100]), np.zeros(1, dtype=np.int64)
    fixed_pieces([(*job, out) for job, out in zip(todo, outs, strict=True)], bounds, progress)
    assert progress[0] == 3
    for (parts, fm, factor), out in zip(todo, outs, strict=True):
        np.testing.assert_array_equal(out, fixed_matmul(parts, fm, factor))


@pytest.mark.parametrize("amx", [True, False])
def test_fixed_pieces_publish_an_error(amx, monkeypatch):
    """An error is raised after the counter is set to -1: a reader waiting for the pieces on
    another thread stops instead of waiting forever."""
    if not amx:
        monkeypatch.setattr(fixedmm, "amx_available", lambda: False)
    codes = np.ones((40, 9), dtype=np.int16)
    out = np.empty((40, 3), dtype=np.float32)
    progress = np.zeros(1, dtype=np.int64)
    with pytest.raises(ChipsimError, match="matrix"):
        fixed_pieces([(code_parts(codes)[0], fixed_point(np.ones((8, 3))), 1.0, out)],
                     np.array([0, 32, 40]), progress)
    assert progress[0] == -1
    progress[0] = 0
    with pytest.raises(ChipsimError, match="rows 20 .. 40 of 40"):
        fixed_pieces([(code_parts(codes)[0], fixed_point(np.ones((9, 3))), 1.0, out)],
                     np.array([0, 20, 40]), progress)
    assert progress[0] == -1


@SETTINGS
@given(seed=seeds, rows=dims, cols=dims, bits=st.integers(0, 23))
def test_digits_hold_the_integers(seed, rows, cols, bits):
    rng = rng_of(seed)
    q = rng.integers(-(2**bits), 2**bits + 1, size=(rows, cols))
    q.flat[0] = 2**bits  # the largest magnitude, upwards (one digit more than downwards)
    fm = FixedMatrix.of_ints(q, 0.5)
    np.testing.assert_array_equal(fm.q, q)
    # the fewest digits: d digits reach 127 · (1 + 256 + …) upwards
    digits = fm.digits.shape[1]
    assert 2**bits <= 127 * sum(256**d for d in range(digits))
    assert digits == 1 or 2**bits > 127 * sum(256**d for d in range(digits - 1))
    assert fm.digits.ctypes.data % 64 == 0


@SETTINGS
@given(seed=seeds, rows=dims, cols=dims, exp=st.integers(-30, 30),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_fixed_point_rounds_as_the_reference(seed, rows, cols, exp, dtype):
    rng = rng_of(seed)
    m = (rng.normal(size=(rows, cols)) * 2.0**exp).astype(dtype)
    minus = (rng.uniform(0, 1, size=(rows, cols)) * 2.0**exp).astype(dtype)
    unit = fixed_unit(float(max(np.abs(m).max(), np.abs(minus).max())))
    np.testing.assert_array_equal(FixedMatrix.of_floats(m, unit).q,
                                  reference.fixed_ints(m, unit))
    np.testing.assert_array_equal(FixedMatrix.of_floats(m, unit, minus=minus).q,
                                  reference.fixed_ints(m, unit) - reference.fixed_ints(minus, unit))


def test_fixed_point_rounds_half_to_even_within_its_unit():
    assert fixed_unit(4.0) == 2.0**-20 and fixed_unit(4.1) == 2.0**-19
    assert fixed_unit(1.0, 0) == 1.0 and fixed_unit(0.0) == 1.0
    m = np.array([[0.5, 1.5, 2.5, -0.5, -2.5]])
    np.testing.assert_array_equal(FixedMatrix.of_floats(m, 1.0).q, [[0, 2, 2, 0, -2]])
    fm = fixed_point(np.array([[-3.0, 1e-9], [2.0, 0.0]]))
    assert np.abs(fm.q).max() <= 2**22 and fm.unit == fixed_unit(3.0)
    for bad in (np.nan, np.inf, 2.0**30):
        with pytest.raises(ChipsimError, match="finite and within"):
            FixedMatrix.of_floats(np.array([[1.0, bad]]), 1.0)
    with pytest.raises(ChipsimError, match="one shape"):
        FixedMatrix.of_floats(np.ones((2, 2)), 1.0, minus=np.ones((2, 3)))
    with pytest.raises(ChipsimError, match="2-D"):
        fixed_point(np.ones(3))
    with pytest.raises(ChipsimError, match="max_abs"):
        fixed_unit(-1.0)
    with pytest.raises(ChipsimError, match="within"):
        FixedMatrix.of_ints(np.array([[2**23 + 1]]), 1.0)


@SETTINGS
@given(seed=seeds, batch=dims, rows=dims, levels=levels_st)
def test_bytes_hold_the_codes(seed, batch, rows, levels):
    rng = rng_of(seed)
    codes = _codes(rng, batch, rows, levels, "signed")
    lo, hi = code_range(codes)
    assert (lo, hi) == (min(0, codes.min()), max(0, codes.max()))

    def value(parts):
        assert parts.parts.dtype == np.uint8 and parts.parts.ctypes.data % 64 == 0
        assert parts.parts.shape[1] % 32 == 0 and parts.parts.shape[2] % 64 == 0
        full = np.tensordot(parts.weights, parts.parts.astype(np.int64), axes=1)
        assert not full[batch:].any() and not full[:, rows:].any()  # zero padding
        return full[:batch, :rows]

    pos, neg, signed = code_parts(codes)
    c = codes.astype(np.int64)
    np.testing.assert_array_equal(value(pos), np.maximum(c, 0))
    if lo < 0:
        np.testing.assert_array_equal(value(neg), np.maximum(-c, 0))
        np.testing.assert_array_equal(value(signed), c)
    else:
        assert neg is None and signed is None
    np.testing.assert_array_equal(value(square_parts(codes)), c * c)
    assert len(pos.weights) == (1 if max(-lo, hi) <= 255 else 2)


def test_bytes_take_int16_codes_only():
    with pytest.raises(ChipsimError, match="int16"):
        code_parts(np.ones((2, 2), dtype=np.int32))
    with pytest.raises(ChipsimError, match="int16"):
        square_parts(np.ones(3, dtype=np.int16))


@SETTINGS
@given(seed=seeds, shape=st.tuples(dims, dims), levels=levels_st)
def test_code_norms_match_reference(seed, shape, levels):
    rng = rng_of(seed)
    codes = _codes(rng, *shape, levels, "signed")
    weight = rng.integers(0, 2**22, size=shape[1])
    got = code_norms(codes, weight)
    want = reference.code_norms(codes, weight)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float64
        np.testing.assert_array_equal(g, w)


def test_code_norms_need_exact_integer_weights():
    codes = np.ones((2, 3), dtype=np.int16)
    with pytest.raises(ChipsimError, match="row_weight"):
        code_norms(codes, np.ones(2))
    with pytest.raises(ChipsimError, match="integers"):
        code_norms(codes, np.full(3, 0.5))
    with pytest.raises(ChipsimError, match="integers"):
        code_norms(codes, np.full(3, 2.0**40))
