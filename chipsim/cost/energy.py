"""Energy of a run: action counts × the energy table + static power × time (after the run).

The timing engine only counts; this module turns the counts of a run
(:class:`ActionCounts`) and a chip's :class:`~chipsim.spec.EnergySpec` into an
:class:`EnergyBreakdown`, so technology numbers change without re-simulating (the Accelergy
pattern). Every component is one parameter times one count or active time
(:data:`COMPONENTS`); the fit (:mod:`chipsim.cost.fit`) uses the same table.

Examples
--------
>>> from chipsim.spec import EnergySpec
>>> c = ActionCounts(mvms=1, adc_conversions=256, pwm_row_phases=256,
...                  array_cell_phases=65536)
>>> e = energy(c, EnergySpec(pwm_pj_per_row_phase=10.0, array_fj_per_cell_phase=0.0,
...                          adc_pj_per_conversion=20.0))
>>> e.pwm_pj, e.adc_pj, e.mvm_pj
(2560.0, 5120.0, 7680.0)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..spec import EnergySpec

__all__ = ["ActionCounts", "EnergyBreakdown", "COMPONENTS", "STATIC_COMPONENTS", "MVM_COMPONENTS",
           "energy"]


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """Chip-wide action counts and active times of a run (times in ps).

    Attributes
    ----------
    mvms, gdc_mvms
        Core MVMs of the workload, and calibration MVMs of drift compensation.
    pwm_row_phases, array_cell_phases, adc_conversions
        Active rows × read phases, active unit cells × phases, and ADC conversions (every
        ADC of the core converts in every phase: columns × phases; no per-column gating,
        UNCONFIRMED), over all MVMs (calibration included).
    mvm_core_ps
        Cores on the chip × time during which any core computes an MVM.
    ldpu_values, buffer_values, link_bit_hops, gdpu_inputs, offchip_bits
        Values through LDPUs; values written to and read from core buffers; bits × links
        crossed on the core network; values into GDPU slices; bits between chip and host.
    core_active_ps, gdpu_active_ps, chip_active_ps
        Sum over cores with digital work of the time they are busy (MVM unit or LDPU at work;
        gaps under a digital cycle count, longer ones are clock-gated); the same for the GDPU
        slices; the chip's span from its first action to its last digital action.
    """

    mvms: int = 0
    gdc_mvms: int = 0
    pwm_row_phases: int = 0
    array_cell_phases: int = 0
    adc_conversions: int = 0
    mvm_core_ps: int = 0
    ldpu_values: int = 0
    buffer_values: int = 0
    link_bit_hops: int = 0
    gdpu_inputs: int = 0
    offchip_bits: int = 0
    core_active_ps: int = 0
    gdpu_active_ps: int = 0
    chip_active_ps: int = 0


#: component -> (EnergySpec field, ActionCounts field, scale to pJ)
COMPONENTS: dict[str, tuple[str, str, float]] = {
    "pwm": ("pwm_pj_per_row_phase", "pwm_row_phases", 1.0),
    "array": ("array_fj_per_cell_phase", "array_cell_phases", 1e-3),
    "adc": ("adc_pj_per_conversion", "adc_conversions", 1.0),
    "mvm_static": ("mvm_static_mw_per_core", "mvm_core_ps", 1e-3),
    "ldpu": ("ldpu_pj_per_value", "ldpu_values", 1.0),
    "buffer": ("buffer_pj_per_value", "buffer_values", 1.0),
    "link": ("link_pj_per_bit_hop", "link_bit_hops", 1.0),
    "gdpu": ("gdpu_pj_per_input", "gdpu_inputs", 1.0),
    "offchip": ("offchip_pj_per_bit", "offchip_bits", 1.0),
    "core_static": ("core_static_mw", "core_active_ps", 1e-3),
    "gdpu_static": ("gdpu_static_mw_per_slice", "gdpu_active_ps", 1e-3),
    "chip_static": ("chip_static_mw", "chip_active_ps", 1e-3),
}
"""Each energy component as (parameter, count, scale): mW × ps and fJ → 1e-3 pJ."""

STATIC_COMPONENTS = tuple(c for c, (param, _, _) in COMPONENTS.items() if "_mw" in param)
"""The components that are a static power (mW) × an active time; the rest are per action."""

MVM_COMPONENTS = ("pwm", "array", "adc", "mvm_static")
"""The components of "MVM energy" (array + ADCs + PWM, [LG] Tab I), from which TOPS/W is
computed."""


@dataclass(frozen=True, slots=True)
class EnergyBreakdown:
    """Energy (pJ) of each component of :data:`COMPONENTS`."""

    pwm_pj: float = 0.0
    array_pj: float = 0.0
    adc_pj: float = 0.0
    mvm_static_pj: float = 0.0
    ldpu_pj: float = 0.0
    buffer_pj: float = 0.0
    link_pj: float = 0.0
    gdpu_pj: float = 0.0
    offchip_pj: float = 0.0
    core_static_pj: float = 0.0
    gdpu_static_pj: float = 0.0
    chip_static_pj: float = 0.0

    @property
    def total_pj(self) -> float:
        """All components."""
        return sum(getattr(self, f.name) for f in fields(self))

    @property
    def mvm_pj(self) -> float:
        """MVM energy: PWM, array, ADCs and the MVM periphery's static power."""
        return sum(getattr(self, f"{c}_pj") for c in MVM_COMPONENTS)

    def as_dict(self, scale: float = 1.0) -> dict[str, float]:
        """``{component: energy × scale}`` (e.g. ``scale=1e-6`` for µJ)."""
        return {f.name[:-3]: getattr(self, f.name) * scale for f in fields(self)}

    def scaled(self, factor: float) -> EnergyBreakdown:
        """Every component times ``factor`` (e.g. ``1 / inferences``)."""
        return EnergyBreakdown(*(getattr(self, f.name) * factor for f in fields(self)))


def energy(counts: ActionCounts, spec: EnergySpec) -> EnergyBreakdown:
    """The energy breakdown of ``counts`` under the energy table ``spec``."""
    return EnergyBreakdown(**{
        f"{comp}_pj": getattr(spec, param) * getattr(counts, count) * scale
        for comp, (param, count, scale) in COMPONENTS.items()
    })
