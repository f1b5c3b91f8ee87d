"""Shared hypothesis settings, strategies and array generators of the kernel tests.

Hypothesis draws small things (shapes, a seed, magnitudes, a value mode); the arrays are then
generated with a seeded NumPy Generator, which keeps the examples fast in pure-Python mode
(NUMBA_DISABLE_JIT=1) while covering large and small magnitudes and exact rounding ties.
"""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

# Bounded and derandomized: every run draws the same examples (the project fixes its seeds).
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)

sizes = st.integers(1, 40)
shapes2d = st.tuples(sizes, sizes)
seeds = st.integers(0, 2**32 - 1)
modes = st.sampled_from(["uniform", "log", "ties"])


def rng_of(seed: int) -> np.random.Generator:
    """The NumPy Generator of a drawn seed."""
    return np.random.default_rng(seed)


def log_uniform(rng: np.random.Generator, shape, lo_exp: float, hi_exp: float) -> np.ndarray:
    """Random signs times ``2**U(lo_exp, hi_exp)`` (float64): many binades at once."""
    mags = 2.0 ** rng.uniform(lo_exp, hi_exp, size=shape)
    return np.where(rng.random(shape) < 0.5, -mags, mags)


def grid_ties(rng: np.random.Generator, shape, quantum: float, k_max: int) -> np.ndarray:
    """Values ``(k + h) * quantum`` with integer ``|k| <= k_max`` and ``h`` in {0, 0.5}: half of
    them exact ties of rounding to multiples of ``quantum`` (float64, exact for power-of-two
    ``quantum``)."""
    k = rng.integers(-k_max, k_max + 1, size=shape).astype(np.float64)
    half = 0.5 * rng.integers(0, 2, size=shape)
    return (k + half) * quantum


def fp16_midpoints(rng: np.random.Generator, shape) -> np.ndarray:
    """float32 values that are exact midpoints between adjacent finite FP16 numbers, or one
    float32 ulp beside them (ties and near-ties of FP16 rounding, subnormals included)."""
    bits = rng.integers(0, 0x7BFF, size=shape, dtype=np.uint16)  # finite, below 65504
    lo = bits.view(np.float16).astype(np.float64)
    hi = (bits + 1).view(np.float16).astype(np.float64)
    mid = ((lo + hi) / 2).astype(np.float32)  # 12 significant bits: exact in float32
    nudge = rng.integers(-1, 2, size=shape)
    mid = np.where(nudge > 0, np.nextafter(mid, np.float32(np.inf)), mid)
    mid = np.where(nudge < 0, np.nextafter(mid, np.float32(0)), mid)
    return np.where(rng.random(shape) < 0.5, -mid, mid).astype(np.float32)


def assert_same_bits(got: np.ndarray, want: np.ndarray) -> None:
    """Bit-for-bit equality of two float arrays (so +0.0 != -0.0), except that NaNs only need to
    be in the same places (NaN payloads are not part of any kernel's contract)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    uint = np.dtype(f"u{got.dtype.itemsize}")
    diff = (got.view(uint) != want.view(uint)) & ~nan
    assert not diff.any(), f"{diff.sum()} values differ, e.g. {got[diff][:5]} vs {want[diff][:5]}"
