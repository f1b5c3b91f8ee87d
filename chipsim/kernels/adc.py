"""The per-column current-controlled-oscillator (CCO) ADC."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ChipsimError
from . import _checks

__all__ = ["adc_convert"]

_INT32_MAX = 2**31 - 1


@njit(cache=True, nogil=True)
def _adc_count(analog, gain, offset_lsb, top):
    """Counts of one conversion of ``analog`` LSB (float64) by a column of ``gain`` and
    ``offset_lsb``: ``clip(rint(gain * analog + offset), -top, top)``."""
    count = np.rint(np.float64(gain) * analog + np.float64(offset_lsb))
    if count > top:
        count = top
    elif count < -top:
        count = -top
    # int32 (top < 2**31): a conversion that AVX2 vectorizes, where int64's is scalar
    return np.int32(count)


@njit(cache=True, nogil=True)
def _adc_convert(i_ua, gain, offset_lsb, full_scale, levels, z_out, noise_lsb, noisy):
    rows, cols = i_ua.shape
    out = np.empty((rows, cols), dtype=np.int32)
    top = np.float64(levels)
    for b in range(rows):
        for c in range(cols):
            analog = np.float64(i_ua[b, c]) / full_scale * top
            if noisy:
                analog = analog + noise_lsb * np.float64(z_out[b, c])
            out[b, c] = _adc_count(analog, gain[c], offset_lsb[c], top)
    return out


def adc_convert(i_ua, gain, offset_lsb, full_scale_ua, levels, z_out=None,
                noise_std_fs=0.0) -> np.ndarray:
    """Convert column currents to signed ADC counts.

    In float64, per column ``c``::

        analog = i_ua / full_scale_ua * levels + (noise_std_fs * levels) * z_out   # LSB
        counts = clip(rint(gain[c] * analog + offset_lsb[c]), -levels, levels)

    (``rint`` rounds half to even; the noise term is left out when ``z_out`` is None.) ``gain``
    and ``offset_lsb`` are the residual per-column spread of one chip instance, drawn once by
    the caller; ``z_out`` is drawn per conversion by the caller.

    Parameters
    ----------
    i_ua : array_like of float, shape (B, C)
        Column currents in µA, converted to float32; must be finite.
    gain : array_like of float, shape (C,)
        Per-column gain (1 = ideal), converted to float32; finite and > 0.
    offset_lsb : array_like of float, shape (C,)
        Per-column offset in LSB, converted to float32; finite.
    full_scale_ua : float
        Current (µA) that maps to ``levels`` counts; finite and > 0.
    levels : int
        Largest count magnitude, in ``[1, 2**31 - 1]`` (``2**(bits-1) - 1``).
    z_out : array_like of float, shape (B, C), optional
        Standard-normal draws for the output noise, converted to float32; must be finite.
        Required when ``noise_std_fs > 0``.
    noise_std_fs : float, default 0.0
        Output-noise σ as a fraction of full scale; finite and >= 0.

    Returns
    -------
    numpy.ndarray of int32, shape (B, C)
        Counts in ``[-levels, levels]``.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf, ``gain <= 0``, ``full_scale_ua <= 0``, ``levels``
        out of range, ``noise_std_fs < 0``, or ``noise_std_fs > 0`` without ``z_out``.

    Examples
    --------
    >>> import numpy as np
    >>> i = np.array([[25.0, -60.0, 0.2]], dtype=np.float32)
    >>> adc_convert(i, np.ones(3), np.zeros(3), 50.0, 127)
    array([[  64, -127,    1]], dtype=int32)
    """
    arr = _checks.as_real("i_ua", i_ua, 2)
    cols = arr.shape[1]
    gain_arr = _checks.as_real("gain", gain, 1)
    _checks.per_column("gain", gain_arr, cols)
    _checks.positive_values("gain", gain_arr, "column gain")
    offset_arr = _checks.as_real("offset_lsb", offset_lsb, 1)
    _checks.per_column("offset_lsb", offset_arr, cols)
    full_scale = _checks.positive("full_scale_ua", full_scale_ua)
    levels = _checks.levels_int("levels", levels, _INT32_MAX)
    noise_std = _checks.non_negative("noise_std_fs", noise_std_fs)
    if z_out is None:
        if noise_std > 0.0:
            raise ChipsimError("z_out: standard-normal draws of shape (B, C) are "
                               f"required when noise_std_fs > 0 (got {noise_std!r})")
        z_arr = np.zeros((0, 0), dtype=np.float32)
    else:
        z_arr = _checks.as_real("z_out", z_out, 2)
        _checks.same_shape("z_out", z_arr, "i_ua", arr.shape)
    noise_lsb = noise_std * levels
    return _adc_convert(arr, gain_arr, offset_arr, full_scale, levels, z_arr, noise_lsb,
                        z_out is not None)
