"""Combining the line currents of the read phases into one signed column current."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _checks

__all__ = ["combine_phases"]


@njit(cache=True)
def _clip(value, bound):
    if value > bound:
        return bound
    if value < -bound:
        return -bound
    return value


@njit(cache=True)
def _combine_phases(products, one_phase, i_sat):
    _, rows, cols = products.shape
    out = np.empty((rows, cols), dtype=np.float32)
    for b in range(rows):
        for c in range(cols):
            p0 = np.float64(products[0, b, c])
            p1 = np.float64(products[1, b, c])
            p2 = np.float64(products[2, b, c])
            p3 = np.float64(products[3, b, c])
            if one_phase:
                i = _clip(p0 - p1, i_sat) - _clip(p2 - p3, i_sat)
            else:
                i = ((_clip(p0, i_sat) - _clip(p1, i_sat)) - _clip(p2, i_sat)) + _clip(p3, i_sat)
            out[b, c] = i
    return out


def combine_phases(products, one_phase, i_sat_ua) -> np.ndarray:
    """Signed column currents (µA) from the four input-sign × weight-sign products.

    ``products[k]`` is ``V · u @ G`` for one combination of input sign (duty fractions
    ``u_pos``/``u_neg``) and weight polarity (``G_pos``/``G_neg``); ``G_pos'``/``G_neg'`` are the
    conductances as read at negative voltage::

        products[0] = V · u_pos @ G_pos      products[1] = V · u_neg @ G_pos'
        products[2] = V · u_pos @ G_neg      products[3] = V · u_neg @ G_neg'

    A bit line saturates at ``i_sat_ua``, so every line current is clipped to
    ``[-i_sat_ua, i_sat_ua]`` before the currents are combined:

    * four-phase read (``one_phase=False``): each product is the line current of its own read
      phase, clipped on its own; ``i = clip(p0) - clip(p1) - clip(p2) + clip(p3)``.
    * one-phase read (``one_phase=True``): both input signs drive the rows at once, so the
      positive line carries ``p0 - p1`` and the negative line ``p2 - p3``;
      ``i = clip(p0 - p1) - clip(p2 - p3)``.

    Arithmetic is float64 (left to right, as written), rounded once to float32.

    Parameters
    ----------
    products : array_like of float, shape (4, B, C)
        The four products in µA, converted to float32; must be finite.
    one_phase : bool
        True for the one-phase read, False for the four-phase read.
    i_sat_ua : float
        Saturation current of a bit line (µA); finite and > 0.

    Returns
    -------
    numpy.ndarray of float32, shape (B, C)
        Column currents in µA.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf in ``products``, a non-bool ``one_phase`` or
        ``i_sat_ua <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[[120.0]], [[10.0]], [[30.0]], [[5.0]]], dtype=np.float32)
    >>> combine_phases(p, False, 100.0)  # 100 - 10 - 30 + 5
    array([[65.]], dtype=float32)
    >>> combine_phases(p, True, 100.0)  # min(110, 100) - 25
    array([[75.]], dtype=float32)
    """
    arr = _checks.as_real("products", products, 3)
    _checks.leading_axis("products", arr, 4, "(4, B, C), one (B, C) product per phase")
    one_phase = _checks.flag("one_phase", one_phase)
    i_sat = _checks.positive("i_sat_ua", i_sat_ua)
    return _combine_phases(arr, one_phase, i_sat)
