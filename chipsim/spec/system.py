"""Systems of chips: identical chips joined by chip-to-chip links.

A :class:`~chipsim.spec.ChipSpec` describes one chip and, through its ``system`` field, how
many copies of it form the hardware and how they are joined. One chip (``system.chips = 1``,
the default) is exactly the single chip of earlier versions: no chip-to-chip link exists and
nothing else changes.

Cores are numbered chip by chip: core ``k · cores_per_chip + i`` is core ``i`` (row-major on
``grid``) of chip ``k``. Every chip keeps its own on-chip network, GDPU slices and attention
units; the chips share the host path (``host``). A chip-to-chip link joins a core on the
edge of each chip (:func:`chipsim.noc.build_graph` says which) and carries traffic both ways,
each direction a link of ``link_bandwidth_gbps``.

Defaults (each a documented choice, with its source):

``link_bandwidth_gbps`` 25
    One lane of a short-reach ground-referenced serial link, 25 Gb/s per pin (Poulton et al.,
    IEEE JSSC 54(1), 2019: "A 1.17-pJ/b, 25-Gb/s/pin ground-referenced single-ended serial
    link for off- and on-package communication"), the link NVIDIA's Simba multi-chip module
    uses between its chiplets (Shao et al., MICRO 2019).
``link_pj_per_bit`` 1.17
    That link's energy per bit (Poulton et al., 2019; on-package channel).
``link_latency_ns`` 20
    UNCONFIRMED: serializer, channel, deserializer and the receiving router; an estimate of the
    order of tens of nanoseconds that such links have (no figure for this pairing is published).

Examples
--------
>>> from chipsim.spec import hermes, override
>>> system = override(hermes(), "system.chips", 4)
>>> system.n_cores, system.cores_per_chip, system.chip_of(130)
(256, 64, 2)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._fields import SpecError, spec_field, validate

__all__ = ["ChipTopology", "SystemSpec", "MAX_CHIPS"]

#: The most chips a system may have.
MAX_CHIPS = 256


class ChipTopology(enum.Enum):
    """How the chips of a system are linked to one another."""

    RING = "ring"
    """Chip ``k`` to chips ``k ± 1`` and the last to the first (a line for two chips)."""
    LINE = "line"
    """Chip ``k`` to chips ``k ± 1``."""
    MESH = "mesh"
    """A 2-D mesh of chips, ``mesh_cols`` chips per row (the most square grid by default)."""
    ALL_TO_ALL = "all_to_all"
    """A point-to-point link between every two chips."""
    FILE = "file"
    """An edge list of chip pairs read from ``graph_file``."""


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """Identical chips joined by chip-to-chip links (one chip by default)."""

    chips: int = spec_field(1, f"identical chips in the system (at most {MAX_CHIPS})", lo=1,
                            hi=MAX_CHIPS)
    topology: ChipTopology = spec_field(ChipTopology.RING, "chip-to-chip link layout",
                                        choices=tuple(ChipTopology))
    mesh_cols: int | None = spec_field(
        None, "chips per row of a 'mesh' system; None = the most square grid", lo=1,
        hi=MAX_CHIPS)
    graph_file: str | None = spec_field(
        None, "edge-list file of chip pairs, for topology 'file'")
    link_bandwidth_gbps: float = spec_field(
        25.0, "bandwidth of each direction of a chip-to-chip link (Gbit/s) [Poulton, JSSC 2019]",
        lo=0.0, lo_open=True)
    link_latency_ns: float = spec_field(
        20.0, "latency of a chip-to-chip link, serializer to receiving router (ns); "
        "UNCONFIRMED", lo=0.0)
    link_pj_per_bit: float = spec_field(
        1.17, "energy of a bit over a chip-to-chip link (pJ/bit) [Poulton, JSSC 2019]", lo=0.0)

    def __post_init__(self) -> None:
        validate(self)
        if self.topology is ChipTopology.FILE and not self.graph_file:
            raise SpecError("graph_file", "is required when topology is 'file'")
        if self.mesh_cols is not None and self.mesh_cols > self.chips:
            raise SpecError("mesh_cols", f"must be <= chips ({self.chips}), got "
                            f"{self.mesh_cols}")
