"""Cycle-level timing of a mapped network: a discrete-event engine over the chip's cores, links
and GDPU, on a ``simpy.Environment``.

:func:`simulate_timing` runs a :class:`~chipsim.mapping.Mapping` of a workload's lowered
layers (the chip paper's Table I through the same engine is :mod:`chipsim.calibration`). Energy
comes from the run's action counts and the chip's :class:`~chipsim.spec.EnergySpec`
(:mod:`chipsim.cost`), after the run.

Modules: :mod:`~chipsim.timing.config` (options), :mod:`~chipsim.timing.plan` (who computes
what, where data go), :mod:`~chipsim.timing.stream` (timing of value streams),
:mod:`~chipsim.timing.links` (links and routes), :mod:`~chipsim.timing.ports` (bounded
buffers), :mod:`~chipsim.timing.kernel` (the SimPy environment and its process drivers),
:mod:`~chipsim.timing.units` and :mod:`~chipsim.timing.host` (the processes),
:mod:`~chipsim.timing.compiled` (the same run compiled; its link calendars in
:mod:`~chipsim.timing.calendar`),
:mod:`~chipsim.timing.engine` (run and collect: compiled where it can, else on SimPy),
:mod:`~chipsim.timing.result`.

Examples
--------
>>> from chipsim.mapping import map_workload
>>> from chipsim.spec import hermes
>>> from chipsim.workload import build
>>> layers = build("lstm-ptb").lowered()
>>> chip = hermes()
>>> r = simulate_timing(map_workload(layers, chip), layers, chip,
...                     TimingConfig(transport=TransportMode.OFFCHIP, inferences=2))
>>> r.cores_used, r.counts.mvms
(26, 52)
"""

from .config import TimingConfig, TimingError, TransportMode
from .engine import run_plan
from .plan import PlacedBlock, Plan, build_plan, mvm_counts
from .result import TimingResult
from .run import expected_mvms, simulate_timing

__all__ = [
    "simulate_timing", "expected_mvms", "TimingConfig", "TransportMode",
    "TimingError", "TimingResult", "PlacedBlock", "Plan", "build_plan", "mvm_counts",
    "run_plan",
]
