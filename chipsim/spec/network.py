"""Specification of the on-chip network that joins the cores."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._fields import SpecError, spec_field, validate

__all__ = ["Topology", "NetworkSpec"]


class Topology(enum.Enum):
    """Core-to-core link layouts ([LG] §III, ``shared/hermes.md`` §3)."""

    HERMES_GRID = "hermes_grid"
    """The reference chip's grid: each core linked to up to 6 neighbours (exact map
    UNCONFIRMED: the 4 mesh neighbours plus the two diagonal neighbours of one direction)."""
    MESH = "mesh"
    """2D mesh: up to 4 neighbours."""
    TORUS = "torus"
    """2D torus: 4 neighbours with wrap-around."""
    FILE = "file"
    """Arbitrary graph read from ``graph_file`` (an edge list)."""


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """Links between cores: topology, width, clock and per-hop latency."""

    topology: Topology = spec_field(Topology.HERMES_GRID, "link layout",
                                    choices=tuple(Topology))
    link_width_bits: int = spec_field(
        8, "parallel 1-bit channels per link: one INT8 value per link cycle [LG §III]", lo=1,
        hi=4096)
    link_clock_mhz: float = spec_field(400.0, "link clock (MHz) [LG EDT I]", lo=0.0,
                                       lo_open=True)
    hop_latency_cycles: int = spec_field(
        2, "link cycles from a value leaving one core to arriving at its neighbour; "
        "UNCONFIRMED", lo=0, hi=100000)
    graph_file: str | None = spec_field(
        None, "edge-list file of core pairs, for topology 'file'")

    def __post_init__(self) -> None:
        validate(self)
        if self.topology is Topology.FILE and not self.graph_file:
            raise SpecError("graph_file", "is required when topology is 'file'")

    @property
    def link_gbps(self) -> float:
        """Bandwidth of one link (Gbit/s): 3.2 on the reference chip."""
        return self.link_width_bits * self.link_clock_mhz / 1e3
