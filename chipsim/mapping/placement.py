"""Placement of weight blocks on the cores of the link graph, minimising weighted hop count.

Traffic model (values per inference, INT8 on the wire; ``shared/hermes.md`` §3–4)
---------------------------------------------------------------------------------
Blocks are nodes of a *traffic graph*; an edge's weight is the number of values that pass
between the two blocks per inference, and the placement cost is the sum over edges of weight
× hop count between the two cores (shortest path in the link graph), i.e. value-hops per
inference. A layer with ``R`` replicas gives each replica a band of ``1/R`` of its vectors.

partial sums
    The blocks of one replica that share a column range but hold different row ranges
    accumulate their partial sums in a chain, in row order (each core's LDPU adds the INT8
    partial sums it receives and passes the sum on): ``vectors/R × block columns`` values per
    link of the chain. The last block of each chain holds the layer's outputs of its columns.
layer to layer
    A source layer's output blocks send ``delivered × cols_src`` values per inference to
    the layer (``delivered``: its vectors after pooling, :mod:`~chipsim.mapping.dataflow`);
    every block of the layer receives the slice of the input its row range needs. When the
    layer is fed by a single source whose columns are the layer's rows, the slice comes from
    the source blocks whose columns overlap the block's rows; otherwise (e.g. a
    convolution's ``kh·kw·cin`` rows) it is spread over the source's output blocks in
    proportion to their widths. Replicas compute bands of vectors: a source replica sends a
    consumer replica the part of its band that lies in the consumer band's span (its band
    and the halo of a convolution), so bands that meet exchange the most. Replicas that
    share time steps (LSTM) share the volume evenly.
residual adds
    A residual source's output blocks send ``vectors × cols`` values (of the receiving layer)
    to the receiving layer's output blocks, matched by column range and shared between
    replicas by band as above.

Algorithm
---------
1. Greedy, in execution order (layer, replica, block): put each block on the free, allowed
   core with the least added cost to the blocks already placed; ties go to the core closest
   to all placed blocks (compactness), then the lowest id. It is run from a few start cores
   (the four corners and the centre of the grid).
2. Local search to a local minimum: for each block on a work queue, the best move to a free
   allowed core or swap with another block; an improving change is applied and puts the
   blocks whose cost it changes back on the queue. Bounded by ``50·blocks + 1000`` looks.
3. Iterated local search, bounded: ``rounds`` times, perturb the best placement with a few
   (2–6) random swaps/moves drawn from a seeded :class:`numpy.random.Generator`, search
   again from the blocks it touched, keep the result if it is cheaper. Deterministic for a
   given seed.

Hop distances between cores not joined by any path (possible with a ``FILE`` topology) count
as ``n_cores`` hops. Excluded cores are never used for blocks; routes may still pass through
them (a dead crossbar does not imply dead links; the timing model decides routes).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import shortest_path

from .dataflow import band_overlap, input_halo, pooling, replica_bands, stepped_layers
from .errors import MappingError

if TYPE_CHECKING:  # the workload package is only needed for type hints
    from ..workload.lowered import LoweredLayer

__all__ = ["BlockRef", "Placement", "hop_distances", "traffic_weights", "placement_cost",
           "place", "random_placement"]


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block to place: its layer, replica and ``[start, stop)`` ranges in the matrix."""

    layer: str
    replica: int
    rows: tuple[int, int]
    cols: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Placement:
    """Cores of the blocks (same order as the blocks) and the placement cost (value-hops)."""

    cores: tuple[int, ...]
    cost: float


