"""Precision laws of a core: PWM input window and column ADC, in time, energy and area.

Time, per read phase, in MVM-clock cycles:

- **PWM window**: ``2**(input_bits - 1) · pwm_cycles_per_lsb`` (128 ns at 8 bits and 1 ns per
  LSB [LG, KA]; IBM's 14-nm speech chip likewise drives 0–255 ns at 1 ns/LSB, Ambrogio et al.,
  Nature 2023).
- **CCO ADC** (the reference chip's): the oscillator counts while the line current flows; a
  full-scale current gives one count per ``adc_lsb_ps`` (300 ps/LSB [KA]), so ``b`` bits over
  ± full scale need ``2**b · adc_lsb_ps`` of integration (76.8 ns at 8 bits: "> 8 bit in
  128 ns" [KA]; ``shared/hermes.md`` §7). Integration and conversion are the same window.
  When the PWM window is shorter than that, the chip must stretch its pulses (a longer PWM
  LSB) so a full-scale input still spans ``2**b`` counts: the phase TAKES LONGER and the
  accuracy path keeps all ``b`` bits (the alternative, fewer effective levels, is not
  modelled). The applied pulses are the longer ones, and the PWM and array energies follow.
- **SAR ADC**: ``b + 1`` cycles of ``adc_clock_mhz`` after the window (sample, then one
  comparison per bit: NeuroSim's ``SarADC.cpp``, ``shared/hermes.md`` §7).
- **Ramp (single-slope) ADC**: ``2**b`` counter cycles of ``adc_clock_mhz`` after the window
  (the count of a held value against one ramp; the counting law of ``hermes.md`` §7).

Energy per conversion (one column, one phase), as ``parameter × factor(core)`` so that the
energy stays linear in the fitted parameters:

- **CCO** and **ramp**: ``e_step · 2**b``: the oscillator (counter) runs ``2**b`` steps for a
  full-scale conversion at a fixed time per step, the Walden scaling ``E = FOM_W · 2**ENOB``
  (R. H. Walden, IEEE JSAC 17(4), 1999; ``hermes.md`` §7: "at a fixed window, oscillator /
  counter frequency and energy ∝ 2^b"). The CCO's ``e_step`` is fitted to Table I.
- **SAR**: Accelergy's ADC plug-in law (a fit of B. Murmann's ADC survey): ``E = ½ ·
  10**(-(FOM_S - SNDR)/10)`` J with ``SNDR = 6.02·b + 1.76`` dB and ``FOM_S = min(302.74 -
  6.46·ln f_s, 180.14)`` dB at the sample rate ``f_s = adc_clock / (b + 1)``, times a
  dimensionless scale (``energy.adc_sar_scale``; 1 = the survey law). NeuroSim's 14-nm SAR
  column model gives the same order (0.05 pJ at 8 bits, 1 GHz).

Area per ADC and per PWM driver (µm², :class:`~chipsim.spec.AreaSpec` holds the constants):

- **CCO**: oscillator with its linearization, plus two ``b``-bit counters (+ and − currents
  [KA]): ``a_fixed + 2·b·a_bit``.
- **Ramp**: a comparator and one ``b``-bit counter per column, ``a_fixed + b·a_bit``, plus one
  ramp generator per core.
- **SAR**: ZigZag-IMC's law ``10**(-0.0369·b + 1.206) · 2**b`` µm² at 28 nm
  (``AimcArray.py``), scaled by ``(technology_nm / 28)**2``.
- **PWM driver** (per row): ``a_fixed + input_bits · a_bit`` (driver, and the row's code
  register with its comparator against the shared window counter).

Examples
--------
>>> from chipsim.spec import hermes, override
>>> mvm_cycles(hermes().core), mvm_cycles(override(hermes(), "core.adc_bits", 10).core)
(520, 1240)
>>> phase_cycles(override(hermes(), "core.adc_kind", "sar").core)
(128, 9)
"""

from __future__ import annotations

import math

from ..spec import AdcKind, AreaSpec, CoreSpec
from .clock import period_ps

__all__ = ["pwm_window_cycles", "phase_cycles", "mvm_cycles", "integration_ns",
           "adc_energy_param", "adc_energy_factor", "sar_conversion_pj", "adc_area_um2",
           "pwm_area_um2", "ramp_generator_um2"]


def pwm_window_cycles(core: CoreSpec) -> int:
    """MVM-clock cycles of the nominal PWM window: ``2**(input_bits-1) · pwm_cycles_per_lsb``.

    Examples
    --------
    >>> from chipsim.spec import CoreSpec
    >>> pwm_window_cycles(CoreSpec()), pwm_window_cycles(CoreSpec(input_bits=4))
    (128, 8)
    """
    return 2 ** (core.input_bits - 1) * core.pwm_cycles_per_lsb


