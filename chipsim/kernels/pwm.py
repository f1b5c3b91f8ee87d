"""The PWM input stage: quantize activations to sign + magnitude codes, split into duty cycles.

Each crossbar row is driven by a pulse-width modulator: a code ``k`` in ``[-levels, levels]``
is a pulse of ``|k|`` LSBs (1 ns each on the reference chip) at the read voltage of the code's
sign. ``levels = 127`` for the chip's 8-bit inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ChipsimError
from . import _checks

__all__ = ["pwm_quantize", "duty_split", "int_codes", "duty_square", "code_norms"]

_INT16_MAX = 32767


@njit(cache=True, nogil=True)
def _clip_code(code, top):
    """``code`` clipped to ``[-top, top]``."""
    if code > top:
        return top
    if code < -top:
        return -top
    return code


@njit(cache=True, nogil=True)
def _pwm_quantize(x, scale, levels):
    rows, cols = x.shape
    out = np.empty((rows, cols), dtype=np.int16)
    top = np.float64(levels)
    for b in range(rows):
        for r in range(cols):
            out[b, r] = int(_clip_code(np.rint(np.float64(x[b, r]) / scale * top), top))
    return out


@njit(cache=True, nogil=True)
def _duty_split(codes, levels):
    rows, cols = codes.shape
    u_pos = np.empty((rows, cols), dtype=np.float32)
    u_neg = np.empty((rows, cols), dtype=np.float32)
    top = np.float32(levels)
    zero = np.float32(0.0)
    for b in range(rows):
        for r in range(cols):
            u = np.float32(codes[b, r]) / top
            u_pos[b, r] = u if u > zero else zero
            u_neg[b, r] = -u if u < zero else zero  # never -0.0
    return u_pos, u_neg


@njit(cache=True, nogil=True)
def _int_codes(x, step, levels):
    rows, cols = x.shape
    out = np.empty((rows, cols), dtype=np.int16)
    top = np.float32(levels)
    for b in range(rows):
        for r in range(cols):
            # float32 division, as NumPy's; min/max keep the loop vectorized
            out[b, r] = np.int16(min(max(np.rint(np.float32(x[b, r]) / step), -top), top))
    return out


@njit(cache=True, nogil=True)
def _duty_square(codes, levels, u_pos, u_neg, u_sq):
    rows, cols = codes.shape
    top = np.float32(levels)
    zero = np.float32(0.0)
    negative = False
    for b in range(rows):
        for r in range(cols):  # branch-free: the loop vectorizes
            u = np.float32(codes[b, r]) / top
            pos = u if u > zero else zero
            neg = -u if u < zero else zero  # never -0.0
            u_pos[b, r] = pos
            u_neg[b, r] = neg
            u_sq[b, r] = pos * pos + neg * neg  # one of the two is +0: exact
            negative |= codes[b, r] < 0
    return negative


@njit(cache=True, nogil=True)
def _duty_nonneg(codes, levels, u_pos, u_sq):
    """:func:`_duty_square` assuming codes >= 0 (``u_pos``, ``u_sq = u_pos²``; ``u_neg`` 0);
    returns the smallest and largest code, which say whether the assumption held."""
    rows, cols = codes.shape
    top = np.float32(levels)
    lo = 0
    hi = 0
    for b in range(rows):
        for r in range(cols):
            code = codes[b, r]
            lo = min(lo, code)
            hi = max(hi, code)
            u = np.float32(code) / top
            u_pos[b, r] = u
            u_sq[b, r] = u * u
    return lo, hi


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _code_norms(codes, row_weight, sq_sum, weighted):
    # float64 sums of integers below 2**53: exact in any order, so they may vectorize
    rows, cols = codes.shape
    for b in range(rows):
        src = codes[b]
        sq = 0.0
        acc = 0.0
        for c in range(cols):
            x = np.float64(src[c])
            sq += x * x
            acc += abs(x) * row_weight[c]
        sq_sum[b] = sq
        weighted[b] = acc


def code_norms(codes: np.ndarray, row_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per vector of the int16 PWM ``codes`` (B, K): ``Σ code²`` and ``Σ |code| ·
    row_weight`` with integer ``row_weight`` (K,), both exact (float64: the sums are
    integers, ``row_weight`` must keep them below 2**53).

    Examples
    --------
    >>> import numpy as np
    >>> code_norms(np.array([[3, -4]], dtype=np.int16), np.array([2, 1]))
    (array([25.]), array([10.]))
    """
    codes = np.ascontiguousarray(codes, dtype=np.int16)
    weight = np.asarray(row_weight, dtype=np.float64)
    if codes.ndim != 2 or weight.shape != (codes.shape[1],):
        raise ChipsimError(f"code_norms: codes (B, K) and row_weight (K,), got "
                           f"{codes.shape} and {weight.shape}")
    if not (weight == np.rint(weight)).all() or (
            codes.shape[1] * 32767.0 * np.abs(weight).max(initial=0.0) >= 2.0**53):
        raise ChipsimError("code_norms: row_weight must be integers small enough for exact "
                           "float64 sums")
    sq_sum = np.empty(len(codes), dtype=np.float64)
    weighted = np.empty(len(codes), dtype=np.float64)
    _code_norms(codes, weight, sq_sum, weighted)
    return sq_sum, weighted


