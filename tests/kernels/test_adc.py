"""adc_convert against its NumPy reference; rounding ties, clipping and the noise term."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from chipsim.kernels import adc_convert, reference

from ._kernel_strategies import SETTINGS, grid_ties, log_uniform, rng_of, seeds, shapes2d

levels_st = st.sampled_from([1, 31, 64, 127, 2047, 8191, 2**31 - 1])


@SETTINGS
@given(shape=shapes2d, seed=seeds, levels=levels_st, fs_exp=st.integers(-10, 12),
       noise=st.sampled_from([None, 0.0, 0.01, 0.3]), mode=st.sampled_from(["uniform", "log"]))
def test_adc_convert_matches_reference(shape, seed, levels, fs_exp, noise, mode):
    rng = rng_of(seed)
    full_scale = 2.0**fs_exp * rng.uniform(0.5, 2.0)
    cols = shape[1]
    if mode == "uniform":  # a fifth beyond full scale: clipped
        i_ua = rng.uniform(-1.2, 1.2, size=shape) * full_scale
    else:
        i_ua = log_uniform(rng, shape, fs_exp - 40, fs_exp + 3)
    i_ua = i_ua.astype(np.float32)
    gain = rng.normal(1.0, 0.05, size=cols).astype(np.float32)
    offset = rng.normal(0.0, 2.0, size=cols).astype(np.float32)
    z = None if noise is None else rng.standard_normal(shape).astype(np.float32)
    std = 0.0 if noise is None else noise
    got = adc_convert(i_ua, gain, offset, full_scale, levels, z_out=z, noise_std_fs=std)
    assert got.dtype == np.int32 and got.shape == shape
    want = reference.adc_convert(i_ua, gain, offset, full_scale, levels, z_out=z,
                                 noise_std_fs=std)
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(shape=shapes2d, seed=seeds)
def test_adc_exact_ties_round_to_even(shape, seed):
    # full scale 64 µA over 64 levels: 1 µA per LSB, so (k + 1/2) µA is an exact tie
    i_ua = grid_ties(rng_of(seed), shape, 1.0, 70).astype(np.float32)
    ones, zeros = np.ones(shape[1]), np.zeros(shape[1])
    got = adc_convert(i_ua, ones, zeros, 64.0, 64)
    np.testing.assert_array_equal(got, np.clip(np.rint(i_ua), -64, 64))
    np.testing.assert_array_equal(got, reference.adc_convert(i_ua, ones, zeros, 64.0, 64))


def test_adc_gain_offset_clip_and_noise():
    i_ua = np.array([[0.5, 1.5, 2.5, -2.5, 10.0, -1000.0]], dtype=np.float32)
    ones, zeros = np.ones(6), np.zeros(6)
    np.testing.assert_array_equal(adc_convert(i_ua, ones, zeros, 8.0, 8),
                                  [[0, 2, 2, -2, 8, -8]])
    gain = np.full(6, 2.0)
    offset = np.full(6, -1.0)  # 2 * analog - 1
    np.testing.assert_array_equal(adc_convert(i_ua, gain, offset, 8.0, 8),
                                  [[0, 2, 4, -6, 8, -8]])
    # noise: 0.125 of full scale = 1 LSB per unit of z
    z = np.array([[1.0, -1.0, 0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(adc_convert(i_ua, ones, zeros, 8.0, 8, z, 0.125),
                                  [[2, 0, 2, -2, 8, -8]])
    # z given with zero noise is the same as no z
    np.testing.assert_array_equal(adc_convert(i_ua, ones, zeros, 8.0, 8, z, 0.0),
                                  adc_convert(i_ua, ones, zeros, 8.0, 8))


def test_adc_non_contiguous_float64_and_empty_inputs():
    rng = np.random.default_rng(2)
    i_ua = rng.uniform(-60, 60, size=(8, 10))
    gain = rng.normal(1, 0.02, size=20)[::2]
    offset = rng.normal(0, 1, size=10)
    z = rng.standard_normal((10, 8)).T
    got = adc_convert(i_ua, gain, offset, 50.0, 127, z_out=z, noise_std_fs=0.01)
    want = reference.adc_convert(i_ua.astype(np.float32), gain.astype(np.float32),
                                 offset.astype(np.float32), 50.0, 127,
                                 z.astype(np.float32), 0.01)
    np.testing.assert_array_equal(got, want)
    empty = adc_convert(np.zeros((0, 3)), np.ones(3), np.zeros(3), 50.0, 127)
    assert empty.shape == (0, 3) and empty.dtype == np.int32
