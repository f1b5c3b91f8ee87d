"""Accuracy of a mapped network on the simulated chip, over independent chip instances.

The software score is the float forward of the IR on the same samples. The chip score is
measured on ``K`` independently programmed chip instances (each its own programming noise,
drift exponents and spreads, its own read noise); the report gives their mean and a 95 %
confidence interval of the mean (Student t with ``K − 1`` degrees of freedom).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ..errors import ChipsimError
from ..mapping import Mapping
from ..spec import ChipSpec
from ..workload.forward import forward
from ..workload.graph import Workload
from .executor import ChipInstance

__all__ = ["AccuracyResult", "chip_accuracy", "batched"]


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

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        d = asdict(self)
        d["chip_ci95"] = list(self.chip_ci95)
        d["chip"] = list(self.chip)
        d["mvms_per_core"] = list(self.mvms_per_core)
        d["calibration_mvms_per_core"] = list(self.calibration_mvms_per_core)
        d["range_calibration_mvms_per_core"] = list(self.range_calibration_mvms_per_core)
        d["adc_full_scale_ua_per_core"] = [list(v) for v in self.adc_full_scale_ua_per_core]
        return d


def batched(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch: int) -> np.ndarray:
    """``fn`` applied to ``x`` in batches of ``batch`` along axis 0, concatenated."""
    return np.concatenate([fn(x[i: i + batch]) for i in range(0, len(x), batch)])


#: the values a score can take, by metric (a confidence interval stays inside them)
METRIC_RANGE = {"top1": (0.0, 100.0), "bpc": (0.0, np.inf)}


def _ci95(values: np.ndarray, metric: str) -> tuple[float, float]:
    """Student-t 95 % interval of the mean of ``values``, clipped to the metric's range
    (with 3 instances the t interval of a top-1 near 100 % would reach past it)."""
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    low, high = METRIC_RANGE.get(metric, (-np.inf, np.inf))
    return max(mean - half, low), min(mean + half, high)


def chip_accuracy(workload: Workload, mapping: Mapping, chip: ChipSpec, x: np.ndarray,
                  y: np.ndarray, score: Callable[[np.ndarray, np.ndarray], tuple[str, float]],
                  *, instances: int = 3, t_s: float = 3600.0, gdc: bool = True,
                  quantize: bool = True, seed: int = 0, batch: int = 200,
                  calibration_inputs: np.ndarray | None = None,
                  progress: Callable | None = None) -> AccuracyResult:
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
        Inputs per batch.
    calibration_inputs
        Inputs for the activation scales (default: the first ``batch`` of ``x``).
    progress
        Optional wrapper of iterables (e.g. a tqdm factory), called as
        ``progress(iterable, desc=...)`` on the chip instances and on each one's batches.
    """
    if instances < 1:
        raise ChipsimError(f"instances: must be a positive integer, got {instances}")
    if len(x) == 0 or len(x) != len(y):
        raise ChipsimError(f"samples: need as many targets as inputs (> 0), got {len(x)} "
                           f"inputs and {len(y)} targets")
    metric, software = score(batched(lambda b: forward(workload, b), x, batch), y)
    calib = x[:batch] if calibration_inputs is None else calibration_inputs
    values = []
    full_scales = []
    mvms = calib_mvms = range_mvms = scales = range_codes = None
    wrap = progress or (lambda it, **_: it)
    for ss in wrap(np.random.SeedSequence(seed).spawn(instances), desc="chip instances"):
        prog_ss, cal_ss, run_ss = ss.spawn(3)
        inst = ChipInstance(workload, mapping, chip, np.random.default_rng(prog_ss),
                            np.random.default_rng(cal_ss), t_s=t_s, gdc=gdc,
                            quantize=quantize, calibration_inputs=calib, scales=scales,
                            range_codes=range_codes)
        # the same for every instance: computed once
        scales, range_codes = inst.scales, inst.range_codes
        run_rng = np.random.default_rng(run_ss)
        starts = wrap(range(0, len(x), batch), desc="batches")
        out = np.concatenate([inst.run(x[i: i + batch], run_rng) for i in starts])
        values.append(score(out, y)[1])
        full_scales.append(tuple(float(v) for v in inst.adc_full_scale_ua))
        if mvms is None:
            mvms, calib_mvms = inst.mvms.copy(), inst.calibration_mvms.copy()
            range_mvms = inst.range_calibration_mvms.copy()
    arr = np.array(values)
    return AccuracyResult(
        metric=metric, software=float(software), chip_mean=float(arr.mean()),
        chip_ci95=_ci95(arr, metric), instances=instances, samples=len(x), chip=tuple(values),
        t_seconds=float(t_s), gdc=gdc, mvms_per_core=tuple(int(v) for v in mvms),
        calibration_mvms_per_core=tuple(int(v) for v in calib_mvms),
        range_calibration_mvms_per_core=tuple(int(v) for v in range_mvms),
        adc_full_scale_ua_per_core=tuple(full_scales))
