"""Per-action latencies from a :class:`~chipsim.spec.ChipSpec`, in integer picoseconds.

Simulated time is an integer number of picoseconds, so the two clock domains of the chip
(MVM: array, PWM, ADC; digital: LDPU, GDPU, links) stay exact: a clock period is rounded to the
picosecond once (1000 ps at 1 GHz, 2500 ps at 400 MHz) and every latency is a whole number of
periods of its domain. Nothing here is hard-coded: each number follows from the spec.

Examples
--------
>>> from chipsim.spec import hermes
>>> lat = Latencies.of(hermes())
>>> lat.mvm_ps, lat.digital_ps, lat.value_ps(3.2)
(520000, 2500, 2500)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..spec import ChipSpec
from .adc import mvm_cycles
from .clock import align_up, period_ps

__all__ = ["period_ps", "align_up", "Latencies"]


@dataclass(frozen=True, slots=True)
class Latencies:
    """Latencies of the chip's actions (ps), derived from a chip spec by :meth:`of`.

    Attributes
    ----------
    mvm_clock_ps, digital_ps, link_clock_ps
        Periods of the MVM, digital and link clocks.
    mvm_ps
        One MVM: :func:`chipsim.cost.adc.mvm_cycles` MVM-clock periods (every read phase's
        integration window and ADC conversion, per-phase latch overhead, set-up): 133 ns
        one-phase, 520 ns four-phase on the reference.
    ldpu_depth_ps
        Pipeline latency of an LDPU (``energy.ldpu_pipeline_cycles`` digital periods).
    ldpu_values_per_cycle
        Values an LDPU takes per digital cycle (``core.ldpu_values_per_cycle``).
    gdpu_depth_ps
        Pipeline latency of a GDPU slice (``energy.gdpu_pipeline_cycles`` digital periods).
    gdpu_in_ps, gdpu_out_ps
        Time per GDPU input (``1 / gdpu_inputs_per_cycle`` digital cycles, whole ps) and per
        output (``gdpu_cycles_per_output`` cycles).
    value_bits
        Bits of one value on a link (INT8 on the wire [LG]).
    attention_ps
        Clock period of the digital attention units (``attention.clock_mhz``).
    """

    mvm_clock_ps: int
    digital_ps: int
    link_clock_ps: int
    mvm_ps: int
    ldpu_depth_ps: int
    ldpu_values_per_cycle: int
    gdpu_depth_ps: int
    gdpu_in_ps: int
    gdpu_out_ps: int
    value_bits: int = 8
    attention_ps: int = 2500

    @classmethod
    def of(cls, chip: ChipSpec) -> Latencies:
        """The latencies of ``chip``."""
        core = chip.core
        mvm_clock = period_ps(core.mvm_clock_mhz)
        digital = period_ps(core.digital_clock_mhz)
        return cls(
            mvm_clock_ps=mvm_clock,
            digital_ps=digital,
            link_clock_ps=period_ps(chip.network.link_clock_mhz),
            mvm_ps=mvm_cycles(core) * mvm_clock,
            ldpu_depth_ps=chip.energy.ldpu_pipeline_cycles * digital,
            ldpu_values_per_cycle=core.ldpu_values_per_cycle,
            gdpu_depth_ps=chip.energy.gdpu_pipeline_cycles * digital,
            gdpu_in_ps=max(1, digital // chip.gdpu_inputs_per_cycle),
            gdpu_out_ps=digital * chip.gdpu_cycles_per_output,
            attention_ps=period_ps(chip.attention.clock_mhz),
        )

    def ldpu_span_ps(self, n: int) -> int:
        """Time between the first and the last of ``n`` values entering an LDPU (pipelined).

        Examples
        --------
        >>> from chipsim.spec import hermes
        >>> Latencies.of(hermes()).ldpu_span_ps(224)
        557500
        """
        cycles = max(0, math.ceil(n / self.ldpu_values_per_cycle) - 1)
        return cycles * self.digital_ps

    def ldpu_value_ps(self) -> int:
        """Average time per value through an LDPU (whole ps)."""
        return max(1, self.digital_ps // self.ldpu_values_per_cycle)

    def value_ps(self, bandwidth_gbps: float) -> int:
        """Time (ps) for one value to cross a link of ``bandwidth_gbps`` (whole ps).

        2500 ps for an INT8 value on the reference chip's 3.2 Gbit/s links.
        """
        if not bandwidth_gbps > 0:
            raise ValueError(f"link bandwidth must be > 0 Gbit/s, got {bandwidth_gbps}")
        return max(1, math.ceil(self.value_bits * 1000.0 / bandwidth_gbps - 1e-9))

    def hop_ps(self, latency_cycles: int) -> int:
        """Latency (ps) of one hop of ``latency_cycles`` link-clock cycles."""
        return latency_cycles * self.link_clock_ps
