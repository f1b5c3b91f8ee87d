"""Options of one simulated design point (everything that is not hardware, network or mapping)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .spec._fields import spec_field, validate

__all__ = ["RunConfig", "TransportMode"]


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
class RunConfig:
    """How :func:`chipsim.simulate` runs a mapped network.

    ``ci_width`` (None by default: every one of ``samples`` on every one of ``instances``)
    makes the accuracy measurement sequential. It programmes the first ``min(3, instances)``
    chip instances and scores them on the first ``samples`` test samples in stages of
    :data:`~chipsim.functional.accuracy.CI_STAGE` (100) samples, in the test split's fixed
    order, checking the 95 % interval of the instances' mean score (Student t over the
    instances, clipped to the metric's range, as ``chip_ci95``) after every stage; with all
    ``samples`` used, it programmes one more instance at a time, scores it on all of them and
    checks again, up to ``instances``. It stops at the first check whose interval is at most
    ``ci_width`` wide (the report's ``accuracy.ci_reached``; ``samples`` and ``instances``
    there are those used). A sample's read noise depends only on the instance and the
    sample's index, and BLAS runs on one thread, so the result depends only on the seed and
    ``ci_width`` (and the maxima), never on ``batch``, threads, workers or timing. The
    interval covers the chip-to-chip spread on the samples used, not the test set's own
    sampling error: instances that agree on every sample of a stage give a width of 0.

    Examples
    --------
    >>> RunConfig(t_seconds=86400, gdc=False).instances
    3
    >>> RunConfig(ci_width=2.0, instances=10).ci_width
    2.0

    ``max_vectors`` bounds the size of the workload (:func:`chipsim.api.check_workload_size`):
    a network of more input vectors per inference is refused at once (raise it with ``--set
    run.max_vectors=N``). Its layers and weights are bounded by the chip: every weight layer
    needs a core of its own, and the mapping refuses a network that needs more cores than the
    chip has (at most :data:`~chipsim.spec.chip.MAX_CORES`).
    """

    seed: int = spec_field(0, "seed of everything random: placement search, chip instances, "
                           "read noise", lo=0)
    t_seconds: float = spec_field(3600.0, "time since programming (s)", lo=0.0)
    gdc: bool = spec_field(True, "global drift compensation per core")
    transport: TransportMode = spec_field(
        TransportMode.ONCHIP, "activations between layers: 'onchip' (layer-pipelined) or "
        "'offchip' (through the host, as built); the name is taken too",
        choices=tuple(TransportMode))
    replicate: bool | None = spec_field(
        None, "copy bottleneck layers onto spare cores; None = with onchip transport")
    accuracy: bool = spec_field(True, "measure accuracy (needs the model's task data)")
    samples: int = spec_field(300, "test samples for accuracy (images, text chunks)", lo=1)
    instances: int = spec_field(3, "independently programmed chip instances", lo=1, hi=1000)
    ci_width: float | None = spec_field(
        None, "target width of the chip score's 95 % interval (top-1 points or bits per "
        "character): stop sampling once it is reached, samples and instances being maxima; "
        "None = all samples on all instances", lo=0.0, lo_open=True)
    batch: int = spec_field(100, "samples per batch of the functional executor (rounded up "
                            "to whole units of 50; the results do not depend on it)", lo=1)
    quantize: bool = spec_field(True, "emulate PWM/ADC/FP16/INT8 quantization")
    timing: bool = spec_field(True, "run the cycle-level timing and energy simulation")
    inferences: int = spec_field(4, "inferences simulated by the timing engine", lo=1,
                                 hi=100000)
    gdc_interval_us: float | None = spec_field(
        None, "drift-compensation recalibration interval during the timing run (µs)",
        lo=0.0, lo_open=True)
    granularity: str = spec_field(
        "row", "what a convolution's output pixel waits for in the on-chip timing run: 'row' "
        "(its share of the input pixels and a halo) or 'window' (its receptive window; "
        "TimingConfig.granularity)", choices=("row", "window"))
    max_vectors: int = spec_field(
        1_000_000, "the most input vectors per inference (summed over the weight layers) of a "
        "workload to run; a larger one is refused before mapping, as the timing run's time and "
        "memory grow with them (a million take 30 to 60 s and 2 GB over 4 inferences)", lo=1)

    def __post_init__(self) -> None:
        if isinstance(self.transport, str) and self.transport in {m.value for m in
                                                                   TransportMode}:
            object.__setattr__(self, "transport", TransportMode(self.transport))
        validate(self)

    @property
    def replicated(self) -> bool:
        """Whether the mapping replicates layers."""
        return (self.transport is TransportMode.ONCHIP if self.replicate is None
                else self.replicate)
