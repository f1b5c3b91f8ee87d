"""Cost-model calibration of a chip: per-action energies, static powers, digital pipeline depths.

The energy of a run is computed after the run from its action counts (``chipsim.cost``):
``sum(count × energy per action) + sum(static power × time)``. No per-component breakdown of
the reference chip is published, so the defaults below are ONE parameter set fitted by
``python -m chipsim.calibration.fit`` to the chip paper's Table I ([LG] Tab I; ``shared/hermes.md``
§2); the fit, its priors, sources and residuals are in ``chipsim/calibration/hermes_fit.yaml``. Each
value is a physical quantity of one action or unit, not a use-case total; values named
UNCONFIRMED in their description are not constrained by Table I.

The two pipeline depths are timing, not energy: they are fitted with the energies (Table I
fixes them) and live here so that a chip file carries its whole calibration.

Examples
--------
>>> from chipsim.spec import EnergySpec
>>> EnergySpec().ldpu_pipeline_cycles >= 0
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ._fields import spec_field, validate

__all__ = ["EnergySpec"]

_FIT = "fitted to [LG] Tab I (chipsim/calibration/hermes_fit.yaml)"


@dataclass(frozen=True, slots=True)
class EnergySpec:
    """Per-action energies, static powers and digital pipeline depths of a chip."""

    pwm_fj_per_row_ns: float = spec_field(
        175.6, "PWM driver energy per active crossbar row per ns of applied pulse window "
        f"(fJ; chipsim.cost.adc.integration_ns); {_FIT}", lo=0.0)
    array_fj_per_cell_ns: float = spec_field(
        0.59898, "crossbar read energy per active unit cell (4 PCM devices) per ns of applied "
        f"pulse window, at the mean duty of Table I's inputs (fJ); {_FIT}", lo=0.0)
    adc_cco_fj_per_step: float = spec_field(
        29.996, "CCO ADC energy per count step: a conversion of b bits costs this × 2^b "
        f"(Walden scaling, chipsim.cost.adc) (fJ); {_FIT}", lo=0.0)
    adc_ramp_fj_per_step: float = spec_field(
        29.996, "ramp ADC energy per counter step: a conversion of b bits costs this × 2^b "
        "(fJ); UNCONFIRMED: the reference chip's fitted CCO step (same 14-nm counting logic)",
        lo=0.0)
    adc_sar_scale: float = spec_field(
        1.0, "SAR ADC energy relative to the survey law of chipsim.cost.adc (Accelergy's fit "
        "of Murmann's ADC survey); UNCONFIRMED: 1, the survey law as is", lo=0.0)
    mvm_static_mw_per_core: float = spec_field(
        4.1223, "static power of one core's MVM periphery (bias, references, PWM/ADC clock "
        f"tree), drawn by every core while any core computes an MVM (mW); {_FIT}", lo=0.0)
    ldpu_pj_per_value: float = spec_field(
        231.71, "energy of one value through an LDPU (ADC count conversion, affine, add, "
        f"re-quantization) (pJ); {_FIT}", lo=0.0)
    buffer_pj_per_value: float = spec_field(
        5.3717, "energy of one INT8 value written to and read from a core buffer (input, "
        f"activation, partial-sum FIFO) (pJ); {_FIT}", lo=0.0)
    link_pj_per_bit_hop: float = spec_field(
        0.4965, f"energy of one bit over one core-to-core link (pJ); {_FIT}", lo=0.0)
    gdpu_pj_per_input: float = spec_field(
        15.761, "energy of one input value through a GDPU slice (activation lookup, "
        f"interpolation, cell-state update) (pJ); {_FIT}", lo=0.0)
    core_static_mw: float = spec_field(
        33.217, "static power of a core's digital domain (LDPU, buffers, link ports) while "
        f"the core is busy (clock-gated when idle), for cores with digital work (mW); {_FIT}",
        lo=0.0)
    gdpu_static_mw_per_slice: float = spec_field(
        1.8121, f"static power of a GDPU slice while it is busy (mW); {_FIT}", lo=0.0)
    chip_static_mw: float = spec_field(
        141.67, "chip-level static power of the digital domain (clock generation, global "
        f"control) from the first to the last action of a run with digital work (mW); {_FIT}",
        lo=0.0)
    offchip_pj_per_bit: float = spec_field(
        10.0, "energy of one bit between the chip and the off-chip host (pads, board, FPGA "
        "port) (pJ); UNCONFIRMED (typical chip-to-FPGA I/O), not constrained by Tab I",
        lo=0.0)
    ldpu_pipeline_cycles: int = spec_field(
        19, "digital cycles from a value entering an LDPU to its result leaving it "
        f"(pipeline depth); {_FIT}", lo=0, hi=100000)
    gdpu_pipeline_cycles: int = spec_field(
        46, "digital cycles from a GDPU slice's last gate input of a hidden unit to that "
        f"unit's output (pipeline depth); {_FIT}", lo=0, hi=100000)

    def __post_init__(self) -> None:
        validate(self)
