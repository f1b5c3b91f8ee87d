"""Options of one simulated design point (everything that is not hardware, network or mapping)."""

from __future__ import annotations

from dataclasses import dataclass

from .spec._fields import spec_field, validate

__all__ = ["RunConfig"]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """How :func:`chipsim.simulate` runs a mapped network.

    Examples
    --------
    >>> RunConfig(t_seconds=86400, gdc=False).instances
    3
    """

    seed: int = spec_field(0, "seed of everything random: placement search, chip instances, "
                           "read noise", lo=0)
    t_seconds: float = spec_field(3600.0, "time since programming (s)", lo=0.0)
    gdc: bool = spec_field(True, "global drift compensation per core")
    transport: str = spec_field("onchip", "activations between layers: 'onchip' "
                                "(layer-pipelined) or 'offchip' (through the host, as built)",
                                choices=("onchip", "offchip"))
    replicate: bool | None = spec_field(
        None, "copy bottleneck layers onto spare cores; None = with onchip transport")
    accuracy: bool = spec_field(True, "measure accuracy (needs the model's task data)")
    samples: int = spec_field(300, "test samples for accuracy (images, text chunks)", lo=1)
    instances: int = spec_field(3, "independently programmed chip instances", lo=1, hi=1000)
    batch: int = spec_field(100, "samples per batch of the functional executor", lo=1)
    quantize: bool = spec_field(True, "emulate PWM/ADC/FP16/INT8 quantization")
    timing: bool = spec_field(True, "run the cycle-level timing and energy simulation")
    inferences: int = spec_field(4, "inferences simulated by the timing engine", lo=1,
                                 hi=100000)
    gdc_interval_us: float | None = spec_field(
        None, "drift-compensation recalibration interval during the timing run (µs)",
        lo=0.0, lo_open=True)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def replicated(self) -> bool:
        """Whether the mapping replicates layers."""
        return self.transport == "onchip" if self.replicate is None else self.replicate
