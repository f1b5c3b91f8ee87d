"""Energy of a run: action counts × the energy table + static power × time (after the run).

The timing engine only counts; this module turns the counts of a run
(:class:`ActionCounts`), a chip's :class:`~chipsim.spec.EnergySpec` and the precision of its
cores (:class:`~chipsim.spec.CoreSpec`) into an :class:`EnergyBreakdown`, so technology
numbers change without re-simulating (the Accelergy pattern). Every component is one
parameter × a factor of the core's precision (:mod:`chipsim.cost.adc`: the applied pulse
window for PWM and array, ``2**adc_bits`` steps or the SAR law for the ADC) × one count or
active time (:data:`COMPONENTS`); the Table I fit (``chipsim.calibration.fit``) uses the same
table, so the energy stays linear in the fitted parameters. The digital attention units'
parameters are in the chip's :class:`~chipsim.spec.AttentionSpec` (their actions are
:mod:`chipsim.cost.attention`'s); they are 0 in every run without one.

Examples
--------
>>> from chipsim.spec import CoreSpec, EnergySpec
>>> c = ActionCounts(mvms=1, adc_conversions=256, pwm_row_phases=256,
...                  array_cell_phases=65536)
>>> spec = EnergySpec(pwm_fj_per_row_ns=100.0, array_fj_per_cell_ns=0.0,
...                   adc_cco_fj_per_step=20.0)
>>> e = energy(c, spec, CoreSpec())  # 128-ns window, 8-bit CCO ADC: 2^8 steps
>>> e.pwm_pj, e.adc_pj, e.mvm_pj
(3276.8, 1310.72, 4587.52)
>>> energy(c, spec, CoreSpec(adc_bits=6)).adc_pj
327.68
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from ..spec import AttentionSpec, CoreSpec, EnergySpec, SystemSpec
from .adc import adc_energy_factor, adc_energy_param, integration_ns

__all__ = ["ActionCounts", "EnergyBreakdown", "Component", "COMPONENTS", "STATIC_COMPONENTS",
           "MVM_COMPONENTS", "energy"]


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """Chip-wide action counts and active times of a run (times in ps).

    Attributes
    ----------
    mvms, gdc_mvms, range_cal_mvms
        Core MVMs of the workload, calibration MVMs of drift compensation, and the
        calibration MVMs that set calibrated ADC ranges (``core.adc_range``; counted in a
        run's one-time set-up, ``TimingResult.setup_counts``).
    pwm_row_phases, array_cell_phases, adc_conversions
        Active rows × read phases, active unit cells × phases, and ADC conversions (every
        ADC of the core converts in every phase: columns × phases; no per-column gating,
        UNCONFIRMED), over all MVMs (calibration included).
    mvm_core_ps
        Cores on the chip × time during which any core computes an MVM (in a system, summed
        over the chips: a chip's cores × the time any of them computes).
    ldpu_values, buffer_values, link_bit_hops, gdpu_inputs, offchip_bits
        Values through LDPUs; values written to and read from core buffers; bits × links
        crossed on the core network; values into GDPU slices; bits between chip and host.
    c2c_bits
        Bits × chip-to-chip links crossed (systems of several chips; not in
        ``link_bit_hops``).
    core_active_ps, gdpu_active_ps, chip_active_ps
        Sum over cores with digital work of the time they are busy (MVM unit or LDPU at work;
        gaps under a digital cycle count, longer ones are clock-gated); the same for the GDPU
        slices; the chip's span from its first action to its last digital action (in a
        system, that span times the chips: every chip is powered for the run).
    attention_macs, attention_ops, attention_bytes, attention_active_ps
        The digital attention units' MACs, other operations and local-memory bytes
        (:mod:`chipsim.cost.attention`), and the sum over the units of the time each is busy.
    """

    mvms: int = 0
    gdc_mvms: int = 0
    range_cal_mvms: int = 0
    pwm_row_phases: int = 0
    array_cell_phases: int = 0
    adc_conversions: int = 0
    mvm_core_ps: int = 0
    ldpu_values: int = 0
    buffer_values: int = 0
    link_bit_hops: int = 0
    gdpu_inputs: int = 0
    offchip_bits: int = 0
    c2c_bits: int = 0
    core_active_ps: int = 0
    gdpu_active_ps: int = 0
    chip_active_ps: int = 0
    attention_macs: int = 0
    attention_ops: int = 0
    attention_bytes: int = 0
    attention_active_ps: int = 0


@dataclass(frozen=True, slots=True)
class Component:
    """One energy component: ``EnergySpec[param] × factor(core) × ActionCounts[count]`` pJ.

    ``param`` is a field name, or a function of the core for a component whose parameter
    depends on it (the ADC kind); ``factor`` converts the parameter's unit × the count's unit
    to pJ and carries the precision laws of :mod:`chipsim.cost.adc`. ``table`` names the
    spec that holds ``param``: ``"energy"`` (:class:`~chipsim.spec.EnergySpec`) or
    ``"attention"`` (:class:`~chipsim.spec.AttentionSpec`) or ``"system"``
    (:class:`~chipsim.spec.SystemSpec`).
    """

    param: str | Callable[[CoreSpec], str]
    count: str
    factor: Callable[[CoreSpec], float]
    table: str = "energy"

    def param_of(self, core: CoreSpec) -> str:
        """The parameter's field name for ``core``."""
        return self.param if isinstance(self.param, str) else self.param(core)

    def table_of(self, spec: EnergySpec, attention: AttentionSpec | None = None,
                 system: SystemSpec | None = None) -> EnergySpec | AttentionSpec | SystemSpec:
        """The spec that holds the parameter: ``spec``, ``attention`` (default
        ``AttentionSpec()``) for an attention unit's component, or ``system`` (default
        ``SystemSpec()``) for the chip-to-chip links'."""
        if self.table == "attention":
            return AttentionSpec() if attention is None else attention
        if self.table == "system":
            return SystemSpec() if system is None else system
        return spec

    def pj(self, spec: EnergySpec, core: CoreSpec, counts: ActionCounts,
           attention: AttentionSpec | None = None, system: SystemSpec | None = None) -> float:
        """The component's energy (pJ)."""
        return (getattr(self.table_of(spec, attention, system), self.param_of(core))
                * self.factor(core) * getattr(counts, self.count))


def _const(scale: float) -> Callable[[CoreSpec], float]:
    return lambda core: scale


def _per_window_ns(core: CoreSpec) -> float:
    return integration_ns(core) * 1e-3  # fJ per ns × ns → pJ


COMPONENTS: dict[str, Component] = {
    "pwm": Component("pwm_fj_per_row_ns", "pwm_row_phases", _per_window_ns),
    "array": Component("array_fj_per_cell_ns", "array_cell_phases", _per_window_ns),
    "adc": Component(adc_energy_param, "adc_conversions", adc_energy_factor),
    "mvm_static": Component("mvm_static_mw_per_core", "mvm_core_ps", _const(1e-3)),
    "ldpu": Component("ldpu_pj_per_value", "ldpu_values", _const(1.0)),
    "buffer": Component("buffer_pj_per_value", "buffer_values", _const(1.0)),
    "link": Component("link_pj_per_bit_hop", "link_bit_hops", _const(1.0)),
    "gdpu": Component("gdpu_pj_per_input", "gdpu_inputs", _const(1.0)),
    "offchip": Component("offchip_pj_per_bit", "offchip_bits", _const(1.0)),
    "c2c": Component("link_pj_per_bit", "c2c_bits", _const(1.0), "system"),
    "core_static": Component("core_static_mw", "core_active_ps", _const(1e-3)),
    "gdpu_static": Component("gdpu_static_mw_per_slice", "gdpu_active_ps", _const(1e-3)),
    "chip_static": Component("chip_static_mw", "chip_active_ps", _const(1e-3)),
    "attention": Component("pj_per_mac", "attention_macs", _const(1.0), "attention"),
    "attention_ops": Component("pj_per_op", "attention_ops", _const(1.0), "attention"),
    "attention_memory": Component("pj_per_byte", "attention_bytes", _const(1.0), "attention"),
    "attention_static": Component("static_mw_per_unit", "attention_active_ps", _const(1e-3),
                                  "attention"),
}
"""Each energy component (mW × ps and fJ → 1e-3 pJ)."""

STATIC_COMPONENTS = tuple(c for c, comp in COMPONENTS.items()
                          if isinstance(comp.param, str) and "_mw" in comp.param)
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
    c2c_pj: float = 0.0
    core_static_pj: float = 0.0
    gdpu_static_pj: float = 0.0
    chip_static_pj: float = 0.0
    attention_pj: float = 0.0
    attention_ops_pj: float = 0.0
    attention_memory_pj: float = 0.0
    attention_static_pj: float = 0.0

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


def energy(counts: ActionCounts, spec: EnergySpec, core: CoreSpec,
           attention: AttentionSpec | None = None,
           system: SystemSpec | None = None) -> EnergyBreakdown:
    """The energy breakdown of ``counts`` under the energy table ``spec`` for cores ``core``,
    attention units ``attention`` (default ``AttentionSpec()``) and chip-to-chip links of
    ``system`` (default ``SystemSpec()``).

    Examples
    --------
    >>> from chipsim.spec import AttentionSpec, CoreSpec, EnergySpec
    >>> c = ActionCounts(attention_macs=1000, attention_bytes=100,
    ...                  attention_active_ps=2_000_000)
    >>> e = energy(c, EnergySpec(), CoreSpec(), AttentionSpec(pj_per_mac=0.5, pj_per_byte=1.0,
    ...                                                       static_mw_per_unit=4.0))
    >>> e.attention_pj, e.attention_memory_pj, e.attention_static_pj  # 4 mW × 2 µs = 8 nJ
    (500.0, 100.0, 8000.0)
    """
    return EnergyBreakdown(**{f"{name}_pj": comp.pj(spec, core, counts, attention, system)
                              for name, comp in COMPONENTS.items()})
