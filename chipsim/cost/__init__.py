"""Cost model: per-action latencies from the spec, the energy table, the precision laws of
PWM inputs and ADCs, and areas (formulas and tables only; their fit to the chip paper's
Table I is :mod:`chipsim.calibration`).

Examples
--------
>>> from chipsim.cost import Latencies
>>> from chipsim.spec import hermes
>>> Latencies.of(hermes()).mvm_ps
520000
"""

from .area import ChipArea, CoreArea, chip_area, core_area
from .energy import COMPONENTS, MVM_COMPONENTS, ActionCounts, EnergyBreakdown, energy
from .latency import Latencies, align_up, period_ps

__all__ = [
    "Latencies", "period_ps", "align_up", "ActionCounts", "EnergyBreakdown", "COMPONENTS",
    "MVM_COMPONENTS", "energy", "ChipArea", "CoreArea", "chip_area", "core_area",
]
