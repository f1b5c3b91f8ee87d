"""Accuracy of a mapped network on the simulated chip, over independent chip instances.

The software score is the float forward of the IR on the same samples. The chip score is
measured on ``K`` independently programmed chip instances (each its own programming noise,
drift exponents and spreads, its own read noise); the report gives their mean and a 95 %
confidence interval of the mean (Student t with ``K − 1`` degrees of freedom).

With a target width ``ci_width`` (``RunConfig.ci_width``, ``chipsim run --ci-width W``) the
measurement is sequential and stops as soon as that interval is narrower than the target
(:func:`chip_accuracy` says exactly how); ``samples`` and ``instances`` are then maxima.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ChipsimError
from ..kernels._threads import Threads
from ..kernels.normal import key_from
from ..mapping import Mapping
from ..spec import ChipSpec, from_dict, to_dict
from ..workload.forward import forward
from ..workload.graph import Workload
from .executor import ChipInstance, Scales

__all__ = ["AccuracyResult", "CiStage", "Programmed", "chip_accuracy", "run_instance", "CI_STAGE",
           "CI_MIN_INSTANCES", "UNIT"]

#: samples run together (one :meth:`ChipInstance.run` call), at fixed places in the set of
#: samples: ``[k · UNIT, (k + 1) · UNIT)``. A sample's read noise depends only on its index,
#: but the float32 sums of its array products may not: some BLAS kernels (OpenBLAS's for
#: AVX2, measured here) round a row of a matrix product differently by the rows beside it.
#: With fixed units the outputs depend on neither the batch nor the threads, bit for bit.
UNIT = 50
#: samples per stage of a sequential (``ci_width``) measurement, and its chip batch: fixed, so
#: the result depends on neither ``RunConfig.batch`` nor anything else but the seed and target
#: (a whole number of :data:`UNIT`)
CI_STAGE = 100
#: chip instances a sequential measurement programs before its first check (fewer only when
#: ``instances`` is smaller)
CI_MIN_INSTANCES = 3


@dataclass(frozen=True, slots=True)
class AccuracyResult:
    """Software and chip scores of one design point.

    ``metric`` is ``"top1"`` (percent, higher is better) or ``"bpc"`` (bits per character,
    lower is better); ``chip`` holds the score of every instance and ``chip_ci95`` the
    Student-t 95 % interval of their mean, clipped to the metric's range
    (:data:`METRIC_RANGE`).

    Per core (index = core id), of the first instance: ``mvms_per_core`` (the run's MVMs),
    ``calibration_mvms_per_core`` (GDC reads) and ``range_calibration_mvms_per_core`` (ADC
    range calibration, 0 with ``core.adc_range = fixed``). ``adc_full_scale_ua_per_core``
    holds every instance's ADC full scale per core (µA; one tuple per instance; the spec's
    ``core.adc_full_scale_ua`` with a fixed range; 0 on cores without a block).

    ``samples`` and ``instances`` are what the chip score used; ``samples_max`` and
    ``instances_max`` the limits (equal to them without a target). ``ci95_width`` is the
    interval's width (``hi − lo``). With a target width (``ci_target``, None without one),
    ``ci_reached`` says whether ``ci95_width <= ci_target`` when the measurement stopped (None
    without a target) and ``ci_stages`` lists every check (:class:`CiStage`, empty without a
    target). ``reused_instances`` counts the
    instances read anew from an earlier measurement's programming instead of programmed
    (:class:`Programmed`). ``data`` names the samples' source (the built-in task or the user's
    file; set by :func:`chipsim.simulate`).
    """

    metric: str
    software: float
    chip_mean: float
    chip_ci95: tuple[float, float]
    instances: int
    samples: int
    chip: tuple[float, ...]
    t_seconds: float
    gdc: bool
    mvms_per_core: tuple[int, ...]
    calibration_mvms_per_core: tuple[int, ...]
    range_calibration_mvms_per_core: tuple[int, ...]
    adc_full_scale_ua_per_core: tuple[tuple[float, ...], ...]
    ci95_width: float = 0.0
    ci_target: float | None = None
    ci_reached: bool | None = None
    samples_max: int = 0
    instances_max: int = 0
    ci_stages: tuple[CiStage, ...] = ()
    reused_instances: int = 0
    data: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (tuples as lists); :meth:`from_dict` reads it back."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str = "accuracy") -> AccuracyResult:
        """The result :meth:`to_dict` wrote; a wrong one is a :class:`~chipsim.spec.SpecError`
        naming the field under ``path``."""
        return from_dict(cls, data, path)


@dataclass(frozen=True, slots=True)
class CiStage:
    """One check of a sequential measurement: the instances' mean score and its 95 % interval
    after ``samples`` samples on ``instances`` instances."""

    samples: int
    instances: int
    chip_mean: float
    chip_ci95: tuple[float, float]


#: the values a score can take, by metric (a confidence interval stays inside them)
METRIC_RANGE = {"top1": (0.0, 100.0), "bpc": (0.0, np.inf)}


def _ci95(values: np.ndarray, metric: str) -> tuple[float, float]:
    """Student-t 95 % interval of the mean of ``values``, clipped to the metric's range
    (with 3 instances the t interval of a top-1 near 100 % would reach past it)."""
    # Student's t quantile: scipy.stats.t.ppf is this function, whose module imports in a
    # third of the time (0.17 s against 0.49 s)
    from scipy.special import stdtrit

    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean
    half = float(stdtrit(len(values) - 1, 0.975) * values.std(ddof=1) / np.sqrt(len(values)))
    low, high = METRIC_RANGE.get(metric, (-np.inf, np.inf))
    return max(mean - half, low), min(mean + half, high)


def chip_accuracy(workload: Workload, mapping: Mapping, chip: ChipSpec, x: np.ndarray,
                  y: np.ndarray, score: Callable[[np.ndarray, np.ndarray], tuple[str, float]],
                  *, instances: int = 3, t_s: float = 3600.0, gdc: bool = True,
                  quantize: bool = True, seed: int = 0, batch: int = 200,
                  calibration_inputs: np.ndarray | None = None,
                  progress: Callable | None = None, ci_width: float | None = None,
                  stage: int = CI_STAGE, threads: int | None = None,
                  programmed: Programmed | None = None,
                  scales: Scales | Future[Scales] | None = None) -> AccuracyResult:
    """Score ``workload`` in software and on ``instances`` chip instances.

    Parameters
    ----------
    workload, mapping, chip
        The network, its mapping and the chip.
    x, y
        Inputs and targets.
    score
        ``score(outputs, targets) -> (metric, value)``.
    instances
        Independently programmed chip instances (K).
    t_s, gdc, quantize
        Time since programming (s), global drift compensation, quantization emulation.
    seed
        Seed of everything random; the same seed gives the same result bit for bit.
    batch
        Inputs per batch, rounded up to a whole number of :data:`UNIT` (the result does not
        depend on it).
    calibration_inputs
        Inputs for the activation scales (default: the first ``stage`` of ``x``, whatever
        the batch).
    progress
        Optional wrapper of iterables (e.g. a tqdm factory), called as
        ``progress(iterable, desc=...)`` on the chip instances and on each one's batches.
    ci_width
        Target width of the 95 % interval (the metric's unit: top-1 points or bits per
        character); None (default) measures all ``samples`` on all ``instances``.
    stage
        Samples per stage of a sequential measurement (:data:`CI_STAGE`).
    threads
        Threads that programme and run chip instances (None: Numba's thread count, one per
        CPU unless ``NUMBA_NUM_THREADS`` says otherwise). The result is the same bit for bit
        with any number (BLAS runs on one thread in each).
    programmed
        Keep the programmed instances there, or read those it keeps from an earlier call
        (:class:`Programmed`; the result's ``reused_instances`` says how many).
    scales
        The activation scales of ``calibration_inputs``
        (:func:`~chipsim.functional.executor.activation_scales`), or a Future of them, begun
        elsewhere (e.g. beside the mapping: they depend on no chip); None: the first
        instance computes them.

    Notes
    -----
    With ``ci_width = W`` the measurement runs in stages, each a deterministic function of
    the seed, and stops after the first stage whose interval has ``hi − lo <= W``:

    1. programme the first ``min(3, instances)`` chip instances (instance ``i`` programmed
       exactly as without a target: the ``i``-th child of ``SeedSequence(seed)``);
    2. score them on the first ``stage`` samples, then the next ``stage``, ... (the samples
       in their order in ``x``), checking the interval of their scores on all samples seen
       so far after each stage;
    3. once all ``len(x)`` samples are used, programme one more instance at a time, score it
       on all of them and check again, up to ``instances``.

    The interval is :func:`_ci95` of the instances' scores, as without a target. Every
    chip batch is one stage of samples; the read noise of a sample depends only on the
    instance's read-noise key and the sample's index in ``x``
    (:meth:`~chipsim.functional.executor.ChipInstance.run`), as without a target, so an
    instance scores each sample exactly as the measurement without a target does: one that
    stops at ``n`` samples and ``k`` instances gives the scores of one with ``len(x) = n``
    and ``instances = k``. The software score is
    taken on the ``n`` samples used. ``calibration_inputs`` default to the first ``stage``
    samples of ``x``.
    """
    if ci_width is not None:
        return _sequential(workload, mapping, chip, x, y, score, instances=instances, t_s=t_s,
                           gdc=gdc, quantize=quantize, seed=seed, stage=stage,
                           calibration_inputs=calibration_inputs, progress=progress,
                           ci_width=ci_width, threads=threads, programmed=programmed,
                           scales=scales)
    if instances < 1:
        raise ChipsimError(f"instances: must be a positive integer, got {instances}")
    if len(x) == 0 or len(x) != len(y):
        raise ChipsimError(f"samples: need as many targets as inputs (> 0), got {len(x)} "
                           f"inputs and {len(y)} targets")
    calib = x[:stage] if calibration_inputs is None else calibration_inputs
    wrap = progress or (lambda it, **_: it)
    bounds = _batches(len(x), batch)
    shared = _Shared(workload, mapping, chip, seed, t_s, gdc, quantize, calib, programmed,
                     scales)
    values, full_scales, mvms = [], [], None
    with threadpool_limits(1), _pool(threads) as pool:
        soft = pool.submit(shared.software, x, bounds)
        for inst, outs in _pipeline(shared, range(instances), bounds, x, pool, wrap):
            values.append(score(np.concatenate(outs), y)[1])
            full_scales.append(tuple(float(v) for v in inst.adc_full_scale_ua))
            if mvms is None:
                mvms = (inst.mvms.copy(), inst.calibration_mvms.copy(),
                        inst.range_calibration_mvms.copy())
        metric, software = score(soft.result(), y)
    arr = np.array(values)
    return AccuracyResult(
        metric=metric, software=float(software), chip_mean=float(arr.mean()),
        chip_ci95=_ci95(arr, metric), instances=instances, samples=len(x),
        chip=tuple(float(v) for v in values),
        t_seconds=float(t_s), gdc=gdc, mvms_per_core=tuple(int(v) for v in mvms[0]),
        calibration_mvms_per_core=tuple(int(v) for v in mvms[1]),
        range_calibration_mvms_per_core=tuple(int(v) for v in mvms[2]),
        adc_full_scale_ua_per_core=tuple(full_scales), reused_instances=shared.reused,
        **_limits(arr, metric, len(x), instances))


class Programmed:
    """Chip instances kept programmed between measurements that differ only in the time
    since programming and GDC (``chip_accuracy(..., programmed=...)``).

    The first measurement that uses it programmes its instances and keeps them; a later one
    with the same workload, mapping, chip, seed, quantization and calibration inputs reads
    them again at its own ``t_s`` and ``gdc`` (:meth:`ChipInstance.at`) instead of
    programming them anew: the same scores, bit for bit, at the cost of the reads. It keeps,
    too, what such points share besides: the float forward of the test inputs and
    (:func:`chipsim.simulate`) the timing results. Every kept instance stays in memory until
    this object is dropped.
    """

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep  # False: only the activation scales are shared (one measurement)
        self.signature: tuple | None = None
        self.instances: dict[int, tuple[ChipInstance, int]] = {}
        self.software: dict[tuple, np.ndarray] = {}  # float forward outputs by inputs
        self.timing: dict[tuple, object] = {}  # timing results (chipsim.simulate)
        self.scales = self.range_codes = None
        self._lock = threading.Lock()


def _digest(a: np.ndarray) -> tuple:
    """An array by its content."""
    return (hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(), a.shape,
            str(a.dtype))


def _mapping_key(mapping: Mapping) -> str:
    """A mapping by its content (two calls may map the same network alike)."""
    import json

    from ..mapping import mapping_to_dict

    return json.dumps(mapping_to_dict(mapping), sort_keys=True)


class _Shared:
    """What the chip instances of one measurement share: instance ``i`` is programmed from the
    ``i``-th child of ``SeedSequence(seed)`` (its children: programming, GDC reads, read-noise
    key), with the activation scales and ADC range inputs of the first one programmed; with
    ``programmed``, instances kept from an earlier measurement are read anew instead."""

    def __init__(self, workload, mapping, chip, seed, t_s, gdc, quantize, calib,
                 programmed: Programmed | None = None,
                 scales: Scales | Future[Scales] | None = None):
        self.args = (workload, mapping, chip)
        self.t_s, self.gdc = t_s, gdc
        self.kwargs = dict(quantize=quantize, calibration_inputs=calib)
        self.root = np.random.SeedSequence(seed)
        self.kept = programmed if programmed is not None else Programmed(keep=False)
        if programmed is not None:  # only kept instances need to be of this measurement
            signature = (id(workload), _mapping_key(mapping), chip, seed, quantize,
                         _digest(calib))
            if programmed.signature not in (None, signature):
                raise ChipsimError("programmed: kept instances of another workload, mapping, "
                                   "chip, seed, quantization or calibration inputs")
            programmed.signature = signature
        if self.kept.scales is None:
            self.kept.scales = scales
        self.reused = 0

    @property
    def scales(self):
        return self.kept.scales

    def software(self, x: np.ndarray, bounds: list[tuple[int, int]]) -> np.ndarray:
        """The float forward of ``x`` in the batches ``bounds``, unit by unit (kept: it does
        not depend on the chip, the time or GDC)."""
        key = (_digest(x), tuple(bounds))
        with self.kept._lock:
            found = self.kept.software.get(key)
        if found is None:
            workload = self.args[0]
            found = np.concatenate([forward(workload, x[a:b]) for lo, hi in bounds
                                    for a, b in _units(lo, hi)])
            if self.kept.keep:
                with self.kept._lock:
                    self.kept.software[key] = found
        return found

    def program(self, i: int) -> tuple[ChipInstance, int]:
        """Instance ``i`` at this measurement's time and GDC, and its read-noise key."""
        kept = self.kept
        with kept._lock:  # instances may be programmed on several threads at once
            found = kept.instances.get(i)
            self.reused += found is not None
        if found is not None:
            return found[0].at(self.t_s, self.gdc), found[1]
        root = self.root
        ss = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (i,))
        prog_ss, cal_ss, run_ss = ss.spawn(3)
        chips = self.args[2].chips
        # a system programs each chip from its own stream (one chip: that of earlier versions)
        prog = (np.random.default_rng(prog_ss) if chips == 1
                else [np.random.default_rng(s) for s in prog_ss.spawn(chips)])
        inst = ChipInstance(*self.args, prog,
                            np.random.default_rng(cal_ss), scales=kept.scales,
                            range_codes=kept.range_codes, t_s=self.t_s, gdc=self.gdc,
                            **self.kwargs)
        with kept._lock:  # the same for every instance: computed once
            kept.scales, kept.range_codes = inst.scales, inst.range_codes
            if kept.keep:
                kept.instances[i] = (inst, key_from(run_ss))
        return inst, key_from(run_ss)