def duty_parts(codes: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray | None,
                                                         np.ndarray]:
    """``(u_pos, u_neg, u_sq)`` of :func:`duty_square`, with ``u_neg`` None when no code is
    negative; for the core model's hot path: ``codes`` must be a C-contiguous int16 array;
    codes outside ``[-levels, levels]`` raise. Inputs >= 0 (a network's after a ReLU) take
    one pass.

    Examples
    --------
    >>> import numpy as np
    >>> u_pos, u_neg, u_sq = duty_parts(np.array([[127, 0]], dtype=np.int16), 127)
    >>> u_pos, u_neg
    (array([[1., 0.]], dtype=float32), None)
    """
    u_pos = np.empty(codes.shape, dtype=np.float32)
    u_sq = np.empty(codes.shape, dtype=np.float32)
    lo, hi = _duty_nonneg(codes, levels, u_pos, u_sq)
    if lo < -levels or hi > levels:
        raise ChipsimError(f"codes: must lie in [-{levels}, {levels}], got [{lo}, {hi}]")
    if lo >= 0:
        return u_pos, None, u_sq
    u_neg = np.empty(codes.shape, dtype=np.float32)
    _duty_square(codes, levels, u_pos, u_neg, u_sq)
    return u_pos, u_neg, u_sq


def pwm_quantize(x, scale, levels) -> np.ndarray:
    """Quantize inputs to the PWM's sign + magnitude codes.

    ``code = clip(rint(x / scale * levels), -levels, levels)``, rounding half to even, computed
    in float64 from the float32 values of ``x``.

    Parameters
    ----------
    x : array_like of float, shape (B, R)
        Input vectors (one per row of the batch), converted to float32; must be finite.
    scale : float
        Input value that maps to the full code ``levels``; finite and > 0.
    levels : int
        Largest code magnitude, in ``[1, 32767]`` (127 for 8-bit inputs).

    Returns
    -------
    numpy.ndarray of int16, shape (B, R)
        The codes, in ``[-levels, levels]``.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf in ``x``, ``scale <= 0`` or ``levels`` out of range.

    Examples
    --------
    >>> import numpy as np
    >>> pwm_quantize(np.array([[0.5, -1.0, 2.0, 0.002]]), 1.0, 127)
    array([[  64, -127,  127,    0]], dtype=int16)
    """
    arr = _checks.as_real("x", x, 2)
    scale = _checks.positive("scale", scale)
    levels = _checks.levels_int("levels", levels, _INT16_MAX)
    return _pwm_quantize(arr, scale, levels)


