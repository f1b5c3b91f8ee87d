"""fp16_round and the FP16 scalar helper against NumPy's float16 casts, bit for bit."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipsim.kernels import fp16_round, reference
from chipsim.kernels.fp16 import _fp16_scalar

from ._kernel_strategies import (
    SETTINGS,
    assert_same_bits,
    fp16_midpoints,
    log_uniform,
    rng_of,
    seeds,
    shapes2d,
)

SPECIALS = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 65504.0, 65519.996, 65520.0,
                     -65520.0, 2.0**-24, 2.0**-25, 3 * 2.0**-25, 2.0**-14, 2.0**-14 - 2.0**-25,
                     1e-30, 3.4e38], dtype=np.float32)


@SETTINGS
@given(shape=shapes2d, seed=seeds, mode=st.sampled_from(["log", "ties", "specials"]))
def test_fp16_round_matches_float16_cast(shape, seed, mode):
    rng = rng_of(seed)
    if mode == "log":  # from deep below the subnormals to beyond the FP16 range
        x = log_uniform(rng, shape, -30, 17).astype(np.float32)
    elif mode == "ties":
        x = fp16_midpoints(rng, shape)
    else:
        x = rng.choice(SPECIALS, size=shape)
    assert_same_bits(fp16_round(x), reference.fp16_round(x))


@SETTINGS
@given(shape=shapes2d, seed=seeds)
def test_float64_input_is_rounded_once(shape, seed):
    x = log_uniform(rng_of(seed), shape, -30, 17)  # float64: not via float32
    assert_same_bits(fp16_round(x), reference.fp16_round(x))


@pytest.mark.parametrize(
    ("x", "want"),
    [
        (1.0 + 2.0**-11, 1.0),  # tie: to even
        (1.0 + 3 * 2.0**-11, 1.0 + 2.0**-9),  # tie: to even (up)
        (65504.0, 65504.0),  # largest finite
        (65519.0, 65504.0),
        (65520.0, np.inf),  # overflow threshold
        (-65520.0, -np.inf),
        (2.0**-24, 2.0**-24),  # smallest subnormal
        (2.0**-25, 0.0),  # tie between 0 and 2**-24: to even (0)
        (3 * 2.0**-25, 2.0**-23),  # tie: to even (2 quanta)
        (2.0**-14 - 2.0**-25, 2.0**-14),  # subnormal rounding up to the smallest normal
        (1e-30, 0.0),
    ],
)
def test_fp16_edge_values(x, want):
    got = fp16_round(np.array([x, -x], dtype=np.float32))
    np.testing.assert_array_equal(got, np.array([want, -want], dtype=np.float32))
    assert _fp16_scalar(float(x)) == want


def test_nan_and_signed_zero_are_kept():
    got = fp16_round(np.array([np.nan, -0.0, -1e-10, 0.0], dtype=np.float32))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(np.signbit(got[1:]), [True, True, False])
    assert np.isnan(_fp16_scalar(float("nan")))


@pytest.mark.parametrize("shape", [(), (0,), (7,), (2, 0, 3), (2, 3, 4)])
def test_any_shape_is_kept(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    got = fp16_round(x)
    assert got.shape == shape and got.dtype == np.float32
    assert_same_bits(got, reference.fp16_round(x))


def test_non_contiguous_and_other_real_dtypes():
    x = np.random.default_rng(1).normal(size=(6, 8)).astype(np.float32) * 1000
    assert_same_bits(fp16_round(x.T[::2]), reference.fp16_round(x.T[::2]))
    ints = np.array([[1, 2049, 70000, -2051]])
    np.testing.assert_array_equal(fp16_round(ints), [[1.0, 2048.0, np.inf, -2052.0]])
    halves = np.array([0.1, -3.5], dtype=np.float16)
    np.testing.assert_array_equal(fp16_round(halves), halves.astype(np.float32))
