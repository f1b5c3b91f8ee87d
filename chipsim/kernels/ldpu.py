"""The local digital processing unit (LDPU): FP16 post-processing of one core's ADC counts.

Every operation is an IEEE half-precision operation: its exact result is rounded to FP16 with
:func:`~chipsim.kernels.fp16._fp16_scalar` (all values are held as FP16 numbers in float32 or
float64 containers). The LDPU converts counts with one per-column affine, may apply a ReLU,
adds INT8 data received over a link, and re-quantizes its outputs to INT8 for transmission.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _checks
from .fp16 import _fp16_round_flat, _fp16_scalar, _int8_code

__all__ = ["ldpu_affine", "requantize_int8", "accumulate_int8"]


@njit(cache=True, nogil=True)
def _ldpu_affine(counts, offset16, scale16, bias16, relu):
    rows, cols = counts.shape
    out = np.empty((rows, cols), dtype=np.float32)
    for b in range(rows):
        for c in range(cols):
            v = _fp16_scalar(np.float64(counts[b, c]) - np.float64(offset16[c]))
            v = _fp16_scalar(v * np.float64(scale16[c]))
            v = _fp16_scalar(v + np.float64(bias16[c]))
            if relu and not v > 0.0:
                v = 0.0
            out[b, c] = v
    return out


@njit(cache=True, nogil=True)
def _requantize_int8(v, inv16):
    rows, cols = v.shape
    out = np.empty((rows, cols), dtype=np.int8)
    for b in range(rows):
        for c in range(cols):
            out[b, c] = np.int32(_int8_code(np.float64(v[b, c]) * inv16))
    return out


@njit(cache=True, nogil=True)
def _accumulate_int8(acc, q, scale16):
    rows, cols = acc.shape
    out = np.empty((rows, cols), dtype=np.float32)
    for b in range(rows):
        for c in range(cols):
            received = _fp16_scalar(np.float64(q[b, c]) * scale16)
            out[b, c] = _fp16_scalar(np.float64(acc[b, c]) + received)
    return out


def _fp16_vector(name: str, values, cols: int) -> np.ndarray:
    """A validated (C,) parameter vector rounded once (from float64) to FP16: it lives in
    FP16 registers."""
    arr = _checks.as_real(name, values, 1, dtype=np.float64)
    _checks.per_column(name, arr, cols)
    _checks.fp16_range(name, arr)
    return _fp16_round_flat(arr)


def ldpu_affine(counts, offset, scale, bias, relu=False) -> np.ndarray:
    """Per-column FP16 affine of ADC counts, with optional ReLU.

    With ``offset``, ``scale`` and ``bias`` first rounded to FP16 and ``fp16`` rounding every
    intermediate result::

        v = fp16(fp16(fp16(counts - offset) * scale) + bias)
        v = v if v > 0 else 0          # only when relu

    This one affine carries the ADC offset and gain correction, the weight scale, a folded
    batch-norm and the bias. FP16 overflow gives ±inf, as in the hardware format.

    Parameters
    ----------
    counts : array_like of int, shape (B, C)
        ADC counts, each in the int32 range.
    offset, scale, bias : array_like of float, shape (C,)
        Per-column parameters; finite, ``|x| < 65520`` (they must fit FP16), rounded once to
        FP16 from their float64 values. ``scale`` may be negative or zero (e.g. a folded
        batch-norm).
    relu : bool, default False
        Apply ``max(v, 0)`` (giving +0.0 for ``v <= 0``).

    Returns
    -------
    numpy.ndarray of float32, shape (B, C)
        The LDPU outputs, all FP16-representable.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, counts outside int32, NaN/Inf or FP16 overflow in the
        parameters, or a non-bool ``relu``.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([[10, -20]], dtype=np.int32)
    >>> ldpu_affine(counts, np.array([1.0, 0.0]), np.array([0.1, 0.1]), np.zeros(2), relu=True)
    array([[0.89990234, 0.        ]], dtype=float32)
    """
    arr = _checks.as_int("counts", counts, 2, lo=-(2**31), hi=2**31 - 1, dtype=np.int32)
    cols = arr.shape[1]
    offset16 = _fp16_vector("offset", offset, cols)
    scale16 = _fp16_vector("scale", scale, cols)
    bias16 = _fp16_vector("bias", bias, cols)
    relu = _checks.flag("relu", relu)
    return _ldpu_affine(arr, offset16, scale16, bias16, relu)


def requantize_int8(v, out_scale) -> np.ndarray:
    """Re-quantize LDPU values to INT8 for transmission.

    ``q = clip(rint(fp16(v * fp16(1 / out_scale))), -128, 127)`` (``rint`` rounds half to even;
    ``1 / out_scale`` is computed in float64, then rounded to FP16).

    Parameters
    ----------
    v : array_like of float, shape (B, C)
        LDPU values (normally FP16-representable, e.g. from :func:`ldpu_affine`), converted to
        float32; must be finite.
    out_scale : float
        Value of one INT8 step; finite, > 0, with ``1 / out_scale`` in ``(2**-25, 65520)`` so
        that it is a non-zero finite FP16 number.

    Returns
    -------
    numpy.ndarray of int8, shape (B, C)

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf in ``v`` or an ``out_scale`` out of range.

    Examples
    --------
    >>> import numpy as np
    >>> requantize_int8(np.array([[0.5, -3.0, 0.013]], dtype=np.float32), 0.01)
    array([[  50, -128,    1]], dtype=int8)
    """
    arr = _checks.as_real("v", v, 2)
    return _requantize_int8(arr, requantize_factor(out_scale))


def requantize_factor(out_scale) -> float:
    """``fp16(1 / out_scale)``, the factor of :func:`requantize_int8` (same checks), for a
    caller that applies the unchecked kernel to many arrays of one scale.

    Examples
    --------
    >>> requantize_factor(0.01)
    100.0
    """
    out_scale = _checks.positive("out_scale", out_scale)
    _checks.fp16_nonzero("out_scale", 1.0 / out_scale, "1/out_scale")
    return _fp16_scalar(1.0 / out_scale)


def accumulate_int8(acc, q, scale) -> np.ndarray:
    """Add dequantized INT8 data received over a link to FP16 values.

    ``out = fp16(acc + fp16(q * fp16(scale)))``. The same operation serves both uses of the
    LDPU's adder: accumulating the partial sums of a layer split over several cores' rows, and
    adding a residual (skip) connection; there is no second kernel.

    Parameters
    ----------
    acc : array_like of float, shape (B, C)
        The local values (normally FP16-representable), converted to float32; must be finite.
    q : array_like of int, shape (B, C)
        The received INT8 data, each in ``[-128, 127]``.
    scale : float
        Value of one INT8 step of ``q``; finite, > 0, in ``(2**-25, 65520)`` so that it is a
        non-zero finite FP16 number.

    Returns
    -------
    numpy.ndarray of float32, shape (B, C)
        The sums, all FP16-representable (±inf on FP16 overflow).

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf in ``acc``, ``q`` outside INT8 or ``scale`` out of
        range.

    Examples
    --------
    >>> import numpy as np
    >>> acc = np.array([[1.0, 2048.0]], dtype=np.float32)
    >>> accumulate_int8(acc, np.array([[3, 1]], dtype=np.int8), 0.5)
    array([[   2.5, 2048. ]], dtype=float32)
    """
    acc_arr = _checks.as_real("acc", acc, 2)
    q_arr = _checks.as_int("q", q, 2, lo=-128, hi=127, dtype=np.int8)
    _checks.same_shape("q", q_arr, "acc", acc_arr.shape)
    return _accumulate_int8(acc_arr, q_arr, accumulate_factor(scale))


def accumulate_factor(scale) -> float:
    """``fp16(scale)``, the factor of :func:`accumulate_int8` (same checks), for a caller
    that applies the unchecked kernel to many arrays of one scale.

    Examples
    --------
    >>> accumulate_factor(0.01)
    0.01000213623046875
    """
    scale = _checks.positive("scale", scale)
    _checks.fp16_nonzero("scale", scale, "scale")
    return _fp16_scalar(scale)
