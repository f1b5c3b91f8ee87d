"""The FP16 LDPU kernels against their NumPy references; ReLU, overflow, ties, clipping."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipsim.kernels import accumulate_int8, fp16_round, ldpu_affine, reference, requantize_int8

from ._kernel_strategies import (
    SETTINGS,
    assert_same_bits,
    fp16_midpoints,
    grid_ties,
    log_uniform,
    rng_of,
    seeds,
    shapes2d,
)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0, JIT off
@SETTINGS
@given(shape=shapes2d, seed=seeds, relu=st.booleans(),
       count_max=st.sampled_from([1, 127, 2047, 8191, 70000]),
       mode=st.sampled_from(["uniform", "log", "ties"]))
def test_ldpu_affine_matches_reference(shape, seed, relu, count_max, mode):
    rng = rng_of(seed)
    cols = shape[1]
    counts = rng.integers(-count_max, count_max + 1, size=shape).astype(np.int32)
    if mode == "uniform":
        offset = rng.normal(0, 2, size=cols)
        scale = rng.normal(0, 0.1, size=cols)  # either sign, as with a folded batch-norm
        bias = rng.normal(0, 1, size=cols)
    elif mode == "log":  # parameters over the whole FP16 range, incl. subnormals and 0
        offset, scale, bias = (log_uniform(rng, cols, -28, 15.9) for _ in range(3))
        scale[rng.random(cols) < 0.1] = 0.0
    else:  # parameters at FP16 rounding ties
        offset, scale, bias = (fp16_midpoints(rng, cols) for _ in range(3))
    got = ldpu_affine(counts, offset, scale, bias, relu=relu)
    assert got.dtype == np.float32 and got.shape == shape
    want = reference.ldpu_affine(counts, offset, scale, bias, relu=relu)
    assert_same_bits(got, want)
    assert_same_bits(fp16_round(got), got)  # every output is an FP16 number


def test_ldpu_affine_rounds_every_step_to_fp16():
    counts = np.array([[3, 2049, -5, 70000, 1]], dtype=np.int32)
    offset = np.array([0.0, 0.0, 0.0, 0.0, 1.0 / 3])  # offset register: fp16(1/3)
    scale = np.array([0.1, 1.0, 1.0, 1.0, 1.0])  # fp16(0.1) = 0.0999755859375
    bias = np.array([0.0, 0.0, 0.25, 0.0, 0.0])
    got = ldpu_affine(counts, offset, scale, bias)
    off16 = float(np.float16(1.0 / 3))
    want = [float(np.float16(3 * 0.0999755859375)), 2048.0, -4.75, np.inf,
            float(np.float16(1 - off16))]
    np.testing.assert_array_equal(got[0], np.array(want, dtype=np.float32))
    relu = ldpu_affine(counts, offset, scale, bias, relu=True)
    np.testing.assert_array_equal(relu[0], np.array(want, dtype=np.float32).clip(0))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0, JIT off
def test_ldpu_relu_gives_positive_zero_and_clears_nan():
    counts = np.array([[-1, 0, 70000]], dtype=np.int32)
    # -1 * fp16(1e-9) + (-0.0) = -0.0; 0 - 0 = 0; inf * 0 = NaN
    args = (np.zeros(3), np.array([1e-9, 1.0, 0.0]), np.array([-0.0, 0.0, 0.0]))
    plain = ldpu_affine(counts, *args)
    assert np.signbit(plain[0, 0]) and np.isnan(plain[0, 2])
    relu = ldpu_affine(counts, *args, relu=True)
    np.testing.assert_array_equal(relu.view(np.uint32), np.zeros((1, 3), dtype=np.uint32))


@SETTINGS
@given(shape=shapes2d, seed=seeds, scale_exp=st.integers(-12, 12),
       mode=st.sampled_from(["uniform", "log", "ties"]))
def test_requantize_int8_matches_reference(shape, seed, scale_exp, mode):
    rng = rng_of(seed)
    out_scale = 2.0**scale_exp * (1.0 if mode == "ties" else rng.uniform(0.5, 2.0))
    if mode == "uniform":  # some beyond the INT8 range: clipped
        v = rng.uniform(-160, 160, size=shape) * out_scale
    elif mode == "log":
        v = log_uniform(rng, shape, scale_exp - 20, scale_exp + 9)
    else:  # exact ties: (k + 1/2) * out_scale, out_scale a power of two
        v = grid_ties(rng, shape, out_scale, 130)
    v = fp16_round(v.astype(np.float32))
    v[~np.isfinite(v)] = 0.0
    got = requantize_int8(v, out_scale)
    assert got.dtype == np.int8 and got.shape == shape
    np.testing.assert_array_equal(got, reference.requantize_int8(v, out_scale))


def test_requantize_ties_clip_and_scale_rounding():
    v = np.array([[0.5, 1.5, 2.5, -0.5, -2.5, 127.6, 200.0, -128.4, -500.0]], dtype=np.float32)
    np.testing.assert_array_equal(requantize_int8(v, 1.0),
                                  [[0, 2, 2, 0, -2, 127, 127, -128, -128]])
    # 1 / 0.3 is rounded to FP16 (3.333984375) before the product
    np.testing.assert_array_equal(requantize_int8(np.array([[30.0]]), 0.3),
                                  [[np.rint(np.float16(30.0 * 3.333984375))]])


@SETTINGS
@given(shape=shapes2d, seed=seeds, scale_exp=st.integers(-20, 8),
       mode=st.sampled_from(["uniform", "log", "ties"]))
def test_accumulate_int8_matches_reference(shape, seed, scale_exp, mode):
    rng = rng_of(seed)
    scale = 2.0**scale_exp * rng.uniform(0.5, 2.0)
    if mode == "uniform":
        acc = rng.uniform(-200, 200, size=shape) * scale
    elif mode == "log":
        acc = log_uniform(rng, shape, -30, 16)
    else:
        acc = fp16_midpoints(rng, shape)  # not FP16 values: the sum still rounds once
    acc = acc.astype(np.float32)
    q = rng.integers(-128, 128, size=shape).astype(np.int8)
    got = accumulate_int8(acc, q, scale)
    assert got.dtype == np.float32 and got.shape == shape
    assert_same_bits(got, reference.accumulate_int8(acc, q, scale))


def test_accumulate_partial_sums_residual_and_overflow():
    acc = np.array([[1.0, 2048.0, 2048.0, 65504.0, -1.0]], dtype=np.float32)
    q = np.array([[3, 1, 3, 127, -1]], dtype=np.int8)
    got = accumulate_int8(acc, q, 0.5)
    # 2048 + 0.5 -> 2048; 2048 + 1.5 -> 2050 (FP16 step 2 above 2048); overflow -> inf
    np.testing.assert_array_equal(got, [[2.5, 2048.0, 2050.0, np.inf, -1.5]])
    # the same kernel chains partial sums of several cores (then a residual)
    partials = [np.array([[10, -20]]), np.array([[5, 7]]), np.array([[-1, 1]])]
    total = np.zeros((1, 2), dtype=np.float32)
    for part in partials:
        total = accumulate_int8(total, part.astype(np.int8), 0.25)
    np.testing.assert_array_equal(total, [[3.5, -3.0]])


@pytest.mark.parametrize("relu", [False, True])
def test_ldpu_kernels_on_non_contiguous_and_empty_inputs(relu):
    rng = np.random.default_rng(4)
    counts = rng.integers(-127, 128, size=(12, 6)).T  # (6, 12), Fortran order
    params = [rng.normal(0, 1, size=24)[::2] for _ in range(3)]
    got = ldpu_affine(counts, *params, relu=relu)
    want = reference.ldpu_affine(np.ascontiguousarray(counts, dtype=np.int32),
                                 *(np.ascontiguousarray(p) for p in params), relu=relu)
    assert_same_bits(got, want)
    q = requantize_int8(got.T, 0.05)  # strided
    np.testing.assert_array_equal(q, reference.requantize_int8(np.ascontiguousarray(got.T),
                                                               0.05))
    acc = accumulate_int8(got[:, ::2], q.T[:, ::2], 0.05)
    assert_same_bits(acc, reference.accumulate_int8(np.ascontiguousarray(got[:, ::2]),
                                                    np.ascontiguousarray(q.T[:, ::2]), 0.05))
    assert ldpu_affine(np.zeros((0, 2), dtype=np.int32), *[np.zeros(2)] * 3).shape == (0, 2)
    assert requantize_int8(np.zeros((0, 2)), 1.0).shape == (0, 2)
    assert accumulate_int8(np.zeros((0, 2)), np.zeros((0, 2), np.int8), 1.0).shape == (0, 2)
