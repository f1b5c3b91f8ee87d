"""Rounding to IEEE half precision (FP16), the number format of the chip's digital units.

:func:`_fp16_scalar` is the one place that rounds to FP16; the LDPU kernels call it after every
operation. It takes the float64 result of the operation: for the LDPU's operands (FP16 values,
INT8 data, counts, float32 values in the FP16 range) that result is exact, so one rounding gives
the correctly rounded FP16 operation, as an IEEE FP16 unit computes it.

Numba's on-disk cache of a kernel in another module does not notice edits of
:func:`_fp16_scalar`: after changing it, delete ``chipsim/kernels/__pycache__``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _checks
from ._checks import FP16_OVERFLOW

__all__ = ["fp16_round"]

_MIN_NORMAL = 2.0**-14  # smallest normal FP16 magnitude
_SUBNORMAL_INV = 2.0**24  # 1 / (FP16 subnormal quantum 2**-24)
_SUBNORMAL_STEP = 2.0**-24  # the FP16 subnormal quantum
_SPLITTER = 2.0**42 + 1.0  # Veltkamp constant keeping 11 of float64's 53 bits


@njit(cache=True, nogil=True, inline="always")
def _fp16_plain(x):
    """:func:`_fp16_scalar` of an ``x`` whose magnitude is 0 or in ``[2**-14, 65520)``
    (:func:`_fp16_plain_ok`), and only then: its common case alone, for loops that round a
    row in this one and check the row's magnitudes.

    Veltkamp splitting: ``c - (c - x)`` is ``x`` rounded to 53 - 42 = 11 significant bits,
    to nearest; ties (values of 12 significant bits, all float32-representable) go to even,
    as checked against frexp/rint rounding for every float32 in the FP16 normal range. It is
    several times faster than frexp/ldexp."""
    c = x * _SPLITTER
    return c - (c - x)


@njit(cache=True, nogil=True)
def _fp16_scalar(x):
    """``x`` (float64) rounded to the nearest FP16 value (ties to even), as float64.

    NaN stays NaN, ``|x| >= 65520`` gives ±inf, magnitudes below ``2**-14`` are rounded to
    multiples of ``2**-24`` (subnormals); the sign of zero is kept.
    """
    ax = abs(x)
    rounded = _fp16_plain(x)
    # the other cases computed too and selected, without branches, so that loops calling
    # this vectorize: subnormals on the 2**-24 grid (the product by 2**-24 is exact), then
    # overflow to ±inf, then NaN
    subnormal = np.rint(x * _SUBNORMAL_INV) * _SUBNORMAL_STEP
    rounded = subnormal if ax < _MIN_NORMAL else rounded
    rounded = rounded if ax < FP16_OVERFLOW else math.copysign(math.inf, x)
    return rounded if x == x else x


@njit(cache=True, nogil=True, inline="always")
def _fp16_plain_ok(x):
    """Whether :func:`_fp16_plain` rounds ``x`` as :func:`_fp16_scalar` does (an int: 1 or 0,
    to be summed over a row)."""
    ax = abs(x)
    return np.int64((ax >= _MIN_NORMAL and ax < FP16_OVERFLOW) or ax == 0.0)


@njit(cache=True, nogil=True, inline="always")
def _int8_code(x):
    """``clip(rint(_fp16_scalar(x)), -128, 127)`` (float64), the INT8 code the LDPU sends for
    ``x``; NaN (an ``inf − inf`` of the LDPU) gives 0. Only the rounding of normal
    magnitudes can change the code (a subnormal rounds to 0 either way; a finite overflow
    clips as its ±inf does), so the common case alone serves, without the checks that keep
    a loop from vectorizing."""
    r = _fp16_plain(x)
    q = np.rint(r if abs(x) < 1e300 else x)  # ±inf, NaN: as they are
    q = min(max(q, -128.0), 127.0)
    return q if x == x else 0.0


@njit(cache=True, nogil=True)
def _fp16_round_flat(x):
    out = np.empty(x.size, dtype=np.float32)
    for i in range(x.size):
        out[i] = _fp16_scalar(np.float64(x[i]))
    return out


def fp16_round(x) -> np.ndarray:
    """Round every value to the nearest IEEE half-precision number, returned as float32.

    Round to nearest, ties to even; magnitudes below ``2**-14`` round to the subnormal grid
    (quantum ``2**-24``); ``|x| >= 65520`` becomes ``±inf``; NaN and ±inf pass through. The
    result equals ``x.astype(np.float16).astype(np.float32)`` bit for bit.

    Parameters
    ----------
    x : array_like of float or int, any shape
        Values to round. float32 and float64 are rounded directly (one rounding); other real
        dtypes are converted to float64 first. NaN and Inf are allowed.

    Returns
    -------
    numpy.ndarray of float32, shape of ``x``
        The FP16 values.

    Raises
    ------
    ValueError
        If ``x`` is not a real (integer or float) array.

    Examples
    --------
    >>> import numpy as np
    >>> fp16_round(np.array([1.0 + 2**-11, 0.1, 70000.0], dtype=np.float32))
    array([1.        , 0.09997559,        inf], dtype=float32)
    """
    arr = _checks.as_real("x", x, None, dtype=None, finite=False)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return _fp16_round_flat(arr.ravel()).reshape(arr.shape)
