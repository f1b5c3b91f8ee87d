"""Held-out check of the Table I fit: leave one use case out, fit the other two, predict it.

The full fit (:func:`~chipsim.calibration.fit.fit`) sees all 24 cells of Table I, so its
residuals say how well the model *can* match them, not how well it predicts a use case it
was not fitted to. :func:`leave_one_out` answers the second question: for each of the three
use cases it fits the parameters to the other two with the same code (same depth scan, same
MAP energy fit, same priors), then simulates the held-out use case with that parameter set
and compares its 8 cells (4 metrics × 2 read modes) with the paper.

What two use cases cannot constrain stays at its prior: without ``lstm_step`` nothing runs
through the GDPU, so its pipeline depth stays at its prior (36 digital cycles,
:data:`~chipsim.calibration.fit.TIMING_PRIORS`: ~9 dependent FP16 operations × ~4 stages)
and its energies at theirs (:data:`~chipsim.calibration.fit.PRIORS`); without
``resnet_layer`` the LSTM latencies fix ``3 × LDPU depth + GDPU depth`` only, and the pair on
that line nearest the priors is kept. The folds share their engine runs
(:class:`~chipsim.calibration.fit.RunCache`): the depth scan does not depend on which use
case is held out, only the residuals that count do.

Examples
--------
>>> folds = leave_one_out(max_depth=24)
>>> [(f.held_out, len(f.rows)) for f in folds]
[('all_cores', 8), ('resnet_layer', 8), ('lstm_step', 8)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..spec import ChipSpec, hermes
from .fit import TIMING, FitResult, RunCache, fit
from .golden import load_table1
from .usecases import USE_CASES
from .validate import ValidationRow, rows_from_runs, use_case_runs

__all__ = ["HeldOutFold", "leave_one_out"]


@dataclass(frozen=True, slots=True)
class HeldOutFold:
    """One fold: the use case held out, the fit to the others, and its predicted cells
    (``rel_error = simulated / paper - 1``)."""

    held_out: str
    fit: FitResult
    rows: tuple[ValidationRow, ...]

    @property
    def worst(self) -> ValidationRow:
        """The predicted cell with the largest relative error."""
        return max(self.rows, key=lambda r: abs(r.rel_error))

    @property
    def max_abs_rel_error(self) -> float:
        """``|rel_error|`` of :attr:`worst`."""
        return abs(self.worst.rel_error)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON of ``chipsim validate --json``, ``held_out``)."""
        return {
            "held_out": self.held_out,
            "fitted_on": list(self.fit.use_cases),
            "depths": {n: getattr(self.fit.energy, n) for n in TIMING},
            "at_prior": list(self.fit.unconstrained),
            "max_abs_rel_error": self.max_abs_rel_error,
            "worst": self.worst.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
        }


def leave_one_out(chip: ChipSpec | None = None, table: dict[str, Any] | None = None, *,
                  max_depth: int = 64, cache: RunCache | None = None) -> tuple[HeldOutFold, ...]:
    """For each use case of Table I (in its order): fit ``chip`` (default the reference
    chip) to the other use cases of ``table`` (default
    :func:`~chipsim.calibration.golden.load_table1`) with
    :func:`~chipsim.calibration.fit.fit`, and predict the held-out use case's cells.

    ``cache`` shares engine runs with other fits of the same chip (e.g. the full fit).
    """
    chip = hermes() if chip is None else chip
    table = load_table1() if table is None else table
    cache = RunCache() if cache is None else cache
    folds = []
    for held in USE_CASES:
        res = fit([u for u in USE_CASES if u != held], chip=chip, table=table,
                  max_depth=max_depth, cache=cache)
        runs = use_case_runs(replace(chip, energy=res.energy), (held,), cache.run)
        folds.append(HeldOutFold(held, res, tuple(rows_from_runs(runs, table=table))))
    return tuple(folds)
