"""What runs one sweep point, in whichever process: the job, the record it returns.

A job is a plain dict (picklable, small): the point's index, id and settings, the model and
weights to resolve, the chip as a spec dict, the run options as a RunConfig dict and the
``sources`` the sweep was started from (:meth:`chipsim.explore.SweepSpec.sources`: the chipsim
version and the SHA-256 of the model, chip spec and data files). The worker rebuilds the chip
and the config, resolves the model (cached per process, the cache checked against the file's
content at every point), checks that the model and data files still have the content the
sweep started from, calls :func:`chipsim.simulate` and returns the point's *record* (see
:func:`run_point`). Its randomness comes only from the seed in the job's RunConfig, so a
point gives the same record in any process, in any order.

This module imports only the standard library at load time, so a pool's initializer
(:func:`limit_threads`) runs before numpy, numba or a BLAS library are loaded.
"""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["THREAD_VARIABLES", "RECORD_FORMAT", "REUSE_KEYS", "SourceChanged", "limit_threads",
           "model_source", "group_jobs", "run_point", "run_points", "run_points_limited"]

#: the RunConfig fields whose points can share programmed chip instances (they change only how
#: the instances are read: :class:`chipsim.functional.accuracy.Programmed`)
REUSE_KEYS = ("t_seconds", "gdc")

#: environment variables that cap the threads of numba and the BLAS/OpenMP libraries
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")
#: the ``format`` field of a point record
RECORD_FORMAT = "chipsim-sweep-point/1"


def limit_threads() -> None:
    """Cap numba, OpenMP and BLAS at one thread in this process (a sweep worker's start).

    Sets :data:`THREAD_VARIABLES` to 1 (effective for libraries not loaded yet) and lowers
    numba's thread count if it is loaded, so N workers on N cores do not oversubscribe them.
    BLAS needs nothing here: :func:`run_point` caps it while a point runs, in any process.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    import sys

    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(1)


class SourceChanged(RuntimeError):
    """An input file's content differs from the one the sweep was started from."""


#: (model, weights) -> (ResolvedModel, SHA-256 of its file): the models this process resolved
_MODELS: dict[tuple[str, str], tuple[Any, str | None]] = {}


def _source_sha256(resolved: Any) -> str | None:
    """SHA-256 of the file a resolved model was read from (None: built from code, e.g. a zoo
    network with seeded random weights; :attr:`ResolvedModel.source` then names no file)."""
    from pathlib import Path

    from ..fileio import file_sha256

    source = Path(resolved.source)
    return file_sha256(source) if source.is_file() else None


def model_source(model: str, weights: str) -> tuple[Any, str | None]:
    """The resolved model (:func:`chipsim.models.resolve_model`) and the SHA-256 of the file
    it was read from (None for a network built from code).

    Cached per process, and the cache entry is used only while the file's content is the same:
    a file changed between two sweeps in one process is resolved again.
    """
    from ..models import resolve_model

    key = (model, weights)
    hit = _MODELS.get(key)
    if hit is not None and _source_sha256(hit[0]) == hit[1]:
        return hit
    resolved = resolve_model(model, weights)
    if len(_MODELS) >= 4:
        _MODELS.clear()
    _MODELS[key] = (resolved, _source_sha256(resolved))
    return _MODELS[key]