class _Here(Executor):
    """An executor that runs each call at once, in this thread (``threads = 1``), whose
    kernels then run on one thread too (Numba's thread count, restored on exit)."""

    _max_workers = 1

    def __enter__(self) -> _Here:
        self._numba_threads = numba.get_num_threads()
        numba.set_num_threads(1)
        return self

    def __exit__(self, *exc) -> None:
        numba.set_num_threads(self._numba_threads)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            future.set_exception(exc)
        return future


def _pool(threads: int | None) -> Executor:
    """The threads that run chip instances (``threads``; None: Numba's thread count, by
    default one per CPU, one in a sweep's worker process), each running its kernels on one
    thread."""
    if threads is None:
        threads = numba.get_num_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ChipsimError(f"threads: must be a positive integer, got {threads!r}")
    if threads == 1:
        return _Here()
    return Threads(max_workers=threads, initializer=numba.set_num_threads, initargs=(1,))


def _pipeline(shared: _Shared, indices, bounds: list[tuple[int, int]], x: np.ndarray,
           pool: Executor, wrap: Callable
           ) -> Iterator[tuple[ChipInstance, list[np.ndarray]]]:
    """Programme the instances ``indices`` and run each on the batches ``bounds`` of ``x``, on
    ``pool``'s threads; yield ``(instance, its outputs per batch)`` in the order of
    ``indices``.

    One pipeline: while instance ``i`` runs (each batch unit by unit, so that the last
    instance too keeps the threads busy), instance ``i + 1`` is being programmed; its units
    are queued behind those of ``i`` as soon as it is, so that no thread waits for the last
    unit of ``i``; instance ``i + 2`` is programmed once ``i`` is done, so at most two are
    alive besides the one being scored. The very first is programmed before anything else
    (the others reuse its activation scales).
    """
    indices = list(indices)
    if not indices:
        return
    programmed: dict[int, Future] = {}

    def start(k: int) -> tuple[ChipInstance, list[list[Future]]]:
        inst, key = programmed.pop(k).result()
        return inst, _submit(pool, [(inst, key, lo, hi) for lo, hi in bounds], x)

    # the first instance (with the activation scales and ADC ranges it sets) is waited for
    # before any other bar moves: a step of its own
    for _ in wrap([0], desc="programming chip instance 1"):
        if shared.scales is None:
            programmed[0] = Future()
            programmed[0].set_result(shared.program(indices[0]))
        else:
            programmed[0] = pool.submit(shared.program, indices[0])
        if len(indices) > 1:
            programmed[1] = pool.submit(shared.program, indices[1])
        running = start(0)
    for k in wrap(range(len(indices)), desc="chip instances"):
        following = start(k + 1) if k + 1 < len(indices) else None
        inst, futures = running
        outs = _collect(futures)
        if k + 2 < len(indices):
            programmed[k + 2] = pool.submit(shared.program, indices[k + 2])
        running = following
        yield inst, outs


