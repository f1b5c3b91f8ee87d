"""The static plan of a timing run: which core does what for which vector, and where data go.

Built once from the placed blocks of a mapping and the lowered layers, before the simulation
(pure Python, no SimPy). Conventions, shared with the mapper's traffic model
(:mod:`chipsim.mapping.placement`):

- The blocks of one replica of a layer that hold the same column range form an accumulation
  *chain*, in row order: each core's LDPU adds the partial sums of the previous core and
  passes the sum on; the last core of a chain holds the layer's outputs of its columns.
- Vectors are numbered across the run, ``g = inference · vectors + k``. Replica ``r`` of a
  layer with ``R`` replicas computes one contiguous band of the vectors of every inference
  (rows of its output image, :func:`~chipsim.mapping.dataflow.replica_bands`), so a consumer
  replica's window comes from one or two producer replicas; a *stepped* layer (an LSTM and
  the layers it feeds, whose inferences are the time steps of one sequence) shares the time
  steps instead: replica ``r`` computes the steps ``r`` mod ``R``. Either way a replica
  computes as many vectors as round-robin sharing gives it; every block of the replica does
  one MVM per such vector (:func:`mvm_counts`).
- An LSTM's ``lstm_hidden`` layer adds its ``lstm_input`` layer's chains as residuals (the
  gate sums) and sends its chains' outputs through a GDPU slice, which turns 4 gate values
  into one hidden value.
- A layer whose input passes through a Transformer's digital operators
  (:attr:`~chipsim.workload.lowered.LoweredLayer.digital`) takes it from a digital attention
  unit (a :class:`StagePlan`): its source's chains (or the host, for the network input and in
  off-chip transport) send each token's output vector to the unit, which sends the layer's
  input vector of the token on to the layer's cores, each row block its rows. Its attention
  output of token ``t`` needs the unit to hold all tokens of the inference (``0..t`` when
  causal). A residual that passes through a LayerNorm (a post-norm encoder's) still goes
  straight from its source's cores: the LayerNorm is timed once, on the way into the layer
  it feeds.
- Between layers (*edges*): a consumer's vector ``k`` needs the delivered vectors
  ``[lo(k), m(k))`` of each source. A source with ``p`` times more vectors than the consumer
  is pooled by ``p`` in its last cores' LDPUs on chip (off chip by the host). A convolution
  consumer whose rows are ``kh·kw·cin`` also needs a halo of ``(kh // 2)·(W + 1)`` vectors of
  a ``W × W`` input (line buffering); linear and LSTM consumers need no halo
  (:mod:`chipsim.mapping.dataflow`). A banded consumer replica numbers the delivered vectors
  of its band's span consecutively (its *line*, :attr:`Plan.lines`): its line buffer holds a
  window of that numbering.

Examples
--------
>>> from chipsim.workload.lowered import LoweredLayer
>>> from chipsim.spec import hermes
>>> layers = [LoweredLayer("a", "linear", 512, 256, 1)]
>>> blocks = [PlacedBlock("a", 0, (0, 256), (0, 256), 0),
...           PlacedBlock("a", 0, (256, 512), (0, 256), 1)]
>>> plan = build_plan(layers, blocks, hermes())
>>> plan.chains[0].cores, mvm_counts(plan, 3)
((0, 1), {0: 3, 1: 3})
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..cost.attention import DigitalWork, token_work, values_out
from ..mapping.dataflow import (
    GATES,
    band_of,
    input_halo,
    is_direct,
    pooling,
    receptive_windows,
    replica_bands,
    stepped_layers,
)
from ..spec import ChipSpec
from .config import GRANULARITIES, TimingError, TransportMode

if TYPE_CHECKING:
    from ..workload.lowered import LoweredLayer

__all__ = ["PlacedBlock", "ChainPlan", "EdgePlan", "LayerPlan", "StagePlan", "Plan",
           "build_plan", "mvm_counts", "LSTM_GROUP"]

LSTM_GROUP = GATES
"""Gate values per hidden value in a GDPU slice (gates I, A, F, O interleaved [LG])."""


@dataclass(frozen=True, slots=True)
class PlacedBlock:
    """A block of a layer's matrix on a core: ``[start, stop)`` row and column ranges."""

    layer: str
    replica: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    core: int


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """The cores of one replica of a layer that share a column range, in accumulation order.

    ``block`` is the chain's column-block index in its replica; ``out`` the output feature
    range it finally holds (the hidden values' range for a GDPU layer).
    """

    index: int
    layer: str
    replica: int
    block: int
    cols: tuple[int, int]
    out: tuple[int, int]
    cores: tuple[int, ...]
    rows: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class EdgePlan:
    """Data from layer ``src`` to layer ``dst``.

    Attributes
    ----------
    kind
        ``"input"`` (feeds the MVMs), ``"recurrent"`` (feeds the next inference's MVMs) or
        ``"residual"`` (added in the last cores' LDPUs).
    onchip
        True: over the core network; False: through the host.
    pool
        Source vectors per delivered vector (pooling factor, 1 = none).
    delivered
        Delivered vectors per inference (``src.vectors // pool``).
    halo
        Extra delivered vectors a consumer vector needs on each side (line buffering).
    direct
        The consumer's rows are the source's output features: a source chain feeds only the
        consumer row blocks that overlap its output range.
    """

    index: int
    src: str
    dst: str
    kind: str
    onchip: bool
    pool: int
    delivered: int
    halo: int
    direct: bool
    src_vectors: int
    dst_vectors: int
    last_of: tuple[int, ...] = field(repr=False)
    geometry: tuple[int, ...] | None = None

    def window(self, k: int) -> tuple[int, int]:
        """Delivered vectors ``[lo, m)`` the consumer's vector ``k`` needs (one inference)."""
        lo, m = self.windows()
        return lo[k], m[k]

    def windows(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """:meth:`window` of every consumer vector: ``lo[k]`` and ``m[k]``, as two tuples,
        never decreasing: with :attr:`geometry` (the consumer convolution's
        :attr:`~chipsim.workload.lowered.LoweredLayer.geometry` and output height and width;
        window granularity) its receptive windows
        (:func:`~chipsim.mapping.dataflow.receptive_windows`), otherwise the consumer's
        share of the delivered vectors and the halo
        (:func:`~chipsim.mapping.dataflow.window`, row granularity)."""
        if self.geometry is not None:
            return _receptive_table(self.geometry[:8], *self.geometry[8:])
        return _window_table(self.delivered, self.dst_vectors, self.halo)

    def span(self, k0: int, k1: int) -> tuple[int, int]:
        """Delivered vectors ``[lo, m)`` the consumer's vectors ``[k0, k1)`` need together."""
        if k1 <= k0:
            return 0, 0
        lo, m = self.windows()
        return lo[k0], m[k1 - 1]

    def takers(self, j: int) -> tuple[int, int]:
        """Consumer vectors ``[k0, k1)`` (one inference) whose window holds delivered ``j``."""
        lo, m = self.windows()
        k0 = bisect_right(m, j)  # the first window that ends past j
        return k0, max(k0, bisect_right(lo, j))  # up to the last that starts at or before j


@dataclass(frozen=True, slots=True)
class LayerPlan:
    """One weight layer on the chip.

    Attributes
    ----------
    replicas
        Copies of the layer.
    chains
        Per replica, the chain indices in column order.
    row_groups
        Per replica, ``(row range, cores)`` for each row block: the cores that take the same
        slice of the input vector.
    in_edges, res_edges, out_edges
        Indices of the edges that feed its MVMs, its residual adds, and that leave it.
    host_input
        Its input vectors come from the host (network input, or off-chip transport).
    to_host
        Its outputs go to the host (final outputs, or off-chip transport).
    gdpu
        Its chains end in GDPU slices (LSTM gates).
    mvm_only
        Only MVMs, no digital work (the all-cores benchmark of Tab I).
    """

    name: str
    kind: str
    rows: int
    cols: int
    vectors: int
    replicas: int
    chains: tuple[tuple[int, ...], ...]
    row_groups: tuple[tuple[tuple[tuple[int, int], tuple[int, ...]], ...], ...]
    in_edges: tuple[int, ...]
    res_edges: tuple[int, ...]
    out_edges: tuple[int, ...]
    host_input: bool
    to_host: bool
    gdpu: bool
    mvm_only: bool
    stepped: bool = False
    bands: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.bands:
            object.__setattr__(self, "bands", replica_bands(self.vectors, self.replicas))

    def owner(self, g: int) -> int:
        """The replica that computes vector ``g``."""
        i, k = divmod(g, self.vectors)
        return i % self.replicas if self.stepped else band_of(self.bands, k)

    def owners(self, i: int, k0: int, k1: int) -> range:
        """The replicas that compute the vectors ``[k0, k1)`` (``k1 > k0``) of inference ``i``:
        consecutive bands, or for a stepped layer the replica whose turn step ``i`` is."""
        if self.stepped:
            return range(i % self.replicas, i % self.replicas + 1)
        return range(band_of(self.bands, k0), band_of(self.bands, k1 - 1) + 1)

    def vectors_of(self, replica: int, inferences: int) -> list[int]:
        """The vectors ``g`` replica ``replica`` computes over ``inferences``, in order."""
        return list(self.iter_vectors(replica, inferences))

    def iter_vectors(self, replica: int, inferences: int) -> Iterator[int]:
        """:meth:`vectors_of` one at a time (no list as long as the run)."""
        v = self.vectors
        infs, ks = self.schedule(replica, inferences)
        return (i * v + k for i in infs for k in ks)

    def schedule(self, replica: int, inferences: int) -> tuple[range, range]:
        """The inferences and the vector indices ``k`` of each that replica ``replica``
        computes (:meth:`vectors_of` is every ``k`` of every inference, in order)."""
        if self.stepped:
            return range(replica, inferences, self.replicas), range(self.vectors)
        return range(inferences), range(self.bands[replica], self.bands[replica + 1])

    def count_vectors(self, replica: int, inferences: int) -> int:
        """``len(vectors_of(replica, inferences))``."""
        if self.stepped:
            return len(range(replica, inferences, self.replicas)) * self.vectors
        return inferences * (self.bands[replica + 1] - self.bands[replica])


@dataclass(frozen=True, slots=True)
class StagePlan:
    """The digital operators on the way into a layer, on a digital attention unit.

    Attributes
    ----------
    index
        Position in :attr:`Plan.stages`.
    layer
        The weight layer whose input vectors the stage computes.
    unit
        The attention unit that runs it.
    edge
        The on-chip input edge whose source chains send to the unit; None when the host
        sends the vectors (the network input, or off-chip transport).
    kinds, attention
        The operators in order and the ``(heads, d_model, causal)`` of a self-attention
        among them (:class:`~chipsim.workload.lowered.LoweredLayer`).
    values_in
        Values of a token entering the unit (``3·d_model`` for an attention); ``rows`` of
        the layer leave it.
    vectors
        Tokens per inference.
    pieces
        Pieces a token arrives in: one per chain of the source, one from the host.
    capacity
        Entering tokens the unit's local memory holds for the stage: its share, in
        proportion to what it needs at least (a whole inference for an attention, one token
        otherwise).
    work
        Per token ``k`` of an inference, its :class:`~chipsim.cost.attention.DigitalWork`.
    """

    index: int
    layer: str
    unit: int
    edge: int | None
    kinds: tuple[str, ...]
    attention: tuple[int, int, bool] | None
    values_in: int
    vectors: int
    pieces: int
    capacity: int
    work: tuple[DigitalWork, ...] = field(repr=False)

    def window(self, k: int) -> tuple[int, int]:
        """Entering tokens ``[lo, hi)`` of an inference that output token ``k`` needs: all
        of them for an attention (``0..k`` when causal), else token ``k``."""
        if self.attention is None:
            return k, k + 1
        return 0, (k + 1 if self.attention[2] else self.vectors)


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a timing run needs to know before it starts."""

    transport: TransportMode
    layers: dict[str, LayerPlan]
    order: tuple[str, ...]
    chains: tuple[ChainPlan, ...]
    edges: tuple[EdgePlan, ...]
    blocks: dict[int, PlacedBlock]
    chain_of: dict[int, tuple[int, int]]
    gdpu_of: dict[int, int]
    preloaded: bool
    sinks: tuple[str, ...]
    lines: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    """``(edge, consumer replica)`` → ``(offset, length)`` of the banded consumer replica's
    line: the delivered vectors ``[offset, offset + length)`` of an inference it needs; its
    vector ``j`` is the line's ``inference · length + j - offset``. Edges without a line
    (recurrent, stepped consumers) number the delivered vectors of the whole run."""
    stages: tuple[StagePlan, ...] = ()
    """The digital operators on the way into layers, on attention units."""
    stage_of: dict[str, int] = field(default_factory=dict)
    """Layer name → index of the :class:`StagePlan` that computes its input vectors."""

    @property
    def cores(self) -> tuple[int, ...]:
        """Cores holding a block, ascending."""
        return tuple(sorted(self.blocks))

    def line(self, edge: int, replica: int) -> tuple[int, int]:
        """``(offset, length)`` of the numbering of edge ``edge``'s delivered vectors at the
        consumer's replica ``replica`` (:attr:`lines`; the whole inference without one)."""
        return self.lines.get((edge, replica), (0, self.edges[edge].delivered))

    def line_capacity(self, edge: int, replica: int) -> int:
        """Line-buffer capacity (delivered vectors, a window of the line's numbering) with
        which the producers of edge ``edge`` never wait for consumer replica ``replica``.

        An ideal pipeline: every producer replica runs through its band at the same pace,
        inference after inference, and the consumer takes each vector as soon as its window
        has arrived. The window must then reach from the oldest vector still needed to the
        newest one delivered. A band whose first window needs the last vectors of the
        neighbouring producer band waits for them while its own band arrives: that wait is
        what the buffer holds.
        """
        e = self.edges[edge]
        k0, k1 = self.layers[e.dst].bands[replica], self.layers[e.dst].bands[replica + 1]
        off, length = self.line(edge, replica)
        if k1 <= k0 or not length:
            return 1
        arrival = self._line_arrivals(e, off, length)
        los, ms = e.windows()
        lo = [x - off for x in los[k0:k1]]
        m = [x - off for x in ms[k0:k1]]
        lo += [x + length for x in lo]  # and the next inference's
        m += [x + length for x in m]
        taken, t, a0, b0 = [], 0, 0, 0  # when the consumer takes each of its vectors
        for a, b in zip(lo, m, strict=True):
            # a window that moves forward over the previous one adds only the vectors past
            # it (the others are in t already)
            new = arrival[b0 if a0 <= a <= b0 <= b else a:b]
            if new:
                t = max(t, max(new))
            a0, b0 = a, b
            taken.append(t)
        need = max(b - a for a, b in zip(lo, m, strict=True))
        # vector x arrives while the consumer's vector v is the first not yet taken (taken
        # rises): the window then reaches from lo[v] to x
        arr = np.asarray(arrival, dtype=np.int64)
        v = np.searchsorted(np.asarray(taken, dtype=np.int64), arr, side="left")
        wait = np.flatnonzero(v < len(lo))
        if len(wait):
            need = max(need, int((wait - np.asarray(lo, dtype=np.int64)[v[wait]]).max()) + 1)
        return need

    def _line_arrivals(self, e: EdgePlan, off: int, length: int) -> list[int]:
        """When the vectors of a line arrive, two inferences long, in source vectors: every
        producer replica computes the position of its band at once."""
        src = self.layers[e.src]
        pos = [s - src.bands[src.owner(s)] for s in e.last_of[off:off + length]]
        period = max(b - a for a, b in zip(src.bands, src.bands[1:], strict=False))
        return pos + [p + period for p in pos]


@functools.lru_cache(maxsize=64)
def _receptive_table(geometry: tuple[int, ...], h_out: int,
                     w_out: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return receptive_windows(geometry, h_out, w_out)


@functools.lru_cache(maxsize=64)
def _window_table(delivered: int, dst_vectors: int,
                  halo: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """:func:`~chipsim.mapping.dataflow.window` for every consumer vector, at once."""
    k = np.arange(dst_vectors, dtype=np.int64)
    lo = np.maximum((k * delivered) // dst_vectors - halo, 0)
    m = np.minimum(-((-(k + 1) * delivered) // dst_vectors) + halo, delivered)
    return tuple(lo.tolist()), tuple(m.tolist())


def mvm_counts(plan: Plan, inferences: int) -> dict[int, int]:
    """MVMs per core for ``inferences`` inferences: one per vector of the core's replica.

    Replica ``r`` takes its band of every inference, or of a stepped layer the time steps
    ``r`` mod ``R`` (:meth:`LayerPlan.vectors_of`): as many as round-robin sharing gives.
    """
    return {core: plan.layers[b.layer].count_vectors(b.replica, inferences)
            for core, b in plan.blocks.items()}


def _window_geometry(dst: LoweredLayer, src_vectors: int) -> tuple[int, ...] | None:
    """The geometry of :attr:`EdgePlan.geometry` for a convolution ``dst`` fed by a source of
    ``src_vectors`` pixels: its own and its output height and width, or None
    when its input grid is not the source's pixels pooled by a whole factor."""
    g = dst.geometry
    if dst.kind != "conv" or g is None:
        return None
    h_in, w_in = g[6], g[7]
    kh, kw, sh, sw, ph, pw = g[:6]
    h_out, w_out = (h_in + 2 * ph - kh) // sh + 1, (w_in + 2 * pw - kw) // sw + 1
    if h_out * w_out != dst.vectors or not h_in * w_in or src_vectors % (h_in * w_in):
        return None
    return (*g, h_out, w_out)


def _square(n: int) -> int:
    s = math.isqrt(n)
    return s if s * s == n else 0


def _last_of(pool: int, vp: int, delivered: int) -> tuple[int, ...]:
    """Source vector after which each delivered (pooled) vector is complete."""
    if pool == 1:
        return tuple(range(delivered))
    wp, wo, s = _square(vp), _square(delivered), _square(pool)
    if wp and wo and s and wp == wo * s:
        return tuple(((j // wo + 1) * s - 1) * wp + (j % wo + 1) * s - 1
                     for j in range(delivered))
    return tuple((j + 1) * pool - 1 for j in range(delivered))


def _check_blocks(layers: Sequence[LoweredLayer], blocks: Sequence[PlacedBlock],
                  chip: ChipSpec) -> dict[str, LoweredLayer]:
    by_name = {ly.name: ly for ly in layers}
    seen: dict[int, PlacedBlock] = {}
    for b in blocks:
        if b.layer not in by_name:
            raise TimingError(f"block on core {b.core} belongs to layer {b.layer!r}, which is "
                              "not in the workload")
        if not 0 <= b.core < chip.n_cores:
            raise TimingError(f"block of layer {b.layer!r} is on core {b.core}, which is not "
                              f"on the chip (0..{chip.n_cores - 1})")
        if b.core in seen:
            raise TimingError(f"core {b.core} holds two blocks ({seen[b.core].layer!r} and "
                              f"{b.layer!r})")
        if b.rows[1] - b.rows[0] > chip.core.rows or b.cols[1] - b.cols[0] > chip.core.cols:
            raise TimingError(f"block of layer {b.layer!r} on core {b.core} is larger than a "
                              f"core ({chip.core.rows} × {chip.core.cols})")
        seen[b.core] = b
    placed = {b.layer for b in blocks}
    for ly in layers:
        if ly.name not in placed:
            raise TimingError(f"layer {ly.name!r} has no block on the chip")
    return by_name


def build_plan(layers: Sequence[LoweredLayer], blocks: Iterable[PlacedBlock], chip: ChipSpec,
               transport: TransportMode = TransportMode.OFFCHIP, *, preloaded: bool = False,
               mvm_only: Iterable[str] = (), sinks_to_host: bool = True,
               granularity: str = "row") -> Plan:
    """The plan of running ``layers`` placed as ``blocks`` on ``chip``.

    Parameters
    ----------
    layers
        The workload's lowered weight layers, in execution order.
    blocks
        Every block with its core.
    chip
        The chip.
    transport
        Activation transport between layers.
    preloaded
        Network inputs are in the cores' input registers at time 0 (no transfer): the
        single-input use cases of Tab I.
    mvm_only
        Layers whose cores only compute MVMs (no LDPU, nothing sent).
    sinks_to_host
        The final layers' outputs go to the host (False: they stay in the cores, Tab I).
    granularity
        What a convolution's output pixel waits for (:attr:`TimingConfig.granularity`):
        ``"row"``, its share of the delivered pixels plus a halo of ``kernel // 2`` rows and
        pixels (:func:`~chipsim.mapping.dataflow.window`); ``"window"``, the pixels of its
        receptive window (:func:`~chipsim.mapping.dataflow.receptive_windows`).

    Raises
    ------
    TimingError
        For blocks that do not match the layers or the chip, an LSTM on a chip without
        GDPU slices, or a Transformer's digital operators (attention, LayerNorm, GELU,
        position table; :attr:`~chipsim.workload.lowered.LoweredLayer.digital`) on a chip
        without attention units or with too little local memory in them.
    """
    if granularity not in GRANULARITIES:
        raise TimingError(f"granularity: must be one of {', '.join(GRANULARITIES)}, got "
                          f"{granularity!r}")
    blocks = list(blocks)
    by_name = _check_blocks(layers, blocks, chip)
    mvm_only = frozenset(mvm_only)
    onchip_mode = transport is TransportMode.ONCHIP
    # chains
    groups: dict[tuple[str, int, tuple[int, int]], list[PlacedBlock]] = defaultdict(list)
    for b in blocks:
        groups[(b.layer, b.replica, b.cols)].append(b)
    reps: dict[str, list[int]] = defaultdict(list)
    for (name, rep, _), _bs in groups.items():
        if rep not in reps[name]:
            reps[name].append(rep)
    chains: list[ChainPlan] = []
    chain_of: dict[int, tuple[int, int]] = {}
    layer_chains: dict[str, list[tuple[int, ...]]] = {}
    layer_rows: dict[str, list[tuple]] = {}
    for ly in layers:
        rep_ids = sorted(reps[ly.name])
        if rep_ids != list(range(len(rep_ids))):
            raise TimingError(f"layer {ly.name!r}: replicas must be numbered 0..R-1, got "
                              f"{rep_ids}")
        per_rep, per_rep_rows = [], []
        for rep in rep_ids:
            keys = sorted(k for k in groups if k[0] == ly.name and k[1] == rep)
            ids = []
            rows_of: dict[tuple[int, int], list[int]] = defaultdict(list)
            for bi, key in enumerate(keys):
                bs = sorted(groups[key], key=lambda b: b.rows)
                c0, c1 = key[2]
                out = (c0 // LSTM_GROUP, c1 // LSTM_GROUP) if ly.kind == "lstm_hidden" \
                    else (c0, c1)
                ch = ChainPlan(len(chains), ly.name, rep, bi, key[2], out,
                               tuple(b.core for b in bs), tuple(b.rows for b in bs))
                for pos, b in enumerate(bs):
                    chain_of[b.core] = (ch.index, pos)
                    rows_of[b.rows].append(b.core)
                chains.append(ch)
                ids.append(ch.index)
            per_rep.append(tuple(ids))
            per_rep_rows.append(tuple((r, tuple(cs)) for r, cs in sorted(rows_of.items())))
        layer_chains[ly.name] = per_rep
        layer_rows[ly.name] = per_rep_rows
    # edges
    edges: list[EdgePlan] = []

    def add_edge(src: LoweredLayer, dst: LoweredLayer, kind: str) -> int:
        onchip = onchip_mode or src.kind == "lstm_input"
        vp = src.vectors
        vc = dst.vectors
        pool = pooling(vp, vc)
        geometry = (_window_geometry(dst, vp) if granularity == "window" and kind == "input"
                    else None)
        if geometry is not None:  # a strided convolution takes every pixel, unpooled
            pool = vp // (geometry[6] * geometry[7])
        delivered = vp // pool
        halo = input_halo(dst, by_name, delivered) if kind == "input" else 0
        direct = kind != "residual" and is_direct(src, dst)
        edges.append(EdgePlan(len(edges), src.name, dst.name, kind, onchip, pool, delivered,
                              halo, direct, vp, vc, _last_of(pool, vp, delivered), geometry))
        return len(edges) - 1

    ins: dict[str, list[int]] = defaultdict(list)
    res: dict[str, list[int]] = defaultdict(list)
    outs: dict[str, list[int]] = defaultdict(list)
    for ly in layers:
        for s in ly.sources:
            if s not in by_name:
                raise TimingError(f"layer {ly.name!r} reads {s!r}, which is not a layer")
            e = add_edge(by_name[s], ly, "recurrent" if s == ly.name else "input")
            ins[ly.name].append(e)
            outs[s].append(e)
        for s in ly.residual_sources:
            if s not in by_name:
                raise TimingError(f"layer {ly.name!r} adds {s!r}, which is not a layer")
            e = add_edge(by_name[s], ly, "residual")
            res[ly.name].append(e)
            outs[s].append(e)
    consumers = {edges[e].src for e in range(len(edges))}
    sinks = tuple(ly.name for ly in layers if ly.name not in consumers)
    stepped = stepped_layers(layers)
    lplans = {}
    for ly in layers:
        if ly.digital and chip.attention.units == 0:
            raise TimingError(f"layer {ly.name!r}: its input passes through a Transformer's "
                              f"{', '.join(dict.fromkeys(ly.digital))}, but the chip has no "
                              "digital attention unit (attention.units = 0): use the preset "
                              "hermes_attn or set attention.units (or run without timing: "
                              "--no-timing)")
        if ly.whole_sequence:
            raise TimingError(f"layer {ly.name!r} reads a whole sequence at once (e.g. an "
                              "LSTM's hidden states flattened); the timing model runs a "
                              "sequence one time step per inference and cannot time it "
                              "(run without it: --no-timing, RunConfig(timing=False))")
        gdpu = ly.kind == "lstm_hidden"
        if gdpu and chip.gdpu_slices == 0:
            raise TimingError(f"layer {ly.name!r} is an LSTM, but the chip has no GDPU slices")
        host_input = not ly.sources and not preloaded or any(
            not edges[e].onchip for e in ins[ly.name])
        to_host = (ly.name in sinks and sinks_to_host) or any(
            not edges[e].onchip for e in outs[ly.name])
        lplans[ly.name] = LayerPlan(
            ly.name, ly.kind, ly.rows, ly.cols, ly.vectors, len(layer_chains[ly.name]),
            tuple(layer_chains[ly.name]), tuple(layer_rows[ly.name]), tuple(ins[ly.name]),
            tuple(res[ly.name]), tuple(outs[ly.name]), host_input, to_host, gdpu,
            ly.name in mvm_only, ly.name in stepped)
    lines = {}
    for e in edges:
        dst = lplans[e.dst]
        if e.kind == "input" and e.onchip and not dst.stepped:
            for rep in range(dst.replicas):
                lo, hi = e.span(dst.bands[rep], dst.bands[rep + 1])
                lines[(e.index, rep)] = (lo, hi - lo)
    gdpu_of = {}
    for ly in layers:
        if ly.kind != "lstm_hidden":
            continue
        lp = lplans[ly.name]
        for rep, ids in enumerate(lp.chains):
            for c in ids:
                ch = chains[c]
                units = ch.out[1] - ch.out[0]
                if units > chip.gdpu_cell_registers or ch.cols[1] - ch.cols[0] > 256:
                    raise TimingError(
                        f"layer {ly.name!r}: a column block of {ch.cols[1] - ch.cols[0]} gate "
                        f"values ({units} hidden units) does not fit a GDPU slice (at most 256 "
                        f"inputs, {chip.gdpu_cell_registers} cell-state registers)")
                gdpu_of[c] = (chip.chip_of(ch.cores[-1]) * chip.gdpu_slices
                              + (rep * len(ids) + ch.block) % chip.gdpu_slices)
    home = {name: chip.chip_of(chains[lp.chains[0][0]].cores[-1]) for name, lp in lplans.items()}
    stages = _stages(layers, lplans, edges, chip, preloaded, home)
    return Plan(transport, lplans, tuple(ly.name for ly in layers), tuple(chains),
                tuple(edges), {b.core: b for b in blocks}, chain_of, gdpu_of, preloaded, sinks,
                lines, stages, {st.layer: st.index for st in stages})


def _stages(layers: Sequence[LoweredLayer], lplans: dict[str, LayerPlan],
            edges: list[EdgePlan], chip: ChipSpec, preloaded: bool,
            home: dict[str, int]) -> tuple[StagePlan, ...]:
    """The :class:`StagePlan` of every layer with digital operators, on the attention units
    of the chip that holds the layer (``home``: its first block's chip), in turn (round
    robin, in layer order), with their shares of the units' memory."""
    spec = chip.attention
    found = []
    turn = [0] * chip.chips
    for ly in layers:
        if not ly.digital:
            continue
        lp = lplans[ly.name]
        ins = [edges[e] for e in lp.in_edges]
        if lp.stepped or len(ins) > 1 or (ins and (ins[0].kind == "recurrent"
                                                   or ins[0].src_vectors != ly.vectors)):
            raise TimingError(f"layer {ly.name!r}: an attention unit takes the input of a "
                              "layer fed by one other layer (or the network input) with one "
                              "vector per token, as in a Transformer")
        if not ins and preloaded:
            raise TimingError(f"layer {ly.name!r}: preloaded inputs cannot pass through an "
                              "attention unit")
        values_in = 3 * ly.attention[1] if "SelfAttention" in ly.digital else ly.rows
        src = lplans[ins[0].src] if ins else None
        if values_out(ly.digital, values_in, ly.attention) != ly.rows or (
                src is not None and (src.cols // LSTM_GROUP if src.gdpu else src.cols)
                != values_in):
            raise TimingError(f"layer {ly.name!r}: {'+'.join(ly.digital)} does not turn its "
                              f"source's outputs into its {ly.rows} inputs")
        edge = ins[0].index if ins and ins[0].onchip else None
        work = tuple(token_work(ly.digital, values_in, ly.attention, k, ly.vectors)
                     for k in range(ly.vectors))
        k = home[ly.name]
        unit = k * spec.units + turn[k] % spec.units
        turn[k] += 1
        found.append(StagePlan(len(found), ly.name, unit, edge, ly.digital,
                               ly.attention, values_in, ly.vectors,
                               len(src.chains[0]) if edge is not None else 1, 0, work))
    # memory: at least a whole inference of an attention's tokens, one token otherwise;
    # every stage of a unit gets the same multiple of that
    least = [st.values_in * (st.vectors if st.attention else 1) for st in found]
    total: dict[int, int] = defaultdict(int)
    for st, need in zip(found, least, strict=True):
        total[st.unit] += need
    mem = spec.local_memory_bytes
    for u, need in total.items():
        if need > mem:
            names = ", ".join(repr(st.layer) for st in found if st.unit == u)
            raise TimingError(f"attention.local_memory_kb: attention unit {u} needs "
                              f"{need / 1024:.1f} kB for the inputs of layers {names} (a whole "
                              f"inference's queries, keys and values of an attention), more "
                              f"than its {spec.local_memory_kb:g} kB; raise it or add units "
                              "(attention.units)")
    return tuple(replace(st, capacity=mem * need // total[st.unit] // st.values_in)
                 for st, need in zip(found, least, strict=True))
