"""Specification of a chip's faults: stuck devices, dead cores, dead ADCs and broken links.

Faults are part of the hardware description, so a faulty chip is a spec like any other (a file,
a preset with ``--set faults.dead_cores=[3,17]``, a sweep axis). The defaults describe a chip
without faults; with them every result is bit-identical to a chip without a ``faults`` field.

What each fault does (where it is applied):

``stuck_fraction``, ``stuck_at_gmax_share``
    Each PCM device of a programmed block is stuck with probability ``stuck_fraction``, drawn
    independently per device and per chip instance (:func:`chipsim.functional.program_core`).
    A stuck device keeps one conductance whatever it is programmed to: ``g_max`` of one device
    (stuck SET, with probability ``stuck_at_gmax_share``) or 0 µS (stuck RESET). It is applied
    after programming and does not drift (drift exponent 0), as a stuck device's conductance
    does not relax; it is still read with the model's 1/f read noise. The GDC reference is
    measured on the faulty array, as on the chip.
``dead_cores``
    Cores that cannot compute (array or periphery broken). The mapper never places a block on
    them (:func:`chipsim.mapping.map_workload` adds them to ``exclude``) and a mapping file
    that uses one is rejected. Their routers still forward traffic; a dead router is modelled
    by listing its links in ``broken_links``.
``dead_adc_columns``
    ``(core, column)`` pairs whose ADC reads 0 counts for every conversion (column = physical
    column of the crossbar, ``0 .. core.cols-1``; blocks sit at column 0 of their core). The
    LDPU still applies its affine to those zero counts.
``broken_links``
    ``(a, b)`` core pairs whose link is cut, in both directions:
    :func:`chipsim.noc.build_graph` leaves them out, so routes detour around them, and a
    mapping that needs a route between two cores they disconnect is an error naming the two
    cores and the layer.

Examples
--------
>>> from dataclasses import replace
>>> from chipsim.spec import FaultSpec, hermes
>>> chip = replace(hermes(), faults=FaultSpec(dead_cores=(3, 17), broken_links=((0, 1),)))
>>> chip.faults.dead_cores, chip.faults.any
((3, 17), True)
"""

from __future__ import annotations

from dataclasses import dataclass

from ._fields import SpecError, spec_field, validate

__all__ = ["FaultSpec"]


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Faults of one chip; the defaults are a chip without faults (see the module docstring)."""

    stuck_fraction: float = spec_field(
        0.0, "fraction of PCM devices stuck, drawn per device and per chip instance", lo=0.0,
        hi=1.0)
    stuck_at_gmax_share: float = spec_field(
        0.5, "share of stuck devices stuck at g_max (SET); the rest are stuck at 0 µS (RESET); "
        "UNCONFIRMED default", lo=0.0, hi=1.0)
    dead_cores: tuple[int, ...] = spec_field(
        (), "ids of cores that cannot compute (row-major on the grid); never mapped", lo=0)
    dead_adc_columns: tuple[tuple[int, int], ...] = spec_field(
        (), "(core, column) pairs whose ADC reads 0 counts", lo=0)
    broken_links: tuple[tuple[int, int], ...] = spec_field(
        (), "(a, b) core pairs whose link is cut (both directions)", lo=0)

    def __post_init__(self) -> None:
        validate(self)
        _unique("dead_cores", self.dead_cores, lambda c: c, "core")
        for i, pair in enumerate(self.dead_adc_columns):
            for v in pair:
                if v < 0:
                    raise SpecError(f"dead_adc_columns[{i}]", f"core and column must be >= 0, "
                                    f"got {list(pair)}")
        _unique("dead_adc_columns", self.dead_adc_columns, tuple, "ADC column")
        for i, (a, b) in enumerate(self.broken_links):
            if a < 0 or b < 0:
                raise SpecError(f"broken_links[{i}]", f"core ids must be >= 0, got {[a, b]}")
            if a == b:
                raise SpecError(f"broken_links[{i}]", f"a link joins two different cores, got "
                                f"{[a, b]}")
        _unique("broken_links", self.broken_links, lambda p: (min(p), max(p)), "link")

    @property
    def any(self) -> bool:
        """Whether the chip has any fault."""
        return bool(self.stuck_fraction or self.dead_cores or self.dead_adc_columns
                    or self.broken_links)

    def check_grid(self, grid: tuple[int, int], cols: int, chips: int = 1) -> None:
        """Check every core id against ``chips`` chips of ``grid`` and every ADC column
        against ``cols``.

        Raises
        ------
        SpecError
            Naming the field (``dead_cores[1]``, ...) and the id that is not on the chip.
        """
        n = grid[0] * grid[1] * chips
        where = (f"the {grid[0]}x{grid[1]} chip" if chips == 1 else
                 f"the {chips} chips of {grid[0]}x{grid[1]}") + f" (cores 0..{n - 1})"
        for i, c in enumerate(self.dead_cores):
            if c >= n:
                raise SpecError(f"dead_cores[{i}]", f"core {c} is not on {where}")
        for i, (c, col) in enumerate(self.dead_adc_columns):
            if c >= n:
                raise SpecError(f"dead_adc_columns[{i}]", f"core {c} is not on {where}")
            if col >= cols:
                raise SpecError(f"dead_adc_columns[{i}]", f"column {col} is not on a core of "
                                f"{cols} columns (0..{cols - 1})")
        for i, (a, b) in enumerate(self.broken_links):
            for c in (a, b):
                if c >= n:
                    raise SpecError(f"broken_links[{i}]", f"core {c} is not on {where}")


def _unique(name: str, values: tuple, key, what: str) -> None:
    seen: dict = {}
    for i, v in enumerate(values):
        k = key(v)
        if k in seen:
            shown = list(v) if isinstance(v, tuple) else v
            raise SpecError(f"{name}[{i}]", f"{what} {shown} is listed twice (also at "
                            f"[{seen[k]}])")
        seen[k] = i
