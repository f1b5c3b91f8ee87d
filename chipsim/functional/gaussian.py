"""Standard-normal draws of the analog read-out, two threads at a time for large draws.

The per-MVM noise needs one float32 Gaussian per ADC conversion; NumPy draws them one by one
and releases the GIL while it does, so a large draw is split in two halves filled at once by
two generators spawned from the caller's (:meth:`numpy.random.Generator.spawn`). The split
does not depend on the machine or on the threads allowed (always two halves above a fixed
size), so the same seed gives the same numbers everywhere.
"""

from __future__ import annotations

import numpy as np

from ..kernels._threads import MIN_ITEMS, run_both

__all__ = ["standard_normal"]


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 standard-normal draws of ``shape`` from ``rng``.

    Parameters
    ----------
    rng
        The source; below :data:`~chipsim.kernels._threads.MIN_ITEMS` values it draws them
        itself, above it spawns two child generators that fill the two halves of the
        (C-ordered) array.
    shape
        Shape of the result.

    Returns
    -------
    numpy.ndarray of float32

    Examples
    --------
    >>> a = standard_normal(np.random.default_rng(0), (300, 300))
    >>> b = standard_normal(np.random.default_rng(0), (300, 300))
    >>> a.dtype, bool((a == b).all())
    (dtype('float32'), True)
    """
    out = np.empty(shape, dtype=np.float32)
    if out.size < MIN_ITEMS:
        rng.standard_normal(out=out, dtype=np.float32)
        return out
    flat = out.reshape(-1)
    half = flat.size // 2
    first, second = rng.spawn(2)
    run_both(lambda: first.standard_normal(out=flat[:half], dtype=np.float32),
             lambda: second.standard_normal(out=flat[half:], dtype=np.float32))
    return out