def duty_split(codes, levels) -> tuple[np.ndarray, np.ndarray]:
    """Duty fractions of the positive- and the negative-voltage pulses of PWM codes.

    ``u = codes / levels`` (float32 division); ``u_pos = max(u, 0)``, ``u_neg = max(-u, 0)``.
    A row's input is ``u_pos - u_neg``; at most one of the two is non-zero.

    Parameters
    ----------
    codes : array_like of int, shape (B, R)
        PWM codes, as from :func:`pwm_quantize`, each in ``[-levels, levels]``.
    levels : int
        Largest code magnitude, in ``[1, 32767]``.

    Returns
    -------
    u_pos, u_neg : numpy.ndarray of float32, shape (B, R)
        Fractions of the PWM window spent at positive and at negative read voltage, in [0, 1].

    Raises
    ------
    ValueError
        On a wrong shape or dtype, a code outside ``[-levels, levels]`` or ``levels`` out of
        range.

    Examples
    --------
    >>> import numpy as np
    >>> u_pos, u_neg = duty_split(np.array([[127, -64, 0]]), 127)
    >>> u_pos
    array([[1., 0., 0.]], dtype=float32)
    >>> u_neg
    array([[0.      , 0.503937, 0.      ]], dtype=float32)
    """
    levels = _checks.levels_int("levels", levels, _INT16_MAX)
    arr = _checks.as_int("codes", codes, 2, lo=-levels, hi=levels, dtype=np.int16)
    return _duty_split(arr, levels)


def int_codes(x, step, levels) -> np.ndarray:
    """Codes of values that lie on an integer grid of ``step``, in float32 arithmetic.

    ``clip(rint(float32(x) / float32(step)), -levels, levels)`` (``rint`` rounds half to even):
    the PWM codes of the INT8 activations a core receives, computed exactly as
    ``np.clip(np.rint(x / step), -levels, levels)`` on a float32 array in one pass.

    Parameters
    ----------
    x : array_like of float, shape (B, R)
        Input values, converted to float32; must be finite.
    step : float
        Value of one code; finite and > 0 (used as float32).
    levels : int
        Largest code magnitude, in ``[1, 32767]``.

    Returns
    -------
    numpy.ndarray of int16, shape (B, R)

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf in ``x``, ``step <= 0`` or ``levels`` out of range.

    Examples
    --------
    >>> import numpy as np
    >>> int_codes(np.array([[0.5, -0.25, 0.75, 40.0]], dtype=np.float32), 0.5, 127)
    array([[ 1,  0,  2, 80]], dtype=int16)
    """
    arr = _checks.as_real("x", x, 2)
    step = _checks.positive("step", step)
    levels = _checks.levels_int("levels", levels, _INT16_MAX)
    return _int_codes(arr, np.float32(step), levels)


def duty_square(codes, levels) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """:func:`duty_split` and the squared duty fractions, in one pass.

    ``u_pos``, ``u_neg`` as :func:`duty_split`; ``u_sq = u_pos * u_pos + u_neg * u_neg``
    (float32), the weights of the read-noise variance of a column; ``negative`` tells whether
    any code is negative (else ``u_neg`` is all zeros).

    Parameters
    ----------
    codes : array_like of int, shape (B, R)
        PWM codes, each in ``[-levels, levels]``.
    levels : int
        Largest code magnitude, in ``[1, 32767]``.

    Returns
    -------
    u_pos, u_neg, u_sq : numpy.ndarray of float32, shape (B, R)
    negative : bool

    Raises
    ------
    ValueError
        On a wrong shape or dtype, a code outside ``[-levels, levels]`` or ``levels`` out of
        range.

    Examples
    --------
    >>> import numpy as np
    >>> u_pos, u_neg, u_sq, negative = duty_square(np.array([[127, -64, 0]]), 127)
    >>> u_sq, negative
    (array([[1.       , 0.2539525, 0.       ]], dtype=float32), True)
    """
    levels = _checks.levels_int("levels", levels, _INT16_MAX)
    arr = _checks.as_int("codes", codes, 2, lo=-levels, hi=levels, dtype=np.int16)
    u_pos = np.empty(arr.shape, dtype=np.float32)
    u_neg = np.empty(arr.shape, dtype=np.float32)
    u_sq = np.empty(arr.shape, dtype=np.float32)
    negative = _duty_square(arr, levels, u_pos, u_neg, u_sq)
    return u_pos, u_neg, u_sq, bool(negative)
