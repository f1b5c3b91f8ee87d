"""Timing run of a mapped network: the public entry point of :mod:`chipsim.timing`.

Examples
--------
>>> from chipsim.mapping import map_workload
>>> from chipsim.spec import hermes
>>> from chipsim.workload.lowered import LoweredLayer
>>> layers = [LoweredLayer("fc1", "linear", 512, 256, 1),
...           LoweredLayer("fc2", "linear", 256, 10, 1, sources=("fc1",))]
>>> chip = hermes()
>>> r = simulate_timing(map_workload(layers, chip), layers, chip,
...                     TimingConfig(inferences=2))
>>> r.core_counts[min(r.core_counts)]["mvms"], r.latency_ns > 520
(2, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..cost.latency import Latencies
from ..spec import ChipSpec
from .config import TimingConfig, TimingError
from .engine import run_plan
from .links import Network
from .plan import PlacedBlock, Plan, build_plan
from .result import TimingResult
from .routes import check_routes

if TYPE_CHECKING:
    from ..mapping import Mapping
    from ..workload.lowered import LoweredLayer

__all__ = ["simulate_timing", "plan_of", "expected_mvms"]


def _check(mapping: Mapping, chip: ChipSpec) -> None:
    if tuple(mapping.grid) != tuple(chip.grid) or mapping.n_cores != chip.n_cores:
        raise TimingError(f"the mapping is for a {mapping.grid[0]}x{mapping.grid[1]} chip "
                          f"({mapping.chip!r}); this chip is {chip.grid[0]}x{chip.grid[1]}")
    if (mapping.core_rows, mapping.core_cols) != (chip.core.rows, chip.core.cols):
        raise TimingError(f"the mapping is for {mapping.core_rows}x{mapping.core_cols} cores; "
                          f"this chip has {chip.core.rows}x{chip.core.cols}")


def plan_of(mapping: Mapping, layers: Sequence[LoweredLayer], chip: ChipSpec,
            config: TimingConfig | None = None) -> Plan:
    """The timing plan of ``mapping`` (see :mod:`chipsim.timing.plan`)."""
    config = TimingConfig() if config is None else config
    _check(mapping, chip)
    blocks = [PlacedBlock(b.layer, b.replica, tuple(b.rows), tuple(b.cols), b.core)
              for b in mapping.blocks]
    return build_plan(layers, blocks, chip, config.transport,
                      granularity=config.granularity)


def expected_mvms(mapping: Mapping, layers: Sequence[LoweredLayer], chip: ChipSpec,
                  inferences: int) -> dict[int, int]:
    """MVMs per core that ``inferences`` inferences of ``mapping`` imply (the rule the timing
    run and the functional executor share: :func:`chipsim.timing.plan.mvm_counts`)."""
    from .plan import mvm_counts
    return mvm_counts(plan_of(mapping, layers, chip), inferences)


def simulate_timing(mapping: Mapping, layers: Sequence[LoweredLayer], chip: ChipSpec,
                    config: TimingConfig | None = None) -> TimingResult:
    """Simulate ``config.inferences`` inferences of the mapped network on ``chip``.

    Parameters
    ----------
    mapping
        Blocks of every layer (and replica) on cores (:func:`chipsim.mapping.map_workload`).
    layers
        The workload's lowered weight layers (``Workload.lowered()``), in execution order.
    chip
        The chip the mapping was made for.
    config
        Transport mode, inferences, GDC interval, granularity, timeline recording; by default
        those of ``RunConfig()`` (:meth:`TimingConfig.of`), as :func:`chipsim.simulate` times
        them.

    Returns
    -------
    TimingResult
        Latency, throughput, energy with its breakdown, utilizations, counts, timeline. On
        a system of several chips, also the latency of one inference alone, with the links
        as they are (``latency_alone_ps``) and with ideal chip-to-chip links
        (``latency_ideal_links_ps``: they add no latency and pass a value per picosecond):
        two more runs of one inference each, whose difference is the time that crossing chips
        adds (alone, so that no later inference's traffic shares the links).

    Raises
    ------
    TimingError
        If the mapping does not fit the chip or the layers, or the run cannot complete.
    MappingError
        If two cores that must exchange data have no route between them (broken links).
    """
    config = TimingConfig.of() if config is None else config
    plan = plan_of(mapping, layers, chip, config)
    net = Network(chip, Latencies.of(chip), chip.host)
    check_routes(plan, chip, net)
    result = run_plan(plan, chip, config, network=net)
    if chip.chips == 1:
        return result
    one = replace(config, inferences=1, timeline=False)
    alone = run_plan(plan, chip, one, network=Network(chip, Latencies.of(chip), chip.host))
    ideal = replace(chip, system=replace(chip.system, link_latency_ns=0.0,
                                         link_bandwidth_gbps=_IDEAL_GBPS))
    fast = run_plan(plan, ideal, one, network=Network(ideal, Latencies.of(ideal), ideal.host))
    return replace(result, latency_alone_ps=alone.latency_ps,
                   latency_ideal_links_ps=fast.latency_ps)


#: a chip-to-chip link that passes an INT8 value per picosecond (the shortest time step)
_IDEAL_GBPS = 8000.0
