"""Calibration of the cost model to silicon: the chip paper's Table I, its use cases simulated
through the timing engine, the fit of the energy table and pipeline depths, and validation.

The engine layers do not depend on this package: :mod:`chipsim.cost` holds formulas and
tables only, :mod:`chipsim.timing` runs mapped plans; this package may import both (a test
holds :mod:`chipsim.cost` free of imports from :mod:`chipsim.timing` and from here).

Modules: :mod:`~chipsim.calibration.golden` (the data files: ``table1.yaml``, Table I with
its source, and ``hermes_fit.yaml``, the fitted parameter set),
:mod:`~chipsim.calibration.usecases` (the three use cases of Table I as engine runs),
:mod:`~chipsim.calibration.validate` (the 24 cells of Table I against the engine),
:mod:`~chipsim.calibration.fit` (``python -m chipsim.calibration.fit [--write]``; its
:func:`~chipsim.calibration.fit.fit` takes the use cases to fit to) and
:mod:`~chipsim.calibration.heldout` (each use case predicted by a fit to the other two,
printed by ``chipsim validate``). :mod:`~chipsim.calibration.fit` and
:mod:`~chipsim.calibration.heldout` are imported by name, not from here.

Examples
--------
>>> from chipsim.calibration import simulate_use_case
>>> round(simulate_use_case("all_cores")["latency_ns"])
520
"""

from .golden import FIT_PATH, METRICS, TABLE1_PATH, load_fit, load_table1
from .usecases import USE_CASES, run_use_case, simulate_use_case, use_case_metrics
from .validate import ValidationRow, rows_from_runs, use_case_runs, validate

__all__ = [
    "TABLE1_PATH", "FIT_PATH", "METRICS", "load_table1", "load_fit", "USE_CASES",
    "run_use_case", "simulate_use_case", "use_case_metrics", "ValidationRow", "validate",
    "use_case_runs", "rows_from_runs",
]
