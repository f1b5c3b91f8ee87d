"""Specification of the digital attention units that run a Transformer's digital operators.

A Transformer keeps its weight layers (projections, feed-forward) on the analog cores and
computes attention (``q·kᵀ``, softmax, ``·v``), LayerNorm, GELU and the position table's sum
digitally, since their operands change with every input (Burr et al., IEDM 2023). The
reference chip has no unit for that ([LG]; ``units = 0``): these fields describe one to add,
a node on the on-chip network like a GDPU slice, with its own MAC array, clock and local
memory for the keys and values. The preset :func:`~chipsim.spec.hermes_attn` adds four.

No chip with such a unit next to PCM cores has published figures, so every default below is
an estimate. The energies scale M. Horowitz, "Computing's energy problem (and what we can do
about it)", ISSCC 2014, at 45 nm and 0.9 V (FP16 multiply 1.1 pJ, FP16 add 0.4 pJ, a 64-bit
read of a 32-kB SRAM 20 pJ) to the chip's 14 nm by 1/3 (UNCONFIRMED: a typical energy gain
over the three nodes in between, not a measured one). What each operator costs in MACs,
other operations and memory bytes is :mod:`chipsim.cost.attention`.

Examples
--------
>>> from chipsim.spec import AttentionSpec, hermes, override
>>> AttentionSpec().units, hermes().attention.units
(0, 0)
>>> override(hermes(), "attention.units", 2).attention.units
2
"""

from __future__ import annotations

from dataclasses import dataclass

from ._fields import spec_field, validate

__all__ = ["AttentionSpec"]

_HOROWITZ = "Horowitz ISSCC 2014 (45 nm) × 1/3 for 14 nm (UNCONFIRMED scaling)"


@dataclass(frozen=True, slots=True)
class AttentionSpec:
    """Digital attention units: count, throughput, clock, local memory, energies, area."""

    units: int = spec_field(
        0, "digital attention units on the chip (0 = none, as on the reference chip [LG]); "
        "each runs self-attention, LayerNorm, GELU and position-table sums", lo=0, hi=4096)
    after_row: int = spec_field(
        4, "the units sit between core row after_row - 1 and after_row (as the GDPU slices "
        "[LG §III]), unit u linked both ways to the cores above and below column "
        "(2u + 1)·columns // (2·units); UNCONFIRMED placement", lo=0)
    macs_per_cycle: int = spec_field(
        256, "FP16 multiply-accumulates per cycle of one unit (an elementwise operation takes "
        "a MAC's slot); UNCONFIRMED: a 16 × 16 array, enough that attention over a few "
        "hundred tokens keeps pace with the two links into the unit", lo=1, hi=1_000_000)
    clock_mhz: float = spec_field(
        400.0, "clock of a unit (MHz): the chip's digital clock [LG EDT I]", lo=0.0,
        lo_open=True)
    local_memory_kb: float = spec_field(
        256.0, "local memory of one unit (kB, 1 kB = 1024 bytes): the INT8 inputs of a whole "
        "inference of every operator it serves (queries, keys and values of each attention); "
        "UNCONFIRMED: 4 × 64 kB SRAM banks", lo=0.0, lo_open=True)
    pj_per_mac: float = spec_field(
        0.5, "energy of one FP16 multiply-accumulate (pJ); FP16 multiply + add 1.5 pJ, "
        f"{_HOROWITZ}", lo=0.0)
    pj_per_op: float = spec_field(
        0.13, "energy of one other FP16 operation: add, compare, or a lookup-table value with "
        f"interpolation (exp, GELU, 1/sqrt) (pJ); FP16 add 0.4 pJ, {_HOROWITZ}", lo=0.0)
    pj_per_byte: float = spec_field(
        0.83, "energy of one byte written to or read from a unit's local memory (pJ); 2.5 pJ "
        f"per byte of a 32-kB SRAM bank, {_HOROWITZ}", lo=0.0)
    static_mw_per_unit: float = spec_field(
        4.5, "static power of one unit while it is busy (clock-gated when idle, as the GDPU "
        "slices) (mW); UNCONFIRMED: the fitted GDPU slice's 1.81 mW per its 0.4 mm² "
        "(energy.gdpu_static_mw_per_slice, area.gdpu_mm2_per_slice) × area_mm2_per_unit", lo=0.0)
    area_mm2_per_unit: float = spec_field(
        1.0, "area of one unit: MAC array, lookup tables, local memory, control (mm²); "
        "UNCONFIRMED: a little more than a core's digital part (LDPU, buffers, ports: the "
        "1.2 × 1.16-mm² core less its 0.635-mm² MVM area [LG EDT I], 0.76 mm²)", lo=0.0)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def local_memory_bytes(self) -> int:
        """Local memory of one unit in bytes."""
        return int(self.local_memory_kb * 1024)
