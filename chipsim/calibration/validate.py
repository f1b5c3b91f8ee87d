"""Table I of the chip paper against the engine: every use case, read mode and metric.

Examples
--------
>>> rows = validate()
>>> len(rows), max(abs(r.rel_error) for r in rows) < 0.05
(24, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..spec import ChipSpec, EnergySpec, ReadMode, hermes
from ..timing.result import TimingResult
from .golden import METRICS, load_table1
from .usecases import USE_CASES, run_use_case, use_case_metrics

__all__ = ["MODES", "ValidationRow", "validate", "use_case_runs", "rows_from_runs"]

MODES = ("1ph", "4ph")
"""The read modes of Table I, in its order."""


@dataclass(frozen=True, slots=True)
class ValidationRow:
    """One cell of Table I: simulated and published value, ``rel_error = sim / ref - 1``."""

    use_case: str
    mode: str
    metric: str
    simulated: float
    reference: float
    rel_error: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (the JSON of ``chipsim validate --json``)."""
        return asdict(self)


def use_case_runs(chip: ChipSpec | None = None, use_cases: Iterable[str] = USE_CASES,
                  run: Callable[[str, ChipSpec], TimingResult] = run_use_case,
                  ) -> dict[tuple[str, str], TimingResult]:
    """Timing runs of ``use_cases`` (default all of Table I) in both read modes on ``chip``
    (default ``hermes()``), keyed by ``(use case, mode)``; ``run(name, chip)`` does one run
    (default :func:`~chipsim.calibration.usecases.run_use_case`; the fit passes a cache)."""
    chip = hermes() if chip is None else chip
    names = tuple(use_cases)
    out = {}
    for mode in MODES:
        c = replace(chip, core=replace(chip.core, read_mode=ReadMode(mode)))
        for name in names:
            out[(name, mode)] = run(name, c)
    return out


def rows_from_runs(runs: dict[tuple[str, str], TimingResult],
                   energy: EnergySpec | None = None,
                   table: dict[str, Any] | None = None) -> list[ValidationRow]:
    """Table I rows of ``runs`` (the use cases they hold, in Table I's order), with their
    energy recomputed under ``energy`` if given, against ``table`` (default
    :func:`~chipsim.calibration.golden.load_table1`)."""
    ref_cases = (load_table1() if table is None else table)["use_cases"]
    rows = []
    for name in USE_CASES:
        for mode in MODES:
            if (name, mode) not in runs:
                continue
            r = runs[(name, mode)]
            if energy is not None:
                r = replace(r, energy=r.energy_with(energy), energy_spec=energy)
            sim = use_case_metrics(r)
            ref = ref_cases[name]["modes"][mode]
            for metric in METRICS:
                s, t = float(sim[metric]), float(ref[metric])
                rows.append(ValidationRow(name, mode, metric, s, t, s / t - 1.0))
    return rows


def validate(chip: ChipSpec | None = None) -> list[ValidationRow]:
    """Simulate the three use cases of Table I in both read modes on ``chip`` (default the
    reference chip) and compare TOPS, TOPS/W, energy and latency with the paper."""
    return rows_from_runs(use_case_runs(chip))
