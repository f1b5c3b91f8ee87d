"""Layer replication for the on-chip, layer-pipelined execution mode.

In the pipelined mode every weight layer is a pipeline stage, and the pipeline's steady-state
throughput is one inference per *stage time* of its slowest stage. A layer needs ``vectors``
MVMs per inference; with ``r`` whole copies (replicas: all blocks of the layer each) on spare
cores each copy computes one band of ``1/r`` of the vectors
(:func:`~chipsim.mapping.dataflow.replica_bands`), and its stage time is the time its
slowest copy needs for its band. Per vector a copy's cores are bound by

- the MVM (``Latencies.of(chip).mvm_ps``: PWM window and ADC conversion, chipsim.cost.adc),
- the LDPU, which streams the block's columns at its rate, and the links that carry them on
  (partial sums, outputs, residuals: one value per link period),
- the link into a core of a chain, which carries the partial sums of the core before it
  (the block's columns per vector) *and* the activations the core receives: its band's
  *span* of the source's delivered vectors (its share plus a convolution's halo) times the
  values each carries (the source's features, or the block's row slice). The placement
  lays a chain along neighbouring cores, and the multicast tree that brings the activations
  to its cores mostly follows it (in the timing engine ResNet-9's conv4 holds its chain
  links 840 ns a vector, 560 of them partial sums). The
  halo does not shrink with the band, so beyond some number of copies the links, not the
  MVMs, bound the stage.

A layer whose vectors feed its own next vector (an LSTM's hidden layer) waits for each
vector's MVM, LDPU and input in turn: copies cannot overlap them, so they never shorten its
stage. The network input comes from the host over the off-chip path, which the mapping does
not know; the model leaves it out. Contention between streams of different layers whose
routes cross depends on the placement and is left to the timing engine.

Copies of consecutive layers are *tied*: a copy computes its band in order, and the line
buffer between a producer and a banded consumer holds about one window (what a consumer that
keeps up needs, :meth:`chipsim.timing.plan.Plan.line_capacity`). A consumer slower than its
producer therefore holds the producer back to its own pace, and a producer copy whose band
feeds several consumer copies feeds them one after the other: they cannot work at once. So
a layer with ``r`` copies takes at least the time each banded layer downstream of it (over
its sources, not its residual inputs, whose buffers are not bounded) needs for a band of
``1/r`` of the image: its stage time is the slowest of its own and theirs with ``r`` copies.
More copies of a consumer than of its producer cannot shorten the pipeline; copies of
several consecutive layers whose per-vector times differ (the LDPU or the links, not the
MVM, bound some of them) must come together.

:func:`choose_replicas` then finds the shortest bottleneck stage that the spare cores allow
and the fewest copies that reach it; spare cores that could not shorten it stay idle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from .dataflow import (
    features,
    input_halo,
    is_direct,
    pooling,
    replica_bands,
    span,
    stepped_layers,
)
from .partition import partition

if TYPE_CHECKING:  # only needed for type hints
    from ..spec import ChipSpec
    from ..workload.lowered import LoweredLayer

__all__ = ["StageCosts", "ReplicationPlan", "choose_replicas", "plan_replication",
           "replication_plan", "stage_model"]


@dataclass(frozen=True, slots=True)
class StageCosts:
    """Times (ps) that bound a pipeline stage, per MVM and per value.

    The defaults count MVMs only (stage times in MVM times), as the paper's per-layer vector
    counts do; :meth:`of` gives a chip's.

    Attributes
    ----------
    mvm_ps
        One MVM.
    ldpu_value_ps
        One value through an LDPU.
    link_value_ps
        One value over a core-network link.
    """

    mvm_ps: int = 1
    ldpu_value_ps: int = 0
    link_value_ps: int = 0

    @classmethod
    def of(cls, chip: ChipSpec) -> StageCosts:
        """The costs of ``chip`` (:class:`~chipsim.cost.latency.Latencies`).

        Examples
        --------
        >>> from chipsim.spec import hermes
        >>> StageCosts.of(hermes())
        StageCosts(mvm_ps=520000, ldpu_value_ps=2500, link_value_ps=2500)
        """
        from ..cost.latency import Latencies

        lat = Latencies.of(chip)
        return cls(lat.mvm_ps, lat.ldpu_value_ps(), lat.value_ps(chip.network.link_gbps))


@dataclass(frozen=True, slots=True)
class _Stage:
    """What bounds one layer's stage (see the module docstring); times in ps."""

    vectors: int
    mvm_ps: int
    out_ps: int  # the block's columns through the LDPU and over a link
    psum_ps: int  # the partial sums a chain core receives, over the link its inputs share
    inputs: tuple[tuple[int, int, int], ...]  # per on-chip input: delivered, halo, ps each
    recurrent: bool
    stepped: bool

    def time_ps(self, replicas: int) -> int:
        """Stage time per inference with ``replicas`` copies: that of the slowest copy."""
        v = self.vectors
        if self.recurrent:  # input, MVM and LDPU one after the other, vector after vector
            return self._input_ps(0, v) + v * (self.mvm_ps + self.out_ps)
        per_vector = max(self.mvm_ps, self.out_ps)
        if self.stepped:  # the copies take turns by time step
            return -(-max(v * per_vector, self._link_ps(0, v)) // replicas)
        bounds = replica_bands(v, replicas)
        return max(max((k1 - k0) * per_vector, self._link_ps(k0, k1))
                   for k0, k1 in zip(bounds, bounds[1:], strict=False))

    def _link_ps(self, k0: int, k1: int) -> int:
        """Time the link into a chain core is busy for the vectors ``[k0, k1)``: their
        partial sums and the activations they need."""
        return (k1 - k0) * self.psum_ps + self._input_ps(k0, k1)

    def _input_ps(self, k0: int, k1: int) -> int:
        """Link time of the activations the vectors ``[k0, k1)`` need."""
        total = 0
        for delivered, halo, ps in self.inputs:
            lo, hi = span(k0, k1, delivered, self.vectors, halo)
            total += (hi - lo) * ps
        return total


def stage_model(layers: Sequence[LoweredLayer], core: tuple[int, int],
                costs: StageCosts | None = None) -> Callable[[int, int], int]:
    """``stage(i, r)``: the stage time of ``layers[i]`` with ``r`` copies (ps; in MVM times
    with the default costs), as the module docstring describes.

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> layers = [LoweredLayer("conv0", "conv", 27, 56, 1024),
    ...           LoweredLayer("conv1", "conv", 504, 56, 1024, ("conv0",))]
    >>> stage = stage_model(layers, (256, 256), StageCosts.of(hermes()))
    >>> stage(1, 1), stage(1, 16), stage(1, 32)  # 32 copies: the links' time binds
    (532480000, 33280000, 18200000)
    >>> stage(0, 32)  # conv0's 32 copies wait for conv1's (32 MVMs would take 16640000)
    18200000

    With 32 copies a copy of ``conv1`` (two cores in a chain) computes 32 vectors; its second
    core takes 56 partial sums per vector and the 56 values of each of the 32 + 2 × 33
    ``conv0`` vectors its band and halo need over one link: (32 + 98) × 56 × 2.5 ns.
    """
    costs = costs or StageCosts()
    by_name = {ly.name: ly for ly in layers}
    stepped = stepped_layers(layers)
    stages = []
    for ly in layers:
        part = partition(ly.rows, ly.cols, *core)
        block = part.blocks[0]
        cols = block.cols[1] - block.cols[0]
        inputs = []
        for s in ly.sources:
            src = by_name.get(s)
            if src is None:
                continue
            delivered = src.vectors // pooling(src.vectors, ly.vectors)
            values = block.rows[1] - block.rows[0] if is_direct(src, ly) else features(src)
            inputs.append((delivered, input_halo(ly, by_name, delivered),
                           values * costs.link_value_ps))
        out = cols * max(costs.ldpu_value_ps, costs.link_value_ps)
        psum = cols * costs.link_value_ps if part.n_block_rows > 1 else 0
        stages.append(_Stage(ly.vectors, costs.mvm_ps, out, psum, tuple(inputs),
                             ly.name in ly.sources, ly.name in stepped))
    tied = _tied_layers(layers, stepped)
    own_ps = functools.cache(lambda d, r: stages[d].time_ps(r))
    return lambda i, r: max(own_ps(d, r) for d in tied[i])


def _tied_layers(layers: Sequence[LoweredLayer],
                 stepped: frozenset[str]) -> tuple[tuple[int, ...], ...]:
    """Per layer, itself and the banded layers downstream of it over source edges (the
    module docstring): the layers whose band times bound its copies."""
    index = {ly.name: i for i, ly in enumerate(layers)}
    feeds = nx.DiGraph()
    feeds.add_nodes_from(range(len(layers)))
    feeds.add_edges_from((index[s], j) for j, ly in enumerate(layers)
                         if ly.name not in stepped  # its copies take turns, not bands
                         for s in ly.sources if s in index and index[s] != j)
    return tuple(tuple(sorted(nx.descendants(feeds, i) | {i})) for i in range(len(layers)))


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
    stage_ps, single_stage_ps
        Predicted stage time of each layer (ps per inference, :func:`stage_model`) with its
        replicas and with one copy (empty when not predicted).
    """

    layers: tuple[str, ...]
    vectors: tuple[int, ...]
    blocks: tuple[int, ...]
    replicas: tuple[int, ...]
    spare_cores: int
    stage_ps: tuple[int, ...] = ()
    single_stage_ps: tuple[int, ...] = ()

    @property
    def extra_cores(self) -> int:
        """Cores the extra replicas take."""
        return sum((r - 1) * b for r, b in zip(self.replicas, self.blocks, strict=True))

    @property
    def idle_cores(self) -> int:
        """Spare cores left without a replica."""
        return self.spare_cores - self.extra_cores

    @property
    def replicated_layers(self) -> tuple[str, ...]:
        """Names of the layers with more than one copy."""
        return tuple(n for n, r in zip(self.layers, self.replicas, strict=True) if r > 1)

    @property
    def stage_mvms(self) -> tuple[float, ...]:
        """MVM-limited stage time of each layer in MVM times: ``vectors / replicas``."""
        return tuple(v / r for v, r in zip(self.vectors, self.replicas, strict=True))

    @property
    def throughput_before(self) -> float:
        """MVM-limited inferences per MVM time with one copy of every layer:
        ``1 / max(vectors)``."""
        return 1.0 / max(self.vectors) if self.vectors else 0.0

    @property
    def throughput_after(self) -> float:
        """MVM-limited inferences per MVM time with the replicas: ``1 / max(stage_mvms)``."""
        return 1.0 / max(self.stage_mvms) if self.vectors else 0.0

    def inferences_per_s(self, mvm_ns: float) -> tuple[float, float]:
        """MVM-limited ``(before, after)`` throughput in inferences/s for an MVM time of
        ``mvm_ns`` ns.

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

    @property
    def predicted_per_s(self) -> tuple[float, float]:
        """Predicted ``(before, after)`` throughput in inferences/s from :attr:`stage_ps`
        (MVM, LDPU and link time per stage); ``(0, 0)`` when not predicted."""
        if not self.stage_ps:
            return 0.0, 0.0
        return 1e12 / max(self.single_stage_ps), 1e12 / max(self.stage_ps)


def choose_replicas(vectors: Sequence[int], blocks: Sequence[int], spare_cores: int, *,
                    stage: Callable[[int, int], int] | None = None) -> tuple[int, ...]:
    """The fewest replicas per layer that give the shortest bottleneck stage within
    ``spare_cores``.

    ``stage(i, r)`` is the stage time of layer ``i`` with ``r`` copies (default: the MVMs
    of its largest band, ``ceil(vectors[i] / r)``). Every stage time a layer reaches is a
    candidate bottleneck; the cores a candidate needs (each layer's fewest copies that reach
    it) fall as it grows, so a bisection finds the shortest that fits. Exact for this
    min–max problem. Copies that would not shorten the bottleneck are not made: their cores
    stay idle.

    Examples
    --------
    >>> choose_replicas([1024, 256, 16], [1, 4, 8], spare_cores=6)  # 256 bounds: 3 idle
    (4, 1, 1)
    >>> choose_replicas([1024, 256, 16], [1, 4, 8], spare_cores=8)  # stage times 205, 128, 16
    (5, 2, 1)
    """
    if len(vectors) != len(blocks):
        raise ValueError("vectors and blocks must have one entry per layer")
    if spare_cores < 0:
        raise ValueError(f"spare_cores must be >= 0, got {spare_cores}")
    if stage is None:
        def stage(i: int, r: int) -> int:
            return -(-vectors[i] // r)
    # per layer, the copies that shorten its stage: (time, copies), times falling
    steps = []
    for i, b in enumerate(blocks):
        best = [(stage(i, 1), 1)]
        for r in range(2, spare_cores // b + 2):
            t = stage(i, r)
            if t < best[-1][0]:
                best.append((t, r))
        steps.append(best)

    def copies(target: int) -> list[int] | None:
        reps = []
        for s in steps:
            r = next((r for t, r in s if t <= target), None)
            if r is None:
                return None
            reps.append(r)
        return reps

    def fits(reps: list[int] | None) -> bool:
        return reps is not None and sum((r - 1) * b for r, b in zip(
            reps, blocks, strict=True)) <= spare_cores

    targets = sorted({t for s in steps for t, _ in s})
    lo, hi = 0, len(targets) - 1  # the largest target (no copies) always fits
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(copies(targets[mid])):
            hi = mid
        else:
            lo = mid + 1
    return tuple(copies(targets[lo])) if targets else ()


def plan_replication(layers: Sequence[LoweredLayer], core: tuple[int, int], *,
                     spare_cores: int, costs: StageCosts | None = None) -> ReplicationPlan:
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
    costs
        The chip's MVM, LDPU and link times (:meth:`StageCosts.of`); default: MVMs only.

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
    stage = stage_model(layers, core, costs)
    reps = choose_replicas([ly.vectors for ly in layers], blocks, spare_cores, stage=stage)
    return replication_plan(layers, core, reps, spare_cores=spare_cores, costs=costs)


def replication_plan(layers: Sequence[LoweredLayer], core: tuple[int, int],
                     replicas: Sequence[int], *, spare_cores: int,
                     costs: StageCosts | None = None) -> ReplicationPlan:
    """The :class:`ReplicationPlan` of given ``replicas`` (e.g. those of a mapping), with
    its predicted stage times; arguments as :func:`plan_replication`.

    Examples
    --------
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> plan = replication_plan([LoweredLayer("a", "linear", 8, 8, 4)], (8, 8), [2],
    ...                         spare_cores=3)
    >>> plan.idle_cores, plan.stage_ps
    (2, (2,))
    """
    if len(replicas) != len(layers):
        raise ValueError("replicas must have one entry per layer")
    blocks = tuple(partition(ly.rows, ly.cols, core[0], core[1]).n_blocks for ly in layers)
    stage = stage_model(layers, core, costs)
    return ReplicationPlan(tuple(ly.name for ly in layers), tuple(ly.vectors for ly in layers),
                           blocks, tuple(replicas), spare_cores,
                           tuple(stage(i, r) for i, r in enumerate(replicas)),
                           tuple(stage(i, 1) for i in range(len(layers))))