def group_jobs(jobs: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """``jobs`` in groups that share programmed chip instances: the same model, chip and run
    options but for :data:`REUSE_KEYS`, in the jobs' order, at most ``size`` jobs a group (so
    that a sweep over time alone still spreads over the workers).

    Examples
    --------
    >>> jobs = [{"model": "m", "weights": None, "chip": {}, "config": {"t_seconds": t,
    ...          "gdc": True, "seed": s}} for s in (0, 1) for t in (60, 3600, 86400)]
    >>> [len(g) for g in group_jobs(jobs, 2)]
    [2, 1, 2, 1]
    """
    import json

    groups: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        shared = {k: v for k, v in job["config"].items() if k not in REUSE_KEYS}
        key = json.dumps([job["model"], job["weights"], job["chip"], shared], sort_keys=True,
                         default=str)
        groups.setdefault(key, []).append(job)
    return [g[i:i + size] for g in groups.values() for i in range(0, len(g), max(size, 1))]


def run_points(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`run_point` of each job of a group (:func:`group_jobs`), in order: the chip
    instances programmed for the first are read again for the others, with the same records
    (each record's ``reused_instances`` says how many it reused)."""
    from ..functional.accuracy import Programmed

    programmed = Programmed()
    return [run_point(job, programmed) for job in jobs]


def run_points_limited(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`run_points` after :func:`limit_threads` (for workers without an initializer)."""
    limit_threads()
    return run_points(jobs)


def run_point(job: dict[str, Any], programmed: Any = None) -> dict[str, Any]:
    """Simulate one sweep point; return its record (never raises for a point's failure).

    Parameters
    ----------
    job
        ``index``, ``id``, ``settings``, ``model``, ``weights``, ``chip`` (spec dict),
        ``config`` (RunConfig dict); optionally ``data`` (a data file) and ``sources`` (the
        sweep's :meth:`~chipsim.explore.SweepSpec.sources`; without it no file is checked).

    Returns
    -------
    dict
        ``format``, ``id``, ``index``, ``settings``, ``sources`` (what the point was computed
        from: the job's ``sources``, checked against the model and data files read),
        ``status`` (``ok``; ``infeasible`` when the library refused the point, e.g. a network
        that does not fit the chip; ``error`` for any other exception, and for a model or data
        file whose content is no longer that of ``sources``: :class:`SourceChanged`),
        ``reason`` (the message, None when ok), ``summary`` (the
        report's summary, None unless ok), ``energy_breakdown`` (µJ per inference per
        component), ``static_power_mw`` (the timing section's
        :attr:`~chipsim.report.sections.TimingSection.static_power_mw`), ``accuracy_instances``
        (score of each chip instance), ``reused_instances`` (chip instances read again from
        the group's programming, :func:`run_points`), ``mvms_per_inference``, ``spec_hash`` and
        ``elapsed_s`` (wall time of the point: the one field that differs between runs).
        The point runs with BLAS capped at one thread, whichever process runs it.
    """
    from ..errors import ChipsimError

    start = time.perf_counter()
    record: dict[str, Any] = {
        "format": RECORD_FORMAT, "id": job["id"], "index": job["index"],
        "settings": job["settings"], "sources": job.get("sources"), "status": "ok",
        "reason": None, "summary": None,
        "energy_breakdown": None, "static_power_mw": None, "accuracy_instances": None,
        "reused_instances": None, "mvms_per_inference": None, "spec_hash": None,
    }
    from threadpoolctl import threadpool_limits

    try:
        # one BLAS thread in every executor: a float32 product's rounding depends on how BLAS
        # splits it over threads, and a point must give the same record wherever it runs
        with threadpool_limits(1):
            record.update(_simulate(job, programmed))
    except ChipsimError as exc:
        record.update(status="infeasible", reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad point must not end the sweep
        record.update(status="error", reason=f"{type(exc).__name__}: {exc}")
    record["elapsed_s"] = round(time.perf_counter() - start, 3)
    return record


def _check_source(what: str, path: str, found: str | None, expected: str | None) -> None:
    if found != expected:
        raise SourceChanged(f"the {what} {path} changed while the sweep ran (SHA-256 "
                            f"{str(expected)[:12]}... at the start, {str(found)[:12]}... now); "
                            "a rerun refuses this sweep directory: start the sweep again in "
                            "another --out")


def _simulate(job: dict[str, Any], programmed: Any) -> dict[str, Any]:
    from ..api import simulate, spec_hash
    from ..config import RunConfig
    from ..spec import ChipSpec, from_dict

    chip = from_dict(ChipSpec, job["chip"])
    config = RunConfig(**job["config"])
    resolved, model_sha = model_source(job["model"], job["weights"])
    sources, data = job.get("sources"), job.get("data")
    if sources is not None:
        _check_source("model file", resolved.source, model_sha, sources["model_sha256"])
        if data is not None:
            from ..fileio import file_sha256

            _check_source("data file", data, file_sha256(data), sources["data_sha256"])
    report = simulate(resolved.workload, chip, None, config, task=resolved.task, data=data,
                      programmed=programmed)
    timing, accuracy = report.timing, report.accuracy
    return {
        "summary": report.summary,
        "energy_breakdown": timing.energy_breakdown if timing else None,
        "static_power_mw": timing.static_power_mw if timing else None,
        "accuracy_instances": list(accuracy.chip) if accuracy else None,
        "reused_instances": accuracy.reused_instances if accuracy else None,
        "mvms_per_inference": timing.mvms_per_inference if timing else None,
        "spec_hash": spec_hash(chip),
    }
