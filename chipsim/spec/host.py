"""The path between the chip and its host, and the cores' buffers, as spec fields.

Examples
--------
>>> from chipsim.spec import hermes, override
>>> chip = override(hermes(), "host.bandwidth_gbps", 25.6)
>>> chip.host.bandwidth_gbps, chip.buffers.psum_vectors
(25.6, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

from ._fields import spec_field, validate

__all__ = ["HostLinkSpec", "BufferSpec"]


@dataclass(frozen=True, slots=True)
class HostLinkSpec:
    """The path between the chip and the host (an FPGA board on the reference setup); its
    energy per bit is ``energy.offchip_pj_per_bit``.

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


@dataclass(frozen=True, slots=True)
class BufferSpec:
    """The depths of a core's buffers, in vectors (the timing engine applies back-pressure
    when one is full).

    The paper gives no buffer sizes; the defaults are UNCONFIRMED choices: the least that
    keeps the pipeline of the shipped networks from stalling on its own buffers.
    """

    input_vectors: int = spec_field(
        2, "input vectors a core buffers from the host (back-pressure when full)", lo=1,
        hi=1_000_000)
    activation_vectors: int | None = spec_field(
        None, "on-chip activation buffer of a core per input edge, in delivered vectors; None = "
        "the receptive window of a consumer vector (the least that cannot deadlock) + 1, plus "
        "room for the consumer's replicas at work at once and the producer's replicas' spread",
        lo=1, hi=1_000_000)
    psum_vectors: int = spec_field(
        2, "partial-sum / GDPU input FIFO depth, in whole vectors", lo=1, hi=1_000_000)
    residual_vectors: int | None = spec_field(
        None, "residual-input buffer of an adding core, in vectors; None = unbounded (the "
        "peak is reported)", lo=1, hi=1_000_000)

    def __post_init__(self) -> None:
        validate(self)
