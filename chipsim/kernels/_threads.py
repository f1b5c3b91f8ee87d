"""Python threads that share a kernel's work with the calling thread.

The kernels that split a large call (the read-out, the Gaussian draw) run their pieces on
these threads, each piece a ``nogil`` Numba function, the caller doing one piece itself. They
sleep between calls; an OpenMP team (Numba's ``prange``) spins after each parallel region
and takes the CPU from OpenBLAS's threads, and the other way round (a core MVM took 2.5
times as long; a draw after a matrix product, 1.9 times).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["helper_pool"]

_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def helper_pool() -> ThreadPoolExecutor:
    """The threads besides the caller: Numba's thread count − 1, started once."""
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                          thread_name_prefix="chipsim-kernel")
        return _helpers
