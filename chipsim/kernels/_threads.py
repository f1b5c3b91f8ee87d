"""Python threads that share a kernel's work with the calling thread.

The kernels that split a large call (the read-out, the Gaussian draw) run their pieces on
these threads, each piece a ``nogil`` Numba function, the caller doing one piece itself. They
sleep between calls; an OpenMP team (Numba's ``prange``) spins after each parallel region
and takes the CPU from OpenBLAS's threads, and the other way round (a core MVM took 2.5
times as long; a draw after a matrix product, 1.9 times).

:class:`Threads` is the thread pool of the rest of the package: a ``with`` block left by
Ctrl-C drops the work not yet started instead of waiting for it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["helper_pool", "Threads"]

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


class Threads(ThreadPoolExecutor):
    """A :class:`~concurrent.futures.ThreadPoolExecutor` whose ``with`` block, when left by a
    :class:`KeyboardInterrupt` (Ctrl-C), cancels the work not yet started and does not wait
    for the work running (its results are not needed), so the interrupt reaches the command
    line at once. Left any other way, it waits for all its work, as the standard pool does.
    """

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> bool:
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        self.shutdown(wait=not interrupted, cancel_futures=interrupted)
        return False
