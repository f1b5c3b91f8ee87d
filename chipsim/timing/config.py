"""Options of a timing run: transport mode, off-chip path, buffers, GDC, recording.

Examples
--------
>>> cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=4)
>>> cfg.transport.value, cfg.offchip.bandwidth_gbps
('onchip', 12.8)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import ChipsimError
from ..spec._fields import spec_field, validate

__all__ = ["TimingError", "TransportMode", "OffchipSpec", "TimingConfig", "GRANULARITIES"]


class TimingError(ChipsimError):
    """A timing run that cannot be set up (mapping, buffers or options that do not fit)."""


class TransportMode(enum.Enum):
    """How activations travel between weight layers."""

    OFFCHIP = "offchip"
    """As the chip was built ([LG] §V): each layer's outputs leave the chip; pooling, padding,
    residual sums' inputs and the next layer's input vectors come back from the host (FPGA).
    Layers run one after the other (a barrier per layer) and inferences one after another."""
    ONCHIP = "onchip"
    """Layer-pipelined over the network ([LG] §VI, the authors' next step): outputs go from
    the producing cores to the consuming cores' activation buffers, pooling in the LDPU,
    inferences back to back. The network input and the final outputs still cross the
    off-chip path."""


@dataclass(frozen=True, slots=True)
class OffchipSpec:
    """The path between the chip and the host (an FPGA board on the reference setup).

    No figures for this path are published; the defaults are UNCONFIRMED documented choices.
    """

    bandwidth_gbps: float = spec_field(
        12.8, "bandwidth of each direction of the chip-host path (Gbit/s); UNCONFIRMED "
        "(e.g. a 32-bit bus at 400 MHz)", lo=0.0, lo_open=True)
    latency_ns: float = spec_field(
        200.0, "one-way latency of a transfer between chip and host, host processing "
        "(pooling, padding, im2col) included (ns); UNCONFIRMED", lo=0.0)

    def __post_init__(self) -> None:
        validate(self)


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
    offchip: OffchipSpec = spec_field(default_factory=OffchipSpec,
                                      doc="the chip-host path")
    input_buffer_vectors: int = spec_field(
        2, "input vectors a core buffers from the host (back-pressure when full)", lo=1,
        hi=1_000_000)
    activation_buffer_vectors: int | None = spec_field(
        None, "on-chip activation buffer of a core per input edge, in delivered vectors; None = "
        "the receptive window of a consumer vector (the least that cannot deadlock) + 1, plus "
        "room for the consumer's replicas at work at once and the producer's replicas' spread",
        lo=1, hi=1_000_000)
    psum_buffer_vectors: int = spec_field(
        2, "partial-sum / GDPU input FIFO depth, in whole vectors", lo=1, hi=1_000_000)
    residual_buffer_vectors: int | None = spec_field(
        None, "residual-input buffer of an adding core, in vectors; None = unbounded (the "
        "peak is reported)", lo=1, hi=1_000_000)
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
