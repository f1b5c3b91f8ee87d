"""pwm_quantize, duty_split, int_codes and duty_square against their NumPy references."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipsim.kernels import duty_split, duty_square, int_codes, pwm_quantize, reference

from ._kernel_strategies import SETTINGS, grid_ties, log_uniform, rng_of, seeds, shapes2d

levels_st = st.one_of(st.sampled_from([1, 7, 64, 127, 128, 32767]), st.integers(1, 32767))


@SETTINGS
@given(shape=shapes2d, seed=seeds, levels=levels_st, scale_exp=st.integers(-20, 20),
       mode=st.sampled_from(["uniform", "log", "ties"]))
def test_pwm_quantize_matches_reference(shape, seed, levels, scale_exp, mode):
    rng = rng_of(seed)
    scale = 2.0**scale_exp * (1.0 if mode == "ties" else rng.uniform(0.5, 2.0))
    if mode == "uniform":  # some beyond ±scale: clipped
        x = rng.uniform(-1.5, 1.5, size=shape) * scale
    elif mode == "log":
        x = log_uniform(rng, shape, scale_exp - 30, scale_exp + 5)
    else:  # exact ties of rint: (k + 1/2) / 64 * scale with 64 levels
        levels = 64
        x = grid_ties(rng, shape, scale / levels, levels + 2)
    x = x.astype(np.float32)
    got = pwm_quantize(x, scale, levels)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, reference.pwm_quantize(x, scale, levels))
    assert np.abs(got.astype(np.int32)).max() <= levels


def test_pwm_ties_round_to_even_and_clip():
    x = np.array([[0.5, 1.5, 2.5, -0.5, -1.5, 64.0, 65.0, -1e6]], dtype=np.float32) / 64
    np.testing.assert_array_equal(pwm_quantize(x, 1.0, 64), [[0, 2, 2, 0, -2, 64, 64, -64]])
    np.testing.assert_array_equal(pwm_quantize(x * 3, 3.0, 1), [[0, 0, 0, 0, 0, 1, 1, -1]])


@SETTINGS
@given(shape=shapes2d, seed=seeds, levels=levels_st)
def test_duty_split_matches_reference(shape, seed, levels):
    codes = rng_of(seed).integers(-levels, levels + 1, size=shape).astype(np.int16)
    u_pos, u_neg = duty_split(codes, levels)
    r_pos, r_neg = reference.duty_split(codes, levels)
    for got, want in ((u_pos, r_pos), (u_neg, r_neg)):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert not np.signbit(u_pos).any() and not np.signbit(u_neg).any()  # no -0.0
    assert not (u_pos * u_neg).any()  # one sign per row at a time
    np.testing.assert_array_equal(u_pos - u_neg, codes.astype(np.float32) / np.float32(levels))


def test_duty_split_full_and_zero_codes():
    u_pos, u_neg = duty_split(np.array([[127, -127, 0, 1]], dtype=np.int64), 127)
    np.testing.assert_array_equal(u_pos, [[1, 0, 0, np.float32(1) / np.float32(127)]])
    np.testing.assert_array_equal(u_neg, [[0, 1, 0, 0]])


def test_pwm_chain_on_non_contiguous_and_empty_batches():
    x = np.random.default_rng(3).uniform(-1, 1, size=(9, 12)).astype(np.float32)
    view = x.T[::2]
    np.testing.assert_array_equal(pwm_quantize(view, 1.0, 127),
                                  reference.pwm_quantize(np.ascontiguousarray(view), 1.0, 127))
    assert pwm_quantize(np.zeros((0, 5)), 1.0, 127).shape == (0, 5)
    u_pos, u_neg = duty_split(np.zeros((0, 5), dtype=np.int16), 127)
    assert u_pos.shape == u_neg.shape == (0, 5)


@SETTINGS
@given(shape=shapes2d, seed=seeds, levels=levels_st, step_exp=st.integers(-20, 20),
       mode=st.sampled_from(["uniform", "log", "ties"]))
def test_int_codes_matches_reference(shape, seed, levels, step_exp, mode):
    rng = rng_of(seed)
    step = 2.0**step_exp * (1.0 if mode == "ties" else rng.uniform(0.5, 2.0))
    if mode == "uniform":  # some beyond ±levels: clipped
        x = rng.uniform(-1.5, 1.5, size=shape) * step * levels
    elif mode == "log":
        x = log_uniform(rng, shape, step_exp - 30, step_exp + 20)
    else:  # exact ties of rint
        x = grid_ties(rng, shape, step, min(levels, 1000) + 2)
    x = x.astype(np.float32)
    got = int_codes(x, step, levels)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, reference.int_codes(x, step, levels))
    # the executor's NumPy formulation, on float32 data
    want = np.clip(np.rint(x / step), -levels, levels).astype(np.int16)
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(shape=shapes2d, seed=seeds, levels=levels_st, signed=st.booleans())
def test_duty_square_matches_reference(shape, seed, levels, signed):
    lo = -levels if signed else 0
    codes = rng_of(seed).integers(lo, levels + 1, size=shape).astype(np.int16)
    got = duty_square(codes, levels)
    want = reference.duty_square(codes, levels)
    for g, w in zip(got[:3], want[:3], strict=True):
        assert g.dtype == np.float32
        np.testing.assert_array_equal(g.view(np.uint32), w.view(np.uint32))
    assert got[3] == want[3] == bool((codes < 0).any())
    u_pos, u_neg = duty_split(codes, levels)
    np.testing.assert_array_equal(got[0], u_pos)
    np.testing.assert_array_equal(got[1], u_neg)


def test_int_codes_and_duty_square_on_empty_batches():
    assert int_codes(np.zeros((0, 5), np.float32), 0.5, 127).shape == (0, 5)
    u_pos, u_neg, u_sq, negative = duty_square(np.zeros((0, 5), dtype=np.int16), 127)
    assert u_pos.shape == u_neg.shape == u_sq.shape == (0, 5) and negative is False


@SETTINGS
@given(shape=shapes2d, seed=seeds, levels=st.sampled_from([1, 7, 127, 2047]),
       signed=st.booleans(), strided=st.booleans())
def test_duty_parts_match_duty_square(shape, seed, levels, signed, strided):
    from chipsim.kernels.pwm import duty_parts

    rng = rng_of(seed)
    codes = rng.integers(-levels if signed else 0, levels + 1, size=(shape[0], 2 * shape[1]),
                         dtype=np.int16)
    codes = np.ascontiguousarray(codes[:, ::2] if strided else codes[:, :shape[1]])
    u_pos, u_neg, u_sq = duty_parts(codes, levels)
    r_pos, r_neg, r_sq, negative = reference.duty_square(codes, levels)
    np.testing.assert_array_equal(u_pos, r_pos)
    np.testing.assert_array_equal(u_sq, r_sq)
    if negative:
        np.testing.assert_array_equal(u_neg, r_neg)
    else:
        assert u_neg is None


def test_duty_parts_reject_codes_beyond_levels():
    from chipsim.kernels.pwm import duty_parts

    with pytest.raises(ValueError, match="^codes"):
        duty_parts(np.array([[0, -128]], dtype=np.int16), 127)