def hop_distances(graph: nx.Graph) -> np.ndarray:
    """All-pairs shortest-path hop counts of a core graph with nodes ``0 .. n-1``.

    Unreachable pairs count ``n`` hops.

    Examples
    --------
    >>> from chipsim.noc import build_graph
    >>> from chipsim.spec import hermes
    >>> d = hop_distances(build_graph(hermes()))
    >>> int(d[0, 63]), int(d[0, 7])
    (7, 7)
    """
    n = graph.number_of_nodes()
    if sorted(graph.nodes) != list(range(n)):
        raise ValueError("graph nodes must be the core ids 0..n-1")
    # breadth-first from every node in compiled code: networkx's all-pairs search took 6.5 s
    # on a system of 4,096 cores
    adj = nx.to_scipy_sparse_array(graph, nodelist=range(n), weight=None, format="csr")
    dist = shortest_path(adj, directed=False, unweighted=True)
    dist[np.isinf(dist)] = float(n)
    return dist


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def traffic_weights(layers: Sequence[LoweredLayer], blocks: Sequence[BlockRef]) -> np.ndarray:
    """Symmetric matrix of values exchanged per inference between every two blocks.

    ``layers`` gives shapes, vectors, sources and residual sources; ``blocks`` lists every
    block (of every replica) to be placed. The model is described in the module docstring.

    Examples
    --------
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> layers = [LoweredLayer("a", "linear", 300, 10, 2)]
    >>> blocks = [BlockRef("a", 0, (0, 150), (0, 10)), BlockRef("a", 0, (150, 300), (0, 10))]
    >>> traffic_weights(layers, blocks).tolist()
    [[0.0, 20.0], [20.0, 0.0]]
    """
    by_name = {ly.name: ly for ly in layers}
    n = len(blocks)
    w = np.zeros((n, n))
    # per layer: replica -> list of block ids; per replica: chains by column range
    members: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for k, b in enumerate(blocks):
        members[b.layer][b.replica].append(k)
    n_reps = {name: len(reps) for name, reps in members.items()}
    outputs: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for name, reps in members.items():
        ly = by_name[name]
        for rep, ids in reps.items():
            chains: dict[tuple[int, int], list[int]] = defaultdict(list)
            for k in ids:
                chains[blocks[k].cols].append(k)
            outs = []
            for cols, chain in sorted(chains.items()):
                chain.sort(key=lambda k: blocks[k].rows)
                vol = ly.vectors / n_reps[name] * (cols[1] - cols[0])
                for a, b in zip(chain, chain[1:], strict=False):
                    w[a, b] += vol
                    w[b, a] += vol
                outs.append(chain[-1])
            outputs[name][rep] = outs

    def add(src_outs: list[int], dst_ids: list[int], share, vol: float) -> None:
        if not vol:
            return
        for s in src_outs:
            for d in dst_ids:
                v = vol * share(blocks[s], blocks[d])
                if v and s != d:
                    w[s, d] += v
                    w[d, s] += v

    stepped = stepped_layers(layers)

    def pairs(src: LoweredLayer, dst: LoweredLayer, halo: int) -> list[list[float]]:
        return _replica_shares(src, dst, n_reps[src.name], n_reps[dst.name], halo,
                               src.name in stepped or dst.name in stepped)

    for ly in layers:
        if ly.name not in members:
            continue
        for src_name in ly.sources:
            if src_name not in members:
                continue
            src = by_name[src_name]
            direct = len(ly.sources) == 1 and src.cols == ly.rows
            delivered = src.vectors // pooling(src.vectors, ly.vectors)
            halo = input_halo(ly, by_name, delivered)

            def share(s: BlockRef, d: BlockRef, direct=direct, src=src, ly=ly):
                if direct:
                    return _overlap(s.cols, d.rows) / ly.rows
                return (s.cols[1] - s.cols[0]) / src.cols * (d.rows[1] - d.rows[0]) / ly.rows

            for s_rep, row in enumerate(pairs(src, ly, halo)):
                for d_rep, frac in enumerate(row):
                    add(outputs[src_name][s_rep], members[ly.name][d_rep], share,
                        delivered * src.cols * frac)
        for src_name in ly.residual_sources:
            if src_name not in members:
                continue
            src = by_name[src_name]

            def rshare(s: BlockRef, d: BlockRef, src=src, ly=ly):
                a = (s.cols[0] / src.cols, s.cols[1] / src.cols)
                b = (d.cols[0] / ly.cols, d.cols[1] / ly.cols)
                return _overlap(a, b)

            for s_rep, row in enumerate(pairs(src, ly, 0)):
                for d_rep, frac in enumerate(row):
                    add(outputs[src_name][s_rep], outputs[ly.name][d_rep], rshare,
                        ly.vectors * ly.cols * frac)
    return w


def _replica_shares(src: LoweredLayer, dst: LoweredLayer, rs: int, rd: int, halo: int,
                    stepped: bool) -> list[list[float]]:
    """Share of the traffic of edge ``src → dst`` between each source replica and each
    consumer replica: by the overlap of their bands (:mod:`~chipsim.mapping.dataflow`), or
    evenly when the replicas share time steps."""
    if stepped:
        return [[1.0 / (rs * rd)] * rd for _ in range(rs)]
    delivered = src.vectors // pooling(src.vectors, dst.vectors)
    return band_overlap(replica_bands(src.vectors, rs), replica_bands(dst.vectors, rd),
                        delivered, dst.vectors, halo)


