"""Specification of one analog in-memory-computing core: crossbar, periphery, timings."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._fields import SpecError, spec_field, validate

__all__ = ["ReadMode", "AdcKind", "AdcRange", "CoreSpec"]


class ReadMode(enum.Enum):
    """How a signed MVM is read out of the crossbar ([LG] §II, Tab I)."""

    ONE_PHASE = "1ph"
    """All four input-sign × weight-sign combinations in one PWM window: fast, less accurate."""
    FOUR_PHASE = "4ph"
    """One PWM window per combination, every device read with the same polarity."""


class AdcKind(enum.Enum):
    """The column ADC's architecture; its time, energy and area laws are in
    :mod:`chipsim.cost.adc`."""

    CCO = "cco"
    """Current-controlled-oscillator counting ADC, integrating during the PWM window [KA]."""
    SAR = "sar"
    """Successive-approximation ADC: one comparison per bit after the window."""
    RAMP = "ramp"
    """Single-slope (ramp) ADC: a counter runs while a ramp crosses the held line value."""


class AdcRange(enum.Enum):
    """How each core's ADC full scale is set."""

    FIXED = "fixed"
    """One full-scale current for every core: ``core.adc_full_scale_ua``."""
    CALIBRATED = "calibrated"
    """Per core, from calibration inputs: a percentile of the line currents they draw
    (``core.adc_range_percentile``), at most ``adc_full_scale_ua`` (the ADC's largest
    range); the reference chip trims every ADC's gain [KA], NeuRRAM scales per layer."""