def _units(lo: int, hi: int) -> list[tuple[int, int]]:
    """The :data:`UNIT` pieces of the samples ``[lo, hi)`` (``lo`` a multiple of UNIT)."""
    return [(a, min(a + UNIT, hi)) for a in range(lo, hi, UNIT)]


def _batches(n: int, batch: int) -> list[tuple[int, int]]:
    """Batches of about ``batch`` of ``n`` samples, each a whole number of units."""
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise ChipsimError(f"batch: must be a positive integer, got {batch!r}")
    step = -(-int(batch) // UNIT) * UNIT
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def _run(pool: Executor, jobs: list[tuple[ChipInstance, int, int, int]],
         x: np.ndarray) -> list[np.ndarray]:
    """The outputs of every job ``(instance, read-noise key, lo, hi)``: the instance run on
    ``x[lo:hi]`` unit by unit (:data:`UNIT`), all on ``pool``.

    A sample's outputs depend only on the instance, its key, the sample's index
    (:meth:`ChipInstance.run`) and its unit, so neither the jobs nor the threads change
    them, bit for bit.
    """
    return _collect(_submit(pool, jobs, x))


def _submit(pool: Executor, jobs: list[tuple[ChipInstance, int, int, int]],
            x: np.ndarray) -> list[list[Future]]:
    """:func:`_run`'s units, queued on ``pool``: a list of Futures per job."""
    return [[pool.submit(inst.run, x[a:b], key, first=a) for a, b in _units(lo, hi)]
            for inst, key, lo, hi in jobs]


def _collect(futures: list[list[Future]]) -> list[np.ndarray]:
    """The outputs of :func:`_submit`'s jobs, each its units' outputs joined."""
    return [np.concatenate([f.result() for f in fs]) for fs in futures]


def run_instance(inst: ChipInstance, x: np.ndarray, key: int, *, batch: int = 100,
                 threads: int | None = None) -> np.ndarray:
    """The outputs of chip instance ``inst`` on all of ``x`` with read-noise key ``key``, as
    :func:`chip_accuracy` computes them: batches of ``batch`` samples (rounded up to whole
    units, :data:`UNIT`), their units on ``threads`` threads (None: Numba's thread count),
    BLAS on one thread in each; the same outputs bit for bit with any ``batch`` or
    ``threads``.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.mapping import map_workload
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload import build
    >>> net = build("lstm-ptb", vocab=20, embed=8, hidden=16)
    >>> x = np.zeros((6, 5), np.int64)
    >>> inst = ChipInstance(net, map_workload(net.lowered(), hermes()), hermes(),
    ...                     np.random.default_rng(0), np.random.default_rng(1),
    ...                     calibration_inputs=x)
    >>> bool((run_instance(inst, x, 7, batch=4, threads=2) == inst.run(x, 7)).all())
    True
    """
    bounds = _batches(len(x), batch)
    with threadpool_limits(1), _pool(threads) as pool:
        return np.concatenate(_run(pool, [(inst, key, lo, hi) for lo, hi in bounds], x))


def _limits(arr: np.ndarray, metric: str, samples: int, instances: int) -> dict:
    """The sequential-measurement fields of a measurement without a target."""
    lo, hi = _ci95(arr, metric)
    return {"ci95_width": float(hi - lo), "samples_max": samples, "instances_max": instances}


def _check_target(ci_width: object, instances: int) -> float:
    if (isinstance(ci_width, bool) or not isinstance(ci_width, int | float)
            or not np.isfinite(ci_width) or ci_width <= 0):
        raise ChipsimError(f"ci_width: must be a finite number > 0 (the 95 % interval's "
                           f"width in the metric's unit), got {ci_width!r}")
    if instances < 2:
        raise ChipsimError(f"ci_width: needs at least 2 chip instances (one has no interval), "
                           f"got instances = {instances}")
    return float(ci_width)


def _sequential(workload, mapping, chip, x, y, score, *, instances, t_s, gdc, quantize, seed,
                stage, calibration_inputs, progress, ci_width, threads,
                programmed, scales) -> AccuracyResult:
    """:func:`chip_accuracy` with a target interval width (see its Notes)."""
    target = _check_target(ci_width, instances)
    if stage < 1 or stage % UNIT:
        raise ChipsimError(f"stage: must be a positive multiple of {UNIT}, got {stage}")
    if len(x) == 0 or len(x) != len(y):
        raise ChipsimError(f"samples: need as many targets as inputs (> 0), got {len(x)} "
                           f"inputs and {len(y)} targets")
    wrap = progress or (lambda it, **_: it)
    calib = x[:stage] if calibration_inputs is None else calibration_inputs
    shared = _Shared(workload, mapping, chip, seed, t_s, gdc, quantize, calib, programmed,
                     scales)
    bounds = [(i, min(i + stage, len(x))) for i in range(0, len(x), stage)]
    stages: list[CiStage] = []

    def check(outs: list[list[np.ndarray]], n: int) -> tuple[str, np.ndarray, bool]:
        scored = [score(np.concatenate(o), y[:n]) for o in outs]
        metric, values = scored[0][0], np.array([v for _, v in scored])
        lo, hi = _ci95(values, metric)
        stages.append(CiStage(n, len(values), float(values.mean()), (lo, hi)))
        return metric, values, bool(hi - lo <= target)

    with threadpool_limits(1), _pool(threads) as pool:
        live = [shared.program(0)]
        live += [f.result() for f in [pool.submit(shared.program, i)
                                      for i in range(1, min(CI_MIN_INSTANCES, instances))]]
        first = live[0][0]
        outs: list[list[np.ndarray]] = [[] for _ in live]
        for j in wrap(range(len(bounds)), desc="stages"):
            lo, hi = bounds[j]
            for o, out in zip(outs, _run(pool, [(i, k, lo, hi) for i, k in live], x),
                              strict=True):
                o.append(out)
            n = hi
            metric, values, reached = check(outs, n)
            if reached:
                break
        mvms = (first.mvms.copy(), first.calibration_mvms.copy(),
                first.range_calibration_mvms.copy())
        full_scales = [tuple(float(v) for v in inst.adc_full_scale_ua) for inst, _ in live]
        del live, first
        while not reached and len(outs) < instances:  # all samples used: more instances
            for inst, out in _pipeline(shared, [len(outs)], bounds, x, pool, lambda it, **_: it):
                outs.append(out)
                full_scales.append(tuple(float(v) for v in inst.adc_full_scale_ua))
                del inst
            metric, values, reached = check(outs, n)
        _, software = score(shared.software(x, [b for b in bounds if b[0] < n]), y[:n])
    lo, hi = _ci95(values, metric)
    return AccuracyResult(
        metric=metric, software=float(software), chip_mean=float(values.mean()),
        chip_ci95=(lo, hi), instances=len(values), samples=n, chip=tuple(values.tolist()),
        t_seconds=float(t_s), gdc=gdc, mvms_per_core=tuple(int(v) for v in mvms[0]),
        calibration_mvms_per_core=tuple(int(v) for v in mvms[1]),
        range_calibration_mvms_per_core=tuple(int(v) for v in mvms[2]),
        adc_full_scale_ua_per_core=tuple(full_scales), ci95_width=float(hi - lo),
        ci_target=float(target), ci_reached=bool(reached), samples_max=len(x),
        instances_max=instances, ci_stages=tuple(stages), reused_instances=shared.reused)
