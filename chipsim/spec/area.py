"""Area constants of a chip: its components' sizes, from which :mod:`chipsim.cost.area` builds
core and chip areas.

The reference chip publishes three areas ([LG] EDT I, ``shared/hermes.md`` §1): the MVM area
of a core (crossbar, ADCs, PWM drivers: 0.635 mm²), the core (1.2 × 1.16 mm²) and the die
(12 × 12 mm). No breakdown inside them is published: the component sizes below are sourced
where a source exists and UNCONFIRMED otherwise, and three remainders (marked DERIVED) are
set by ``chipsim.calibration.area`` so that the reference chip reproduces each published area
exactly; a test holds the defaults to that derivation.

Examples
--------
>>> from chipsim.spec import AreaSpec
>>> AreaSpec().technology_nm
14.0
"""

from __future__ import annotations

from dataclasses import dataclass

from ._fields import spec_field, validate

__all__ = ["AreaSpec"]

_DERIVED = "DERIVED by chipsim.calibration.area from [LG] EDT I"


@dataclass(frozen=True, slots=True)
class AreaSpec:
    """Sizes of a chip's components (µm² per item, mm² per unit)."""

    technology_nm: float = spec_field(
        14.0, "CMOS node (nm) that scales the SAR ADC's area law from its 28-nm fit [LG]",
        lo=1.0, hi=1000.0)
    cell_um2: float = spec_field(
        7.9393, "crossbar unit cell (4 PCM devices and their access devices) (µm²); the rest "
        f"of a core's 0.635-mm² MVM area after its ADCs and PWM drivers; {_DERIVED}",
        lo=0.0, lo_open=True)
    adc_cco_fixed_um2: float = spec_field(
        240.0, "CCO ADC without its counters: oscillator, linearization, bias (µm²); "
        "UNCONFIRMED: 4-µm column pitch [KA] × 60 µm", lo=0.0)
    adc_ramp_fixed_um2: float = spec_field(
        80.0, "ramp ADC's comparator (µm²); UNCONFIRMED: 4-µm pitch × 20 µm", lo=0.0)
    counter_um2_per_bit: float = spec_field(
        4.0, "one counter stage of a counting ADC (µm²); UNCONFIRMED: a 14-nm flip-flop with "
        "its logic in a 4-µm pitch × 1-µm slice", lo=0.0)
    ramp_generator_um2: float = spec_field(
        2000.0, "ramp generator shared by a core's ramp ADCs (µm²); UNCONFIRMED", lo=0.0)
    pwm_fixed_um2: float = spec_field(
        80.0, "row driver of a PWM input (µm²); UNCONFIRMED: 4-µm pitch × 20 µm", lo=0.0)
    pwm_um2_per_bit: float = spec_field(
        8.0, "per input bit of a row: code register and comparator stage against the shared "
        "window counter (µm²); UNCONFIRMED", lo=0.0)
    ldpu_mm2: float = spec_field(
        0.25, "a core's LDPU: FP16 affine, ReLU, add and INT8 re-quantization, one value per "
        "cycle (mm²); UNCONFIRMED", lo=0.0)
    core_rest_mm2: float = spec_field(
        0.507, "the rest of a core: input, activation and partial-sum buffers, link ports, "
        f"control (mm²); the core's 1.2 × 1.16 mm² less its MVM area and LDPU; {_DERIVED}",
        lo=0.0)
    gdpu_mm2_per_slice: float = spec_field(
        0.4, "one GDPU slice: activation lookup tables, 64 cell-state registers, FP16 "
        "datapath (mm²); UNCONFIRMED", lo=0.0)
    link_mm2: float = spec_field(
        0.01, "one core-to-core link, both directions: 2 × 8 wires of ~1.2 mm with drivers "
        "and its router share (mm²); UNCONFIRMED", lo=0.0)
    periphery_mm2: float = spec_field(
        50.102, "chip periphery outside cores, GDPUs and links: I/O pads, clock generation, "
        f"global control (mm²); the 12 × 12-mm die less the rest; {_DERIVED}", lo=0.0)

    def __post_init__(self) -> None:
        validate(self)
