"""Area of a core and of a chip from the component sizes of :class:`~chipsim.spec.AreaSpec`.

A core is its crossbar (``rows × cols`` unit cells), one ADC per column and one PWM driver
per row (:mod:`chipsim.cost.adc` gives their laws in bits), a ramp generator for ramp ADCs,
an LDPU and the rest (buffers, link ports, control). Crossbar, ADCs and PWM drivers are the
"MVM area" in which the chip paper states TOPS/mm² ([LG] Tab I footnote). A chip is its cores,
its GDPU slices, its digital attention units (``attention.area_mm2_per_unit`` each; none on the
reference chip), its links (those of the topology; broken links still take area) and its
periphery.

Examples
--------
>>> from chipsim.spec import hermes
>>> a = chip_area(hermes())
>>> round(a.core.mvm_mm2, 4), round(a.core.total_mm2, 4), round(a.total_mm2, 2)
(0.635, 1.392, 144.0)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..spec import ChipSpec, FaultSpec, SystemSpec
from .adc import adc_area_um2, pwm_area_um2, ramp_generator_um2

__all__ = ["CoreArea", "ChipArea", "core_area", "chip_area"]


@dataclass(frozen=True, slots=True)
class CoreArea:
    """Area of one core by component (mm²)."""

    crossbar_mm2: float
    adc_mm2: float
    pwm_mm2: float
    ldpu_mm2: float
    rest_mm2: float

    @property
    def mvm_mm2(self) -> float:
        """Crossbar, ADCs and PWM drivers: the MVM area of [LG]'s TOPS/mm²."""
        return self.crossbar_mm2 + self.adc_mm2 + self.pwm_mm2

    @property
    def total_mm2(self) -> float:
        """The whole core."""
        return self.mvm_mm2 + self.ldpu_mm2 + self.rest_mm2


@dataclass(frozen=True, slots=True)
class ChipArea:
    """Area of a chip (mm²): ``cores`` identical cores, GDPU slices, links, periphery and
    digital attention units."""

    core: CoreArea
    cores: int
    gdpu_mm2: float
    network_mm2: float
    periphery_mm2: float
    attention_mm2: float = 0.0

    @property
    def cores_mm2(self) -> float:
        """All cores."""
        return self.cores * self.core.total_mm2

    @property
    def mvm_mm2(self) -> float:
        """All cores' MVM area (the denominator of [LG]'s TOPS/mm²)."""
        return self.cores * self.core.mvm_mm2

    @property
    def total_mm2(self) -> float:
        """The die."""
        return (self.cores_mm2 + self.gdpu_mm2 + self.network_mm2 + self.periphery_mm2
                + self.attention_mm2)


def core_area(chip: ChipSpec) -> CoreArea:
    """Area of one core of ``chip`` by component."""
    core, a = chip.core, chip.area
    adcs = core.cols * adc_area_um2(core, a) + ramp_generator_um2(core, a)
    return CoreArea(
        crossbar_mm2=core.rows * core.cols * a.cell_um2 * 1e-6,
        adc_mm2=adcs * 1e-6,
        pwm_mm2=core.rows * pwm_area_um2(core, a) * 1e-6,
        ldpu_mm2=a.ldpu_mm2,
        rest_mm2=a.core_rest_mm2,
    )


def chip_area(chip: ChipSpec) -> ChipArea:
    """Area of ``chip``: its cores, GDPU slices, links, periphery and attention units; of a
    system of several chips, the sum over its chips (silicon only: the chip-to-chip links'
    transceivers and the package are not counted, UNCONFIRMED).

    Examples
    --------
    >>> from chipsim.spec import hermes_attn
    >>> chip_area(hermes_attn()).attention_mm2
    4.0
    """
    from ..noc.topology import build_graph  # reads a graph file for topology 'file'

    one = replace(chip, faults=FaultSpec(), system=SystemSpec())
    links = build_graph(one).number_of_edges()
    k = chip.chips
    return ChipArea(
        core=core_area(chip), cores=chip.n_cores,
        gdpu_mm2=k * chip.gdpu_slices * chip.area.gdpu_mm2_per_slice,
        network_mm2=k * links * chip.area.link_mm2,
        periphery_mm2=k * chip.area.periphery_mm2,
        attention_mm2=k * chip.attention.units * chip.attention.area_mm2_per_unit,
    )