def placement_cost(weights: np.ndarray, cores: Sequence[int], dist: np.ndarray) -> float:
    """Value-hops per inference of a placement: ``sum_{i<j} weights[i,j] · dist[core_i, core_j]``.

    Rounded to 6 decimals, so equal placements give equal, readable numbers.
    """
    if len(cores) == 0:
        return 0.0
    p = np.asarray(cores, dtype=np.intp)
    return round(float((np.triu(weights, 1) * dist[np.ix_(p, p)]).sum()), 6)


def _check(n_blocks: int, n_cores: int, exclude: Collection[int]) -> np.ndarray:
    allowed = np.ones(n_cores, dtype=bool)
    for c in exclude:
        if not 0 <= int(c) < n_cores:
            raise MappingError(f"excluded core {c} is not on the chip (0..{n_cores - 1})")
        allowed[int(c)] = False
    if n_blocks > int(allowed.sum()):
        raise MappingError(f"{n_blocks} blocks need {n_blocks} cores; {int(allowed.sum())} "
                           "are available")
    return allowed


def random_placement(n_blocks: int, graph: nx.Graph, *, exclude: Collection[int] = (),
                     seed: int = 0) -> tuple[int, ...]:
    """Distinct allowed cores for ``n_blocks`` blocks, drawn uniformly (a baseline)."""
    allowed = _check(n_blocks, graph.number_of_nodes(), exclude)
    rng = np.random.default_rng(seed)
    return tuple(int(c) for c in rng.permutation(np.flatnonzero(allowed))[:n_blocks])


