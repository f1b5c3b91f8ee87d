"""Layer replication for the on-chip, layer-pipelined execution mode.

In the pipelined mode every weight layer is a pipeline stage. A layer needs ``vectors`` MVMs
per inference; with ``r`` whole copies (replicas: all blocks of the layer each) on spare cores
the copies share the vectors, so its stage time is ``vectors / r`` MVM times and the
pipeline's steady-state throughput is ``1 / max(stage time)`` inferences per MVM time.
(Stage time counts MVMs only; link and digital time come from the timing model.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .partition import partition

if TYPE_CHECKING:  # the workload package is only needed for type hints
    from ..workload.lowered import LoweredLayer

__all__ = ["ReplicationPlan", "choose_replicas", "plan_replication"]


@dataclass(frozen=True, slots=True)
class ReplicationPlan:
    """Replicas per layer and the pipeline throughput they give.

    Attributes
    ----------
    layers
        Layer names, in execution order.
    vectors
        MVMs per inference of each layer (input vectors).
    blocks
        Cores one copy of each layer takes.
    replicas
        Copies of each layer (1 = not replicated).
    spare_cores
        Cores available beyond one copy of every layer.
    """

    layers: tuple[str, ...]
    vectors: tuple[int, ...]
    blocks: tuple[int, ...]
    replicas: tuple[int, ...]
    spare_cores: int

    @property
    def extra_cores(self) -> int:
        """Cores the extra replicas take."""
        return sum((r - 1) * b for r, b in zip(self.replicas, self.blocks, strict=True))

    @property
    def idle_cores(self) -> int:
        """Spare cores left without a replica (too few for any layer's copy)."""
        return self.spare_cores - self.extra_cores

    @property
    def replicated_layers(self) -> tuple[str, ...]:
        """Names of the layers with more than one copy."""
        return tuple(n for n, r in zip(self.layers, self.replicas, strict=True) if r > 1)

    @property
    def stage_mvms(self) -> tuple[float, ...]:
        """Stage time of each layer in MVM times: ``vectors / replicas``."""
        return tuple(v / r for v, r in zip(self.vectors, self.replicas, strict=True))

    @property
    def throughput_before(self) -> float:
        """Inferences per MVM time with one copy of every layer: ``1 / max(vectors)``."""
        return 1.0 / max(self.vectors) if self.vectors else 0.0

    @property
    def throughput_after(self) -> float:
        """Inferences per MVM time with the replicas: ``1 / max(stage_mvms)``."""
        return 1.0 / max(self.stage_mvms) if self.vectors else 0.0

    def inferences_per_s(self, mvm_ns: float) -> tuple[float, float]:
        """``(before, after)`` throughput in inferences/s for an MVM time of ``mvm_ns`` ns.

        Examples
        --------
        >>> from chipsim.workload.lowered import LoweredLayer
        >>> plan = plan_replication(
        ...     [LoweredLayer("a", "linear", 8, 8, 4)], (8, 8), spare_cores=3)
        >>> plan.inferences_per_s(500.0)
        (500000.0, 2000000.0)
        """
        if mvm_ns <= 0:
            raise ValueError(f"mvm_ns must be > 0, got {mvm_ns}")
        return self.throughput_before * 1e9 / mvm_ns, self.throughput_after * 1e9 / mvm_ns


def choose_replicas(vectors: Sequence[int], blocks: Sequence[int],
                    spare_cores: int) -> tuple[int, ...]:
    """Replicas per layer that maximise the pipeline throughput within ``spare_cores``.

    Greedy: repeatedly add one copy of the slowest layer (largest ``vectors / replicas``)
    whose copy still fits in the cores left; ties go to the layer with fewer blocks, then to
    the earlier layer. While the bottleneck fits this is plain greedy on the bottleneck; once
    it does not, the remaining cores go to the next-slowest layers that fit (they gain slack
    and latency), so no spare core that could hold a copy stays idle. A greedy heuristic:
    not guaranteed optimal when copies of different sizes compete for few cores.

    Examples
    --------
    >>> choose_replicas([1024, 256, 16], [1, 4, 8], spare_cores=6)
    (7, 1, 1)
    >>> choose_replicas([1024, 256, 16], [1, 4, 8], spare_cores=8)  # stage times 204.8, 128, 16
    (5, 2, 1)
    """
    if len(vectors) != len(blocks):
        raise ValueError("vectors and blocks must have one entry per layer")
    if spare_cores < 0:
        raise ValueError(f"spare_cores must be >= 0, got {spare_cores}")
    reps = [1] * len(vectors)
    left = spare_cores
    while True:
        best = None
        for i, (v, b) in enumerate(zip(vectors, blocks, strict=True)):
            if b > left:
                continue
            key = (-v / reps[i], b, i)
            if best is None or key < best[0]:
                best = (key, i)
        if best is None:
            return tuple(reps)
        i = best[1]
        reps[i] += 1
        left -= blocks[i]


def plan_replication(layers: Sequence[LoweredLayer], core: tuple[int, int], *,
                     spare_cores: int) -> ReplicationPlan:
    """Plan replicas of ``layers`` on ``spare_cores`` spare cores of size ``core = (rows, cols)``.

    Parameters
    ----------
    layers
        The workload's weight layers, in execution order.
    core
        Core (crossbar) rows and columns; a layer's copy takes ``partition(...).n_blocks``
        cores.
    spare_cores
        Cores left after one copy of every layer.

    Examples
    --------
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> layers = [LoweredLayer("conv0", "conv", 27, 56, 1024),
    ...           LoweredLayer("fc", "linear", 224, 10, 1, ("conv0",))]
    >>> plan = plan_replication(layers, (256, 256), spare_cores=3)
    >>> plan.replicas, plan.replicated_layers, plan.throughput_after / plan.throughput_before
    ((4, 1), ('conv0',), 4.0)
    """
    blocks = tuple(partition(ly.rows, ly.cols, core[0], core[1]).n_blocks for ly in layers)
    vectors = tuple(ly.vectors for ly in layers)
    reps = choose_replicas(vectors, blocks, spare_cores)
    return ReplicationPlan(tuple(ly.name for ly in layers), vectors, blocks, reps, spare_cores)
