"""Two threads for the element-wise kernels and the noise draws.

The kernels are compiled with ``nogil=True``; :func:`split_rows` runs one over the two halves
of its rows at once (one half on the calling thread, one on a pool thread). Every row is
computed by the same code whichever thread runs it, so the split never changes a result.
:func:`run_both` does the same for two independent calls (e.g. two random generators filling
two halves of an array).

Two threads, unless ``NUMBA_NUM_THREADS=1`` (a sweep worker:
:func:`chipsim.explore.worker.limit_threads`) or the machine has one core: then the halves
run one after the other. A forked child starts with no pool (the parent's threads do not
exist in it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["MIN_ITEMS", "threads", "split_rows", "run_both"]

MIN_ITEMS = 1 << 16
"""Work of at least this many elements is split (below, handing a half to a thread costs
more than it saves)."""

_pool: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def threads() -> int:
    """Threads the split work may use: 1 or 2."""
    cap = os.environ.get("NUMBA_NUM_THREADS", "")
    if cap.strip() == "1" or (os.cpu_count() or 1) < 2:
        return 1
    return 2


def run_both(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """``(first(), second())``, the two at once when :func:`threads` allows."""
    global _pool
    if threads() < 2:
        return first(), second()
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chipsim")
    job = _pool.submit(second)
    try:
        a = first()
    finally:
        b = job.result()  # never leave the other half running (e.g. on an exception)
    return a, b


def split_rows(kernel: Callable[..., Any], rows: int, items: int,
               *args: Any) -> tuple[Any, ...]:
    """Run ``kernel(*args, lo, hi)`` over the rows ``[0, rows)``, in two halves at once when
    the work (``items`` elements) is large enough; returns each call's result."""
    if items < MIN_ITEMS or rows < 2:
        return (kernel(*args, 0, rows),)
    half = rows // 2
    return run_both(lambda: kernel(*args, 0, half), lambda: kernel(*args, half, rows))
