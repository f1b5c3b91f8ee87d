"""Standard-normal draws of the analog read-out, two threads at a time for large draws.

The per-MVM noise needs one float32 Gaussian per ADC conversion; NumPy draws them one by one
and releases the GIL while it does, so a large draw is split in two halves filled at once by
two generators spawned from the caller's (:meth:`numpy.random.Generator.spawn`). The split
does not depend on the machine (always two halves above a fixed size), so the same seed gives
the same numbers everywhere.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["standard_normal"]

PARALLEL_MIN = 1 << 16
"""Draws at least this large are split over two threads (below, a thread costs more than it
saves)."""

_pool: ThreadPoolExecutor | None = None


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 standard-normal draws of ``shape`` from ``rng``.

    Parameters
    ----------
    rng
        The source; below :data:`PARALLEL_MIN` values it draws them itself, above it spawns
        two child generators that fill the two halves of the (C-ordered) array.
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
    global _pool
    out = np.empty(shape, dtype=np.float32)
    if out.size < PARALLEL_MIN:
        rng.standard_normal(out=out, dtype=np.float32)
        return out
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="chipsim-normal")
    flat = out.reshape(-1)
    half = flat.size // 2
    jobs = [_pool.submit(child.standard_normal, out=part, dtype=np.float32)
            for child, part in zip(rng.spawn(2), (flat[:half], flat[half:]), strict=True)]
    for job in jobs:
        job.result()
    return out
