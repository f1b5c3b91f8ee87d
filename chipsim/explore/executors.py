"""Where sweep points run: in this process, in a local process pool, or on a Dask cluster.

Each executor takes the jobs of :mod:`chipsim.explore.worker` and yields ``(job, record)``
pairs as points finish (in any order); the caller stores each record at once. The records do
not depend on the executor: a point's randomness comes from its RunConfig's seed alone.

- :class:`SerialExecutor` (``--workers 1``, the default): one point after another, here.
- :class:`PoolExecutor` (``--workers N``): a :class:`concurrent.futures.ProcessPoolExecutor`
  of N spawned processes, each capped at one numba/BLAS/OpenMP thread
  (:func:`~chipsim.explore.worker.limit_threads`). N is at most :func:`max_workers`, 4 × the
  CPUs this process may run on: a worker is a one-thread process holding its own model and
  programmed chip instances (hundreds of MB for ResNet-9), so workers beyond the CPUs only
  time-share them and add memory; an unbounded N would exhaust the memory or the process
  table. More machines: ``--dask``.
- :class:`DaskExecutor` (``--dask ADDRESS``): an existing ``dask.distributed`` scheduler
  (extra ``dask``: ``pip install "dask[distributed]"``); its workers need chipsim installed,
  and the model and weights files reachable at the same paths.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ChipsimError

__all__ = ["Executor", "SerialExecutor", "PoolExecutor", "DaskExecutor", "make_executor",
           "max_workers", "check_workers"]

Job = dict[str, Any]


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def max_workers() -> int:
    """The most local worker processes (``--workers``): 4 × the CPUs this process may run on
    (see the module docstring)."""
    return 4 * _cpus()


def check_workers(workers: int) -> int:
    """``workers`` if it is a number of local processes :class:`PoolExecutor` takes.

    Raises
    ------
    ChipsimError
        Unless 1 <= ``workers`` <= :func:`max_workers`.
    """
    limit = max_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= limit:
        raise ChipsimError(f"--workers: must be >= 1 and <= {limit} (4 × the {_cpus()} CPUs "
                           "this process may use: each worker is a one-thread process with its "
                           f"own model and chips, so more only add memory), got {workers!r}")
    return workers


class Executor:
    """Runs jobs and yields ``(job, record)`` as they finish; a context manager."""

    #: a short description for messages
    label = "executor"

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, dict[str, Any]]]:
        """Yield ``(job, record)`` for every job, in completion order."""
        raise NotImplementedError

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(abort=exc_type is not None)

    def close(self, abort: bool = False) -> None:
        """Release the executor's processes or connections; ``abort`` stops running points."""


def _failed(job: Job, exc: BaseException) -> dict[str, Any]:
    """The record of a job whose worker failed outside :func:`run_point` (lost worker, ...)."""
    from .worker import RECORD_FORMAT

    return {"format": RECORD_FORMAT, "id": job["id"], "index": job["index"],
            "settings": job["settings"], "status": "error",
            "reason": f"{type(exc).__name__}: {exc}", "summary": None}


def _groups(jobs: list[Job], workers: int) -> list[list[Job]]:
    """The jobs in groups that share programmed chip instances (:func:`group_jobs`), each at
    most an even share of the workers' load."""
    from .worker import group_jobs

    return group_jobs(jobs, -(-len(jobs) // max(workers, 1)))


def _results(group: list[Job], future: Any) -> Iterator[tuple[Job, dict[str, Any]]]:
    """``(job, record)`` of every job of a finished group; a failed worker is every one of
    its points' error."""
    try:
        records = future.result()
    except Exception as exc:  # noqa: BLE001 - a broken worker is its points' error
        records = [_failed(job, exc) for job in group]
    yield from zip(group, records, strict=True)


class SerialExecutor(Executor):
    """Runs every job in this process, one group after another (``--workers 1``)."""

    label = "in-process"

    def __init__(self, fn: Callable[[list[Job]], list[dict[str, Any]]] | None = None):
        from .worker import run_points

        self._fn = fn or run_points

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, dict[str, Any]]]:
        for group in _groups(jobs, 1):
            yield from zip(group, self._fn(group), strict=True)


class PoolExecutor(Executor):
    """A local pool of ``workers`` spawned processes, one thread each."""

    def __init__(self, workers: int):
        self.workers = check_workers(workers)
        self.label = f"{workers} local processes"
        self._pool: Any = None

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, dict[str, Any]]]:
        import concurrent.futures as cf
        import multiprocessing

        from .worker import limit_threads, run_points

        if not jobs:
            return
        # spawn, not fork: a child starts without this process's numba/BLAS thread pools, and
        # limit_threads runs before it loads them
        self._pool = cf.ProcessPoolExecutor(
            max_workers=min(self.workers, len(jobs)),
            mp_context=multiprocessing.get_context("spawn"), initializer=limit_threads)
        futures = {self._pool.submit(run_points, group): group
                   for group in _groups(jobs, self.workers)}
        for fut in cf.as_completed(futures):
            yield from _results(futures[fut], fut)

    def close(self, abort: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if abort:  # interrupted: the points still running are not waited for
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Points sent to the ``dask.distributed`` scheduler at ``address``.

    Raises
    ------
    ChipsimError
        When ``dask.distributed`` is not installed or the scheduler cannot be reached.
    """

    def __init__(self, address: str, timeout_s: float = 10.0):
        try:
            from distributed import Client
        except ImportError:
            raise ChipsimError('--dask: needs dask.distributed (pip install '
                               '"dask[distributed]", or chipsim\'s extra "dask")') from None
        self.address = address
        self.label = f"dask scheduler {address}"
        try:
            self._client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ChipsimError(f"--dask: cannot reach the scheduler at {address}: "
                               f"{exc}") from None

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, dict[str, Any]]]:
        from distributed import as_completed

        from .worker import run_points_limited

        futures = {}
        workers = max(len(self._client.scheduler_info().get("workers", {})), 1)
        for group in _groups(jobs, workers):
            fut = self._client.submit(run_points_limited, group, pure=False)
            futures[fut.key] = (fut, group)
        for fut in as_completed([f for f, _ in futures.values()], loop=self._client.loop):
            try:
                yield from _results(futures[fut.key][1], fut)
            finally:
                fut.release()

    def close(self, abort: bool = False) -> None:
        client, self._client = getattr(self, "_client", None), None
        if client is not None:
            client.close()


def make_executor(workers: int = 1, dask: str | None = None) -> Executor:
    """The executor for ``--workers N`` / ``--dask ADDRESS``.

    Examples
    --------
    >>> make_executor().label
    'in-process'
    """
    if dask is not None:
        if workers != 1:
            raise ChipsimError("--workers and --dask: give one of them (the Dask workers are "
                               "the scheduler's)")
        return DaskExecutor(dask)
    if check_workers(workers) == 1:
        return SerialExecutor()
    return PoolExecutor(workers)