def place(weights: np.ndarray, graph: nx.Graph, *, exclude: Collection[int] = (),
          seed: int = 0, rounds: int = 40, dist: np.ndarray | None = None,
          anchor: np.ndarray | None = None) -> Placement:
    """Place blocks (rows of ``weights``, in execution order) on distinct allowed cores.

    Parameters
    ----------
    weights
        Symmetric traffic matrix from :func:`traffic_weights`.
    graph
        Core graph from :func:`chipsim.noc.build_graph`.
    exclude
        Core ids never to use (e.g. dead cores).
    seed
        Seed of the perturbations of the iterated local search.
    rounds
        Perturbation rounds of the iterated local search (0: greedy + descent only).
    dist
        Precomputed :func:`hop_distances` of ``graph`` (computed when omitted).
    anchor
        ``(blocks, cores)``: a cost of each block on each core besides the traffic among the
        blocks (e.g. value-hops to the core that links to another chip), added to every cost
        the search compares and to the result's ``cost``; None: none.

    Raises
    ------
    MappingError
        If there are more blocks than allowed cores, or an excluded core is not on the chip.

    Examples
    --------
    >>> from chipsim.noc import build_graph
    >>> from chipsim.spec import hermes16
    >>> w = np.array([[0, 5, 0], [5, 0, 5], [0, 5, 0]], dtype=float)
    >>> p = place(w, build_graph(hermes16()), exclude={0})
    >>> p.cost, 0 in p.cores
    (10.0, False)
    """
    n_blocks = weights.shape[0]
    n_cores = graph.number_of_nodes()
    allowed = _check(n_blocks, n_cores, exclude)
    if n_blocks == 0:
        return Placement((), 0.0)
    d = hop_distances(graph) if dist is None else dist
    grid = graph.graph.get("grid")
    starts = _start_cores(grid, n_cores, allowed)
    best: np.ndarray | None = None
    best_cost = np.inf

    def cost(p: np.ndarray) -> float:
        c = placement_cost(weights, p, d)
        if anchor is not None:
            c = round(c + float(anchor[np.arange(n_blocks), p].sum()), 6)
        return c

    for s in starts:
        p = _greedy(weights, d, allowed, s, anchor)
        p = _descend(weights, d, allowed, p, anchor=anchor)
        c = cost(p)
        if c < best_cost - 1e-9:
            best, best_cost = p, c
    assert best is not None
    rng = np.random.default_rng(seed)
    k = min(max(2, n_blocks // 8), 6)
    for _ in range(rounds):
        p = _perturb(best, allowed, rng, k)
        moved = np.flatnonzero(p != best)
        touched = set(moved.tolist())
        for i in moved:
            touched.update(np.flatnonzero(weights[i]).tolist())
        p = _descend(weights, d, allowed, p, sorted(touched), anchor)
        c = cost(p)
        if c < best_cost - 1e-9:
            best, best_cost = p, c
    return Placement(tuple(int(c) for c in best), best_cost)


def _start_cores(grid, n_cores: int, allowed: np.ndarray) -> list[int]:
    if grid:
        rows, cols = grid
        cands = [0, cols - 1, (rows - 1) * cols, rows * cols - 1,
                 (rows // 2) * cols + cols // 2]
    else:
        cands = [0, n_cores // 2]
    free = np.flatnonzero(allowed)
    out: list[int] = []
    for c in cands:
        if not allowed[c]:
            c = int(free[0])
        if c not in out:
            out.append(c)
    return out


def _greedy(w: np.ndarray, d: np.ndarray, allowed: np.ndarray, start: int,
            anchor: np.ndarray | None = None) -> np.ndarray:
    n = w.shape[0]
    pos = np.full(n, -1, dtype=np.intp)
    free = allowed.copy()
    spread = np.zeros(d.shape[0])    # sum of hops to the placed blocks
    for k in range(n):
        if k == 0:
            y = start
        else:
            nz = np.flatnonzero(w[k, :k])
            cost = d[:, pos[nz]] @ w[k, nz] if len(nz) else np.zeros(d.shape[0])
            if anchor is not None:
                cost = cost + anchor[k]
            key_cost = np.where(free, np.round(cost, 9), np.inf)
            cand = np.flatnonzero(key_cost == key_cost.min())
            y = int(cand[np.argmin(spread[cand])])   # first minimum: lowest id
        pos[k] = y
        free[y] = False
        spread += d[:, y]
    return pos


def _descend(w: np.ndarray, d: np.ndarray, allowed: np.ndarray, pos: np.ndarray,
             active: Sequence[int] | None = None,
             anchor: np.ndarray | None = None) -> np.ndarray:
    """Local search: for each block on the work queue, the best move to a free core or swap
    with another block; improving changes are applied and put the blocks they touch back on
    the queue (a "don't look bit" scheme), until the queue is empty or the budget is spent."""
    pos = pos.copy()
    n, n_cores = len(pos), d.shape[0]
    m = w @ d[pos, :]                      # m[i, y]: cost of block i's edges with i at core y
    if anchor is not None:                 # and of its fixed cost there
        m += anchor
    nbrs = [np.flatnonzero(w[i]) for i in range(n)]
    occupant = np.full(n_cores, -1, dtype=np.intp)
    occupant[pos] = np.arange(n)
    queue = deque(range(n) if active is None else dict.fromkeys(active))
    queued = np.zeros(n, dtype=bool)
    queued[list(queue)] = True
    budget = 50 * n + 1000

    def relocate(i: int, src: int, dst: int) -> None:
        ks = nbrs[i]
        m[ks] += np.outer(w[ks, i], d[dst] - d[src])

    def push(ids) -> None:
        for k in ids:
            if not queued[k]:
                queued[k] = True
                queue.append(int(k))

    while queue and budget > 0:
        budget -= 1
        i = queue.popleft()
        queued[i] = False
        x = pos[i]
        delta = m[i] - m[i, x]
        occ = occupant >= 0
        js = occupant[occ]
        delta[occ] += m[js, x] - m[js, pos[js]] + 2.0 * w[i, js] * d[x, pos[js]]
        delta[~allowed] = np.inf
        delta[x] = np.inf
        y = int(np.argmin(delta))
        if not delta[y] < -1e-9:
            continue
        j = int(occupant[y])
        pos[i], occupant[y] = y, i
        relocate(i, x, y)
        if j >= 0:
            pos[j], occupant[x] = x, j
            relocate(j, y, x)
            push([j, *nbrs[j]])
        else:
            occupant[x] = -1
        push([i, *nbrs[i]])
    return pos


def _perturb(pos: np.ndarray, allowed: np.ndarray, rng: np.random.Generator,
             k: int) -> np.ndarray:
    pos = pos.copy()
    n = len(pos)
    for _ in range(k):
        free = np.flatnonzero(allowed & ~np.isin(np.arange(len(allowed)), pos))
        if len(free) and rng.random() < len(free) / (len(free) + n):
            pos[rng.integers(n)] = free[rng.integers(len(free))]
        elif n > 1:
            i, j = rng.choice(n, size=2, replace=False)
            pos[i], pos[j] = pos[j], pos[i]
    return pos
