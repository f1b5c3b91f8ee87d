"""The one entry point: a network on a chip, mapped once, scored for accuracy and timed.

>>> from chipsim import RunConfig, simulate
>>> report = simulate("resnet9", "hermes", config=RunConfig(samples=50, instances=2,
...                                                          timing=False))
>>> report.accuracy.metric, report.accuracy.samples
('top1', 50)

The same :class:`~chipsim.mapping.Mapping` drives the functional executor (accuracy) and the
timing engine (latency, throughput, energy); both count the same MVMs per core, and the report
records both counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import os
import platform
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from datetime import UTC, datetime

import numpy as np
from threadpoolctl import threadpool_limits

from . import __version__
from .config import RunConfig
from .data.user import Dataset, load_data, task_dataset
from .errors import ChipsimError
from .functional.accuracy import Programmed, _mapping_key, chip_accuracy
from .functional.core import products_method
from .functional.executor import activation_scales
from .kernels._threads import Threads
from .mapping import Mapping, MappingError, map_workload
from .models import ResolvedModel, resolve_model
from .report.model import Report
from .report.sections import AccuracyAtTime, Provenance
from .spec import ChipSpec, resolve_chip, to_dict
from .workload.graph import Workload
from .workload.lowered import LoweredLayer

__all__ = ["simulate", "spec_hash", "check_workload_size"]

#: provenance fields that change from run to run; everything else in a report is determined
#: by the inputs and the seed
VOLATILE_FIELDS = ("provenance.date", "provenance.host", "provenance.python",
                   "provenance.command")


def spec_hash(chip: ChipSpec) -> str:
    """A short stable hash of a chip spec (SHA-256 of its canonical JSON)."""
    text = json.dumps(to_dict(chip), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_workload_size(name: str, layers: Sequence[LoweredLayer], config: RunConfig) -> None:
    """Refuse a workload of more input vectors per inference than ``config.max_vectors``.

    The sum over the weight layers ``layers`` of their vectors per inference is what the
    timing run steps through (a convolution over a 100,000 × 100,000 image has 10^10, and its
    run would not end); a :class:`ChipsimError` naming the largest layer and the setting that
    raises the bound.

    Examples
    --------
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> check_workload_size("big", [LoweredLayer("c", "conv", 9, 8, 10**10)], RunConfig())
    Traceback (most recent call last):
    ...
    chipsim.errors.ChipsimError: big: 10,000,000,000 input vectors per inference (layer 'c': \
10,000,000,000), more than run.max_vectors = 1,000,000; raise it with --set run.max_vectors=N \
if the run may take that long
    """
    total = sum(ly.vectors for ly in layers)
    if total > config.max_vectors:
        big = max(layers, key=lambda ly: ly.vectors)
        raise ChipsimError(f"{name}: {total:,} input vectors per inference (layer {big.name!r}: "
                           f"{big.vectors:,}), more than run.max_vectors = "
                           f"{config.max_vectors:,}; raise it with --set run.max_vectors=N if "
                           "the run may take that long")


def _check_faults(mapping: Mapping, layers, chip: ChipSpec, config: RunConfig) -> None:
    """Before the long runs: no block on a dead core, and every route the mapping needs
    exists (broken links can cut cores apart); a :class:`MappingError` otherwise."""
    from .timing import TimingConfig, TimingError
    from .timing.routes import check_routes
    from .timing.run import plan_of

    dead = set(chip.faults.dead_cores)
    for b in mapping.blocks:
        if b.core in dead:
            raise MappingError(f"{b.label}: core {b.core} is dead (faults.dead_cores of chip "
                               f"{chip.name!r})")
    if not chip.faults.broken_links:
        return  # (other missing routes, e.g. of a graph file, the timing run reports)
    try:
        plan = plan_of(mapping, layers, chip, TimingConfig.of(config))
    except TimingError:
        return  # a chip the timing engine cannot run: reported by the timing run, if any
    check_routes(plan, chip)


def _background(fn: Callable, *args) -> Future:
    """``fn(*args)`` on a daemon thread of its own: a run that fails meanwhile (a network
    that does not fit, ...) reports at once instead of waiting for it."""
    done: Future = Future()

    def work() -> None:
        try:
            done.set_result(fn(*args))
        except BaseException as exc:  # handed to whoever waits for the result
            done.set_exception(exc)

    threading.Thread(target=work, name="chipsim-scales", daemon=True).start()
    return done


def simulate(workload: Workload | ResolvedModel | str, chip: ChipSpec | str = "hermes",
             mapping: Mapping | None = None,
             config: RunConfig | None = None, *, task: str | None = None,
             data: Dataset | str | os.PathLike[str] | None = None,
             t_sweep: Sequence[float] | None = None, command: str | None = None,
             progress: Callable | None = None,
             programmed: Programmed | None = None) -> Report:
    """Map ``workload`` on ``chip`` (unless ``mapping`` is given), score and time it.

    Parameters
    ----------
    workload
        The network with its weights: a :class:`~chipsim.workload.graph.Workload`, a
        :class:`~chipsim.models.ResolvedModel` (its task scores it unless ``task`` or ``data``
        is given), or what :func:`~chipsim.models.resolve_model` takes (a zoo name with its
        shipped weights, a ``.npz`` weights or ``.onnx`` file).
    chip
        The hardware: a :class:`~chipsim.spec.ChipSpec`, a preset name or a spec file.
    mapping
        A mapping to use; by default the workload is mapped with ``config.replicated``.
    config
        Run options (:class:`RunConfig`).
    task
        Name of the built-in task that scores the workload (``resnet9``, ``lstm-ptb``,
        ``char-transformer``).
    data
        The samples to score it on instead (the first ``config.samples`` of them): a
        :class:`~chipsim.data.user.Dataset` or a data file (``.npz`` with ``x``, ``y`` and
        optionally ``x_calib``; :mod:`chipsim.data.user`). Without ``task`` and ``data``, no
        accuracy is measured.
    t_sweep
        Times since programming (s) at which to measure the accuracy too: the same chip
        instances, programmed once and read again at each time (so the points differ by
        drift and read noise only), in the report's ``accuracy_vs_time`` section (a row per
        time: ``t_seconds``, ``chip_mean``, ``chip_ci95``, ``software``, ``chip``,
        ``reused_instances``). Needs the accuracy measurement.
    command
        The command line, recorded in the provenance.
    progress
        Optional iterable wrapper (tqdm-like) for long loops.
    programmed
        Chip instances kept between calls that differ only in ``config.t_seconds`` and
        ``config.gdc`` (:class:`~chipsim.functional.accuracy.Programmed`): read anew instead of
        programmed, with the same result; the report's ``accuracy.reused_instances`` says how
        many.

    Returns
    -------
    Report
        Provenance, chip, mapping, accuracy (or None) and timing (or None).

    Raises
    ------
    MappingError
        If the workload does not fit the chip's working cores, a block of ``mapping`` sits on
        a dead core, or two cores that must exchange data have no route between them.
    ChipsimError
        If the workload has more input vectors per inference than ``config.max_vectors``
        (:func:`check_workload_size`), before anything is mapped or run; if the environment
        variable ``CHIPSIM_PRODUCTS`` is not ``auto``, ``exact`` or ``blas``.
    """
    config = config or RunConfig()
    products = products_method()  # CHIPSIM_PRODUCTS checked before anything runs
    if isinstance(workload, str):
        workload = resolve_model(workload)
    if isinstance(workload, ResolvedModel):
        if task is None and data is None:
            task = workload.task
        workload = workload.workload
    chip = resolve_chip(chip)
    samples = None
    if config.accuracy:
        if data is not None:
            samples = (data if isinstance(data, Dataset) else load_data(data, workload)).first(
                config.samples)
        elif task is not None:
            samples = task_dataset(task, config.samples)
    measure = samples is not None
    times = _times(t_sweep, measure)
    if times and programmed is None:
        programmed = Programmed()  # the sweep reads the same instances again
    sequential = config.ci_width is not None and measure
    if sequential and config.instances < 2:
        raise ChipsimError(f"run.ci_width (--ci-width): needs at least 2 chip instances (one "
                           f"has no interval), got instances = {config.instances}")
    layers = tuple(workload.lowered())
    check_workload_size(workload.name, layers, config)
    with threadpool_limits(1) if measure else nullcontext():
        # BLAS on one thread as chip_accuracy runs it: the activation scales begun before
        # the mapping (they depend on no chip) are those the first instance would compute
        scales = None
        if measure and (programmed is None or programmed.scales is None):
            scales = _background(activation_scales, workload, samples.calibration)
        wrap = progress or (lambda it, **_: it)
        if mapping is None:
            for _ in wrap([0], desc="mapping"):
                mapping = map_workload(layers, chip, replicate=config.replicated,
                                       seed=config.seed, workload_name=workload.name)
        _check_faults(mapping, layers, chip, config)
        timing = None
        with Threads(max_workers=1) as side:
            if config.timing:  # on its own thread, beside the accuracy measurement's threads
                from .timing import TimingConfig
                from .timing.run import simulate_timing

                tcfg = TimingConfig.of(config)
                # the time since programming and GDC do not change the timing: kept with
                # the programmed instances of points that differ only in those
                key = kept = None
                if programmed is not None:
                    key = (_mapping_key(mapping), spec_hash(chip), tcfg)
                    kept = programmed.timing.get(key)
                timing = side.submit(
                    lambda: kept or simulate_timing(mapping, layers, chip, tcfg))
            accuracy = None
            if measure:
                accuracy = chip_accuracy(
                    workload, mapping, chip, samples.x, samples.y, samples.score,
                    instances=config.instances, t_s=config.t_seconds, gdc=config.gdc,
                    quantize=config.quantize, seed=config.seed, batch=config.batch,
                    calibration_inputs=samples.calibration, progress=progress,
                    ci_width=config.ci_width, programmed=programmed, scales=scales)
                accuracy = dataclasses.replace(accuracy, data=samples.source)
            if timing is not None:
                for _ in wrap([0], desc=f"timing run ({config.inferences} inferences)"):
                    timing = timing.result()
            if timing is not None and programmed is not None:
                programmed.timing[key] = timing
    provenance = Provenance(
        chipsim=__version__, spec_hash=spec_hash(chip), seed=config.seed, command=command,
        date=datetime.now(UTC).isoformat(timespec="seconds"), host=platform.node(),
        python=sys.version.split()[0], numpy=np.__version__, volatile_fields=VOLATILE_FIELDS,
        products=products)
    report = Report.build(provenance=provenance, chip=chip, config=config, workload=workload,
                          mapping=mapping, accuracy=accuracy, timing=timing)
    if not times:
        return report
    rows = []
    for t in wrap(times, desc="t sweep"):
        acc = accuracy
        if t != config.t_seconds:
            cfg = dataclasses.replace(config, t_seconds=t, timing=False)
            acc = simulate(workload, chip, mapping, cfg, data=samples, progress=progress,
                           programmed=programmed).accuracy
        rows.append(AccuracyAtTime(t, acc.chip_mean, acc.chip_ci95, acc.software, acc.chip,
                                   acc.reused_instances))
    return dataclasses.replace(report, accuracy_vs_time=tuple(rows))


def _times(t_sweep: Sequence[float] | None, measure: bool) -> list[float]:
    """The distinct times of ``t_sweep``, ascending; a bad one is a :class:`ChipsimError`."""
    if not t_sweep:
        return []
    if not measure:
        raise ChipsimError("t_sweep: needs the accuracy measurement (a model with a built-in "
                           "task or data, and config.accuracy)")
    out = []
    for t in t_sweep:
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 <= t < math.inf:
            raise ChipsimError(f"t_sweep: times must be finite numbers >= 0 (s), got {t!r}")
        out.append(float(t))
    return sorted(set(out))
