"""The Pareto front of a set of design points (a pure function of their objective values).

Examples
--------
>>> pareto_front([[1, 5], [2, 4], [1, 3], [3, 1]]).tolist()
[True, True, False, True]
>>> pareto_front([[1, 5], [2, 4]], maximize=[True, False]).tolist()
[False, True]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["pareto_front", "dominates"]


def dominates(a: ArrayLike, b: ArrayLike, maximize: bool | Sequence[bool] = True) -> bool:
    """Whether point ``a`` dominates ``b``: no worse in every objective, better in one.

    Examples
    --------
    >>> dominates([2, 2], [1, 2]), dominates([2, 2], [2, 2]), dominates([1], [2], False)
    (True, False, True)
    """
    va, vb = _oriented(np.atleast_2d(np.asarray([a, b], dtype=float)), maximize)
    return bool(np.all(va >= vb) and np.any(va > vb))


def _oriented(values: np.ndarray, maximize: bool | Sequence[bool]) -> np.ndarray:
    """``values`` with the objectives to minimise negated (so that larger is better)."""
    sense = np.broadcast_to(np.asarray(maximize, dtype=bool), values.shape[1:])
    return np.where(sense, values, -values)


def pareto_front(values: ArrayLike, maximize: bool | Sequence[bool] = True) -> np.ndarray:
    """Boolean mask of the Pareto-optimal rows of ``values``.

    Parameters
    ----------
    values
        ``(n, d)`` objective values of ``n`` points (a 1-D array is ``n`` points of one
        objective).
    maximize
        For each objective (or for all), whether larger is better; smaller is better where
        False.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` booleans: True where no other point dominates the row (is no worse in every
        objective and better in at least one). Equal points do not dominate each other, so
        duplicates on the front are all marked. Rows with a NaN are never on the front and
        dominate nothing.

    Examples
    --------
    >>> pareto_front([[90.0, 2.0], [88.0, 5.0], [85.0, 4.0], [float("nan"), 9.0]]).tolist()
    [True, True, False, False]
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2:
        raise ValueError(f"values: must be (n, d), got shape {v.shape}")
    n = v.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    try:
        o = _oriented(v, maximize)
    except ValueError:
        raise ValueError(f"maximize: must be one flag or {v.shape[1]} flags, got "
                         f"{maximize!r}") from None
    valid = ~np.isnan(o).any(axis=1)
    ov = o[valid]
    # dom[j, i]: row j dominates row i
    ge = (ov[:, None, :] >= ov[None, :, :]).all(axis=2)
    gt = (ov[:, None, :] > ov[None, :, :]).any(axis=2)
    dominated = (ge & gt).any(axis=0)
    out = np.zeros(n, dtype=bool)
    out[np.flatnonzero(valid)] = ~dominated
    return out
