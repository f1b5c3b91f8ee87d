"""Table I of the chip paper against the engine: every use case, read mode and metric.

Examples
--------
>>> rows = validate()
>>> len(rows), max(abs(r.rel_error) for r in rows) < 0.05
(24, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ..spec import ChipSpec, EnergySpec, ReadMode, hermes
from ..timing.result import TimingResult
from .golden import METRICS, load_table1
from .usecases import USE_CASES, run_use_case, use_case_metrics

__all__ = ["ValidationRow", "validate", "use_case_runs", "rows_from_runs"]


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


def use_case_runs(chip: ChipSpec | None = None) -> dict[tuple[str, str], TimingResult]:
    """Timing runs of every use case in both read modes on ``chip`` (default ``hermes()``)."""
    chip = hermes() if chip is None else chip
    out = {}
    for mode in ("1ph", "4ph"):
        c = replace(chip, core=replace(chip.core, read_mode=ReadMode(mode)))
        for name in USE_CASES:
            out[(name, mode)] = run_use_case(name, c)
    return out


def rows_from_runs(runs: dict[tuple[str, str], TimingResult],
                   energy: EnergySpec | None = None) -> list[ValidationRow]:
    """Table I rows of ``runs``, with their energy recomputed under ``energy`` if given."""
    table = load_table1()["use_cases"]
    rows = []
    for name in USE_CASES:
        for mode in ("1ph", "4ph"):
            r = runs[(name, mode)]
            if energy is not None:
                r = replace(r, energy=r.energy_with(energy), energy_spec=energy)
            sim = use_case_metrics(r)
            ref = table[name]["modes"][mode]
            for metric in METRICS:
                s, t = float(sim[metric]), float(ref[metric])
                rows.append(ValidationRow(name, mode, metric, s, t, s / t - 1.0))
    return rows


def validate(chip: ChipSpec | None = None) -> list[ValidationRow]:
    """Simulate the three use cases of Table I in both read modes on ``chip`` (default the
    reference chip) and compare TOPS, TOPS/W, energy and latency with the paper."""
    return rows_from_runs(use_case_runs(chip))