@dataclass(frozen=True, slots=True)
class CoreSpec:
    """One core: a ``rows × cols`` PCM crossbar with PWM inputs, ADCs and an LDPU.

    Defaults are the reference chip's (``shared/hermes.md`` §1); values marked UNCONFIRMED
    in their description have no published source and are documented choices.
    """

    rows: int = spec_field(256, "crossbar rows = inputs per core [LG]", lo=1, hi=4096)
    cols: int = spec_field(256, "crossbar columns = outputs (and ADCs) per core [LG]", lo=1,
                           hi=4096)
    devices_per_polarity: int = spec_field(
        2, "PCM devices per weight polarity: 2 = TDP, 1 = ODP [LG]", choices=(1, 2))
    read_mode: ReadMode = spec_field(ReadMode.FOUR_PHASE, "MVM read mode [LG]",
                                     choices=tuple(ReadMode))
    input_bits: int = spec_field(8, "PWM input resolution, sign + magnitude bits [LG, KA]",
                                 lo=2, hi=12)
    adc_bits: int = spec_field(
        8, "ADC resolution over ±full scale, sign included (8 as in the chip's HWA training "
        "[LG]; the CCO ADC reaches > 8 bit in 128 ns [KA])", lo=2, hi=14)
    v_read_v: float = spec_field(
        0.2, "read voltage across a device during a PWM pulse (V); UNCONFIRMED default",
        lo=0.0, lo_open=True, hi=2.0)
    i_sat_ua: float = spec_field(
        100.0, "bit-line current (µA) above which a line saturates [LG, KA]", lo=0.0,
        lo_open=True)
    adc_full_scale_ua: float = spec_field(
        50.0, "line current (µA, signed) that maps to the ADC's full-scale count; UNCONFIRMED: "
        "≈ 12 × g_max·v_read, aihwkit's out_bound of 12 [AK]", lo=0.0, lo_open=True)
    adc_kind: AdcKind = spec_field(
        AdcKind.CCO, "column ADC architecture: 'cco' (the reference chip's [LG, KA]), 'sar' or "
        "'ramp'; laws in chipsim.cost.adc", choices=tuple(AdcKind))
    adc_lsb_ps: float = spec_field(
        300.0, "CCO ADC: oscillator period at full-scale current, i.e. time per count (ps); "
        "300 ps/LSB [KA]", lo=0.0, lo_open=True, hi=1e6)
    adc_clock_mhz: float = spec_field(
        1000.0, "clock of a SAR ADC's bit cycles or a ramp ADC's counter (MHz); UNCONFIRMED: "
        "the MVM clock of the reference chip", lo=0.0, lo_open=True, hi=1e5)
    adc_range: AdcRange = spec_field(
        AdcRange.FIXED, "ADC full scale: 'fixed' (adc_full_scale_ua on every core) or "
        "'calibrated' (per core from calibration inputs)", choices=tuple(AdcRange))
    adc_range_percentile: float = spec_field(
        99.99, "calibrated range: percentile of the calibration inputs' |line current| that "
        "maps to full scale; UNCONFIRMED, as the activation scales (executor)", lo=50.0,
        hi=100.0)
    adc_range_calibration_mvms: int = spec_field(
        64, "calibrated range: calibration MVMs per core, done once after programming and "
        "charged in energy like the GDC reads; UNCONFIRMED", lo=1, hi=100000)
    adc_gain_std: float = spec_field(
        0.02, "per-column ADC gain spread after trimming (relative σ); UNCONFIRMED", lo=0.0,
        hi=0.5)
    adc_offset_std_lsb: float = spec_field(
        1.0, "per-column ADC offset spread (σ, in LSB); UNCONFIRMED", lo=0.0, hi=100.0)
    ldpu_corrects_adc: bool = spec_field(
        True, "LDPU affine removes the per-column ADC gain/offset [LG §II]")
    output_noise_std_fs: float = spec_field(
        0.002, "Gaussian output noise before the ADC per conversion, as a fraction of full "
        "scale: the CCO ADC resolves > 8 bit over its ~100 µA line range in 128 ns [KA], so "
        "its noise is at most about one 8-bit step's rms, 100 µA / 2^8 / √12 ≈ 0.11 µA = 0.002 "
        "× 50 µA (UNCONFIRMED: no measured σ is published; aihwkit's inference default, "
        "0.06 over out_bound 12 = 0.005, made the output noise, not the programming error, "
        "the main accuracy loss, against [LG] §5)", lo=0.0, hi=1.0)
    one_phase_asymmetry_mean: float = spec_field(
        0.03, "1-ph read: mean relative excess current of devices read at negative voltage; "
        "UNCONFIRMED", lo=-0.5, hi=0.5)
    one_phase_asymmetry_std: float = spec_field(
        0.02, "1-ph read: device-to-device σ of that asymmetry; UNCONFIRMED", lo=0.0, hi=0.5)
    gdc_calibration_mvms: int = spec_field(
        16, "MVMs per core for one global-drift-compensation calibration read; UNCONFIRMED",
        lo=1, hi=100000)
    mvm_clock_mhz: float = spec_field(1000.0, "MVM clock: array, PWM, ADC (MHz) [LG EDT I]",
                                      lo=0.0, lo_open=True)
    digital_clock_mhz: float = spec_field(400.0, "digital clock: LDPU (MHz) [LG EDT I]",
                                          lo=0.0, lo_open=True)
    pwm_cycles_per_lsb: int = spec_field(1, "MVM-clock cycles per PWM LSB (1 ns) [LG, KA]",
                                         lo=1, hi=1024)
    phase_overhead_cycles: int = spec_field(
        1, "MVM-clock cycles per read phase beyond the PWM window (ADC latch); DERIVED from "
        "Tab I: 133 ns (1-ph) and 520 ns (4-ph) give 1 per phase + 4 per MVM", lo=0, hi=100000)
    mvm_setup_cycles: int = spec_field(
        4, "MVM-clock cycles per MVM beyond the phases (set-up, readout); DERIVED from Tab I",
        lo=0, hi=100000)
    ldpu_values_per_cycle: int = spec_field(
        1, "values the LDPU completes per digital cycle (pipelined) [LG §II]", lo=1, hi=4096)

    def __post_init__(self) -> None:
        validate(self)
        if self.adc_full_scale_ua > 64 * self.i_sat_ua:
            raise SpecError("adc_full_scale_ua", "must be at most 64 × i_sat_ua, got "
                            f"{self.adc_full_scale_ua} with i_sat_ua={self.i_sat_ua}")

    @property
    def phases(self) -> int:
        """Read phases per MVM: 1 or 4."""
        return 1 if self.read_mode is ReadMode.ONE_PHASE else 4

    @property
    def input_levels(self) -> int:
        """Largest PWM magnitude code, ``2**(input_bits-1) - 1`` (127 for 8 bits)."""
        return 2 ** (self.input_bits - 1) - 1

    @property
    def adc_levels(self) -> int:
        """Largest ADC magnitude count, ``2**(adc_bits-1) - 1``."""
        return 2 ** (self.adc_bits - 1) - 1
