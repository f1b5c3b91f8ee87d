"""Options of a timing run: transport mode, inferences, GDC, granularity, recording (the
hardware, the host link and the buffers included, is the chip spec's).

Examples
--------
>>> cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=4)
>>> cfg.transport.value, cfg.inferences
('onchip', 4)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import TransportMode
from ..errors import ChipsimError
from ..spec._fields import spec_field, validate

__all__ = ["TimingError", "TransportMode", "TimingConfig", "GRANULARITIES"]


class TimingError(ChipsimError):
    """A timing run that cannot be set up (mapping, buffers or options that do not fit)."""


#: what a convolution's output pixel waits for in on-chip mode
#: (:attr:`TimingConfig.granularity`)
GRANULARITIES = ("row", "window")


@dataclass(frozen=True, slots=True)
class TimingConfig:
    """Options of :func:`chipsim.timing.simulate_timing`."""

    transport: TransportMode = spec_field(
        TransportMode.OFFCHIP, "activation transport between layers", choices=tuple(
            TransportMode))
    inferences: int = spec_field(
        4, "inferences simulated (images; time steps of a sequence model); throughput is "
        "measured between the first and the last completion", lo=1, hi=1_000_000)
    gdc_interval_us: float | None = spec_field(
        None, "recalibration interval of global drift compensation (µs): every interval each "
        "used core runs core.gdc_calibration_mvms calibration MVMs; None = none in the run",
        lo=0.0, lo_open=True)
    granularity: str = spec_field(
        "row", "what a convolution's output pixel waits for on chip: 'row', its share of the "
        "input pixels plus a halo of kernel//2 rows and pixels (exact for stride 1 but at the "
        "row edges; up to about a row late for strided convolutions); 'window', the pixels of "
        "its receptive window", choices=GRANULARITIES)
    timeline: bool = spec_field(True, "record the per-core timeline")

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def of(cls, run=None, *, timeline: bool = True) -> TimingConfig:
        """The timing options of a :class:`~chipsim.RunConfig` (default ``RunConfig()``):
        what :func:`chipsim.simulate` times, and :func:`~chipsim.timing.simulate_timing` by
        default (the hardware, host link and buffers included, comes from the chip spec).

        Examples
        --------
        >>> TimingConfig.of().transport.value, TimingConfig.of().inferences
        ('onchip', 4)
        """
        from ..config import RunConfig

        run = RunConfig() if run is None else run
        return cls(transport=TransportMode(run.transport), inferences=run.inferences,
                   gdc_interval_us=run.gdc_interval_us, granularity=run.granularity,
                   timeline=timeline)
