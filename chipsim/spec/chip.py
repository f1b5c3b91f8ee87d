"""Specification of a whole chip: grid of cores, devices, network and global units."""

from __future__ import annotations

from dataclasses import dataclass

from ._fields import SpecError, spec_field, validate
from .area import AreaSpec
from .attention import AttentionSpec
from .core import CoreSpec
from .device import DeviceSpec
from .energy import EnergySpec
from .faults import FaultSpec
from .host import BufferSpec, HostLinkSpec
from .network import NetworkSpec
from .system import SystemSpec

__all__ = ["ChipSpec", "MAX_CORES"]

#: The most cores a chip may have (a 64 × 64 grid). Mapping places blocks with the hop
#: distances of every pair of cores, so its time and memory grow with the square of the cores:
#: ResNet-9 maps onto 1,024 cores in 15 s and onto 4,096 in about 4 minutes; 65,536 (a
#: 256 × 256 grid) would need a 34 GB table. A constant, not a setting.
MAX_CORES = 4096


@dataclass(frozen=True, slots=True)
class ChipSpec:
    """A multi-core AIMC chip. Variants are made with :func:`dataclasses.replace`."""

    name: str = spec_field("custom", "a label for reports")
    grid: tuple[int, int] = spec_field(
        (8, 8), f"core grid, rows × columns [LG]; at most {MAX_CORES} cores in all "
        "(chipsim.spec.MAX_CORES)", lo=1, hi=256)
    core: CoreSpec = spec_field(default_factory=CoreSpec, doc="every core's specification")
    device: DeviceSpec = spec_field(default_factory=DeviceSpec,
                                    doc="the PCM devices of every core")
    network: NetworkSpec = spec_field(default_factory=NetworkSpec,
                                      doc="the on-chip network")
    energy: EnergySpec = spec_field(
        default_factory=EnergySpec,
        doc="per-action energies, static powers and digital pipeline depths (chipsim.cost)")
    area: AreaSpec = spec_field(
        default_factory=AreaSpec,
        doc="component sizes from which core and chip areas follow (chipsim.cost.area)")
    faults: FaultSpec = spec_field(
        default_factory=FaultSpec,
        doc="stuck devices, dead cores, dead ADC columns, broken links (none by default)")
    host: HostLinkSpec = spec_field(default_factory=HostLinkSpec,
                                    doc="the chip-host path (off-chip transport, inputs, outputs)")
    buffers: BufferSpec = spec_field(default_factory=BufferSpec,
                                     doc="the depths of every core's buffers (vectors)")
    attention: AttentionSpec = spec_field(
        default_factory=AttentionSpec,
        doc="digital attention units for a Transformer's digital operators (none by default)")
    system: SystemSpec = spec_field(
        default_factory=SystemSpec,
        doc="the system: how many copies of this chip, joined by which chip-to-chip links "
        "(one chip by default)")
    gdpu_slices: int = spec_field(8, "global digital processing unit slices [LG §III]", lo=0,
                                  hi=4096)
    gdpu_after_row: int = spec_field(
        4, "the GDPU slices sit between core row gdpu_after_row and the next [LG §III]", lo=0)
    gdpu_cell_registers: int = spec_field(64, "LSTM cell-state registers per slice [LG §III]",
                                          lo=0)
    gdpu_inputs_per_cycle: int = spec_field(1, "GDPU serial inputs per digital cycle [LG]",
                                            lo=1)
    gdpu_cycles_per_output: int = spec_field(4, "digital cycles per GDPU output [LG §III]",
                                             lo=1)

    def __post_init__(self) -> None:
        validate(self)
        if self.cores_per_chip > MAX_CORES:
            raise SpecError("grid", f"{self.grid[0]}x{self.grid[1]} is {self.cores_per_chip} "
                            f"cores; a chip has at most {MAX_CORES} (chipsim.spec.MAX_CORES: "
                            "mapping time and memory grow with the square of the cores)")
        if self.n_cores > MAX_CORES:
            raise SpecError("system.chips", f"{self.system.chips} chips of {self.cores_per_chip} "
                            f"cores are {self.n_cores} cores; a system has at most {MAX_CORES} "
                            "(chipsim.spec.MAX_CORES: timing tables grow with the cores)")
        if self.gdpu_after_row > self.grid[0]:
            raise SpecError("gdpu_after_row", f"must be <= grid rows ({self.grid[0]}), got "
                            f"{self.gdpu_after_row}")
        if self.attention.units and self.attention.after_row > self.grid[0]:
            raise SpecError("attention.after_row", f"must be <= grid rows ({self.grid[0]}), "
                            f"got {self.attention.after_row}")
        try:
            self.faults.check_grid(self.grid, self.core.cols, self.system.chips)
        except SpecError as exc:
            raise exc.under("faults") from None

    @property
    def n_cores(self) -> int:
        """Cores of the whole system: ``system.chips × grid[0] × grid[1]`` (the chip's cores
        when the system is one chip)."""
        return self.system.chips * self.cores_per_chip

    @property
    def cores_per_chip(self) -> int:
        """Cores of one chip, ``grid[0] * grid[1]``."""
        return self.grid[0] * self.grid[1]

    @property
    def chips(self) -> int:
        """Chips in the system (``system.chips``)."""
        return self.system.chips

    def chip_of(self, core: int) -> int:
        """The chip that holds core ``core`` (cores are numbered chip by chip)."""
        return core // self.cores_per_chip

    @property
    def weights_capacity(self) -> int:
        """Weights the system holds: cores × rows × cols (4,194,304 on the reference chip)."""
        return self.n_cores * self.core.rows * self.core.cols