def _cycles(t_ps: float, period: int) -> int:
    """Whole clock cycles of ``period`` ps covering ``t_ps`` (a float; rounding-safe)."""
    return max(0, math.ceil(t_ps / period - 1e-9))


def phase_cycles(core: CoreSpec) -> tuple[int, int]:
    """``(integration, conversion)`` MVM-clock cycles of one read phase.

    Integration is the applied PWM window (for a CCO ADC at least ``2**b · adc_lsb_ps``);
    conversion is the ADC time after it (0 for a CCO, which converts while integrating).
    """
    mvm = period_ps(core.mvm_clock_mhz)
    window = pwm_window_cycles(core)
    b = core.adc_bits
    if core.adc_kind is AdcKind.CCO:
        return max(window, _cycles(2 ** b * core.adc_lsb_ps, mvm)), 0
    adc_period = period_ps(core.adc_clock_mhz)
    steps = b + 1 if core.adc_kind is AdcKind.SAR else 2 ** b
    return window, _cycles(steps * adc_period, mvm)


def mvm_cycles(core: CoreSpec) -> int:
    """MVM-clock cycles of one MVM: every phase's integration, conversion and latch, + set-up.

    520 on the reference chip (4 × (128 + 0 + 1) + 4), 133 one-phase.
    """
    integration, conversion = phase_cycles(core)
    return (core.phases * (integration + conversion + core.phase_overhead_cycles)
            + core.mvm_setup_cycles)


def integration_ns(core: CoreSpec) -> float:
    """Applied pulse window of one read phase (ns): what PWM and array energies scale with.

    Examples
    --------
    >>> from chipsim.spec import CoreSpec
    >>> integration_ns(CoreSpec()), integration_ns(CoreSpec(input_bits=6))
    (128.0, 77.0)
    """
    return phase_cycles(core)[0] * period_ps(core.mvm_clock_mhz) / 1e3


def adc_energy_param(core: CoreSpec) -> str:
    """The :class:`~chipsim.spec.EnergySpec` field that scales this core's ADC energy."""
    return {AdcKind.CCO: "adc_cco_fj_per_step", AdcKind.RAMP: "adc_ramp_fj_per_step",
            AdcKind.SAR: "adc_sar_scale"}[core.adc_kind]


def sar_conversion_pj(bits: int, sample_rate_hz: float) -> float:
    """Energy of one SAR conversion by the survey law (pJ), before ``adc_sar_scale``.

    Examples
    --------
    >>> round(sar_conversion_pj(8, 1e9 / 9), 4)
    0.0475
    """
    sndr_db = 6.02 * bits + 1.76
    fom_db = min(302.74 - 6.46 * math.log(sample_rate_hz), 180.14)
    return 0.5 * 10 ** (-(fom_db - sndr_db) / 10) * 1e12


def adc_energy_factor(core: CoreSpec) -> float:
    """pJ per conversion per unit of :func:`adc_energy_param`.

    Examples
    --------
    >>> from chipsim.spec import CoreSpec
    >>> adc_energy_factor(CoreSpec()), adc_energy_factor(CoreSpec(adc_bits=4))
    (0.256, 0.016)
    """
    b = core.adc_bits
    if core.adc_kind is AdcKind.SAR:
        return sar_conversion_pj(b, core.adc_clock_mhz * 1e6 / (b + 1))
    return 2 ** b * 1e-3  # fJ per step × 2^b steps → pJ


def adc_area_um2(core: CoreSpec, area: AreaSpec) -> float:
    """Area of one column ADC (µm²).

    Examples
    --------
    >>> from chipsim.spec import AreaSpec, CoreSpec
    >>> a = AreaSpec()
    >>> adc_area_um2(CoreSpec(adc_bits=10), a) > adc_area_um2(CoreSpec(adc_bits=8), a)
    True
    """
    b = core.adc_bits
    if core.adc_kind is AdcKind.CCO:
        return area.adc_cco_fixed_um2 + 2 * b * area.counter_um2_per_bit
    if core.adc_kind is AdcKind.RAMP:
        return area.adc_ramp_fixed_um2 + b * area.counter_um2_per_bit
    return 10 ** (-0.0369 * b + 1.206) * 2 ** b * (area.technology_nm / 28.0) ** 2


def ramp_generator_um2(core: CoreSpec, area: AreaSpec) -> float:
    """Area of the ramp generator a core's ramp ADCs share (µm²; 0 for other kinds)."""
    return area.ramp_generator_um2 if core.adc_kind is AdcKind.RAMP else 0.0


def pwm_area_um2(core: CoreSpec, area: AreaSpec) -> float:
    """Area of one row's PWM driver (µm²)."""
    return area.pwm_fixed_um2 + core.input_bits * area.pwm_um2_per_bit
