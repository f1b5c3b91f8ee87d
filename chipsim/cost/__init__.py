"""Cost model: per-action latencies from the spec, the energy table, its fit to Table I.

Examples
--------
>>> from chipsim.cost import Latencies
>>> from chipsim.spec import hermes
>>> Latencies.of(hermes()).mvm_ps
520000
"""

from .energy import COMPONENTS, MVM_COMPONENTS, ActionCounts, EnergyBreakdown, energy
from .golden import FIT_PATH, TABLE1_PATH, load_fit, load_table1
from .latency import Latencies, align_up, period_ps

__all__ = [
    "Latencies", "period_ps", "align_up", "ActionCounts", "EnergyBreakdown", "COMPONENTS",
    "MVM_COMPONENTS", "energy", "load_table1", "load_fit", "TABLE1_PATH", "FIT_PATH",
]
