"""The :class:`Mapping` type and :func:`map_workload`, which partitions, replicates and places.

The same :class:`Mapping` drives the functional (accuracy) path and the timing path: it says
which ``[start, stop)`` rows and columns of which layer's weight matrix (of which replica)
sit on which core.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from ..noc import build_graph
from ..noc.topology import chip_routes
from ..spec import PRESETS, ChipSpec, Topology
from .chips import chips_needed, system_plan
from .errors import MappingError
from .partition import partition
from .placement import BlockRef, hop_distances, place, placement_cost, traffic_weights
from .replication import StageCosts, plan_replication

if TYPE_CHECKING:  # the workload package is only needed for type hints
    from ..workload.lowered import LoweredLayer

__all__ = ["BlockPlacement", "LayerMapping", "Mapping", "map_workload", "mapping_cost",
           "layer_summaries", "mapping_to_dict", "mapping_from_plain"]


@dataclass(frozen=True, slots=True)
class BlockPlacement:
    """One weight block on one core.

    Attributes
    ----------
    layer
        Layer name.
    replica
        Copy of the layer the block belongs to (0 for the first copy).
    index
        Block index within the layer copy, row-major over the block grid.
    rows, cols
        ``[start, stop)`` ranges of the layer's weight matrix (rows = inputs, cols =
        outputs) held by the block; the rest of the core is zero-filled.
    core
        Core id (row-major on the chip's grid).
    """

    layer: str
    replica: int
    index: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    core: int

    @property
    def label(self) -> str:
        """``layer 'conv5' replica 0 block 3 (core 17)``: how messages name the block."""
        return (f"layer {self.layer!r} replica {self.replica} block {self.index} "
                f"(core {self.core})")


@dataclass(frozen=True, slots=True)
class LayerMapping:
    """Per-layer summary of a mapping.

    Attributes
    ----------
    name
        Layer name.
    rows, cols
        Weight matrix shape.
    vectors
        MVMs per inference of the whole layer (all replicas together).
    blocks
        Blocks of one copy of the layer.
    replicas
        Copies of the layer.
    cores
        Cores the layer takes (all copies).
    utilization
        Weights over the area of the cores of one copy:
        ``rows·cols / (blocks · core_rows · core_cols)``.
    """

    name: str
    rows: int
    cols: int
    vectors: int
    blocks: int
    replicas: int
    cores: int
    utilization: float


@dataclass(frozen=True, slots=True)
class Mapping:
    """A workload's weight blocks placed on a chip's cores.

    Attributes
    ----------
    chip
        Chip name.
    grid
        Core grid of the chip, rows × columns.
    n_cores
        Cores on the chip.
    core_rows, core_cols
        Core (crossbar) size.
    workload
        Workload name.
    layers
        Per-layer summaries, in execution order.
    blocks
        Every block, ordered by layer (execution order), replica, index.
    placement_cost
        Value-hops per inference of the placement under the traffic model of
        :mod:`chipsim.mapping.placement`.
    excluded_cores
        Cores that were not to be used (e.g. dead cores), sorted.
    chips
        Chips of the system (``n_cores`` counts the cores of all of them; core ids run chip
        by chip, ``grid`` is one chip's).

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> m = map_workload([LoweredLayer("fc", "linear", 504, 50, 1)], hermes())
    >>> m.cores_used, [b.rows for b in m.blocks], m.layer("fc").utilization
    (2, [(0, 252), (252, 504)], 0.1922607421875)
    """

    chip: str
    grid: tuple[int, int]
    n_cores: int
    core_rows: int
    core_cols: int
    workload: str
    layers: tuple[LayerMapping, ...]
    blocks: tuple[BlockPlacement, ...]
    placement_cost: float
    excluded_cores: tuple[int, ...] = ()
    chips: int = 1

    @property
    def cores_used(self) -> int:
        """Cores holding a block."""
        return len(self.blocks)

    @property
    def cores_per_chip(self) -> int:
        """Cores of one chip."""
        return self.n_cores // self.chips

    def chip_of(self, core: int) -> int:
        """The chip of core ``core``."""
        return core // self.cores_per_chip

    @property
    def chips_used(self) -> int:
        """Chips holding at least one block."""
        return len({self.chip_of(b.core) for b in self.blocks})

    @property
    def replicas(self) -> dict[str, int]:
        """Copies of each layer."""
        return {ly.name: ly.replicas for ly in self.layers}

    def layer(self, name: str) -> LayerMapping:
        """The summary of layer ``name``."""
        for ly in self.layers:
            if ly.name == name:
                return ly
        raise KeyError(name)

    def blocks_of(self, layer: str, replica: int | None = None) -> tuple[BlockPlacement, ...]:
        """The blocks of ``layer`` (of one ``replica`` if given)."""
        return tuple(b for b in self.blocks
                     if b.layer == layer and (replica is None or b.replica == replica))

    def core_blocks(self) -> dict[int, BlockPlacement]:
        """Core id → the block on it."""
        return {b.core: b for b in self.blocks}


def _check_layers(layers: Sequence[LoweredLayer]) -> None:
    names: set[str] = set()
    for ly in layers:
        if ly.name in names:
            raise MappingError(f"layer {ly.name!r} appears twice in the workload")
        names.add(ly.name)
        for field in ("rows", "cols", "vectors"):
            v = getattr(ly, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise MappingError(f"layer {ly.name!r}: {field} must be a positive integer, "
                                   f"got {v!r}")
    for ly in layers:
        for src in (*ly.sources, *ly.residual_sources):
            if src not in names:
                raise MappingError(f"layer {ly.name!r}: source {src!r} is not a weight layer "
                                   "of the workload")


def _too_large(needed: int, chip: ChipSpec, available: int,
               layers: Sequence[LoweredLayer] = ()) -> MappingError:
    """The error of a workload that needs more cores than ``chip`` has ``available``, with
    what would help: a larger preset of the same core size with as many cores out of use, or
    fewer cores out of use when the chip itself is large enough."""
    out = chip.n_cores - available
    dead = len(chip.faults.dead_cores)
    kinds = [what for n, what in ((dead, "dead"), (out - dead, "excluded")) if n]
    why = (f" ({out} of {chip.n_cores}: {dead} dead, {out - dead} excluded)" if len(kinds) == 2
           else f" ({out} of {chip.n_cores} {kinds[0]})" if kinds else "")
    avail = f"{available} available{why}"
    fits = []
    for name, factory in PRESETS.items():
        p = factory()
        if ((p.core.rows, p.core.cols) == (chip.core.rows, chip.core.cols)
                and p.n_cores > chip.n_cores and p.n_cores - out >= needed):
            fits.append((p.n_cores, name))
    if chip.n_cores >= needed:
        hint = f"; it fits with at most {chip.n_cores - needed} of its cores dead or excluded"
    elif fits:
        hint = f"; the smallest preset that fits is {min(fits)[1]!r} ({min(fits)[0]} cores)"
    else:
        hint = (f"; no preset with {chip.core.rows}×{chip.core.cols} cores has "
                f"{needed + out} cores")
    if layers and chip.n_cores < needed:
        chips = chips_needed(layers, chip.n_cores, (chip.core.rows, chip.core.cols))
        hint += f"; or {chips} such chips (--system {chips}x{chip.name})"
    return MappingError(f"the workload needs {needed} cores, chip {chip.name!r} has {avail}"
                        f"{hint}")


def layer_summaries(layers: Sequence[LoweredLayer], blocks: Sequence[BlockPlacement],
                    core: tuple[int, int]) -> tuple[LayerMapping, ...]:
    """Per-layer summaries of ``blocks`` (for layers in ``layers``' order)."""
    out = []
    for ly in layers:
        mine = [b for b in blocks if b.layer == ly.name]
        reps = len({b.replica for b in mine})
        first = sum(1 for b in mine if b.replica == 0)
        util = ly.rows * ly.cols / (first * core[0] * core[1]) if first else 0.0
        out.append(LayerMapping(ly.name, ly.rows, ly.cols, ly.vectors, first, reps, len(mine),
                                util))
    return tuple(out)


def mapping_cost(layers: Sequence[LoweredLayer], blocks: Sequence[BlockPlacement],
                 chip: ChipSpec) -> float:
    """Placement cost (value-hops per inference) of ``blocks`` on ``chip``'s link graph."""
    refs = [BlockRef(b.layer, b.replica, b.rows, b.cols) for b in blocks]
    w = traffic_weights(layers, refs)
    return placement_cost(w, [b.core for b in blocks], _distances(chip)[1])


def _distances(chip: ChipSpec) -> tuple[Any, np.ndarray]:
    """Link graph and hop distances of ``chip`` (cached, except for file topologies, whose
    file may change between calls)."""
    if chip.network.topology is Topology.FILE:
        graph = build_graph(chip)
        return graph, hop_distances(graph)
    return _cached_distances(chip)


@functools.lru_cache(maxsize=16)
def _cached_distances(chip: ChipSpec) -> tuple[Any, np.ndarray]:
    graph = build_graph(chip)
    dist = hop_distances(graph)
    dist.flags.writeable = False
    return graph, dist


def map_workload(layers: Sequence[LoweredLayer], chip: ChipSpec, *, replicate: bool = False,
                 exclude: Collection[int] = (), seed: int = 0,
                 workload_name: str = "") -> Mapping:
    """Partition every layer, optionally replicate, and place every block on a core.

    On a system of several chips (``chip.system.chips > 1``) the layers are first cut over
    the fewest chips (:mod:`chipsim.mapping.chips`); copies fill the spare cores of that
    group of chips and further whole groups, and each chip is placed by the system's traffic
    (:func:`_map_system`).

    Parameters
    ----------
    layers
        The workload's weight layers in execution order (``Workload.lowered()``).
    chip
        The chip.
    replicate
        Put whole copies of layers on spare cores for the pipelined mode, as many as shorten
        its slowest stage (:func:`~chipsim.mapping.replication.plan_replication` with the
        chip's MVM, LDPU and link times); spare cores that would not stay idle.
    exclude
        Core ids never to use, besides the chip's ``faults.dead_cores`` (always excluded).
    seed
        Seed of the placement's local search.
    workload_name
        Recorded in the mapping.

    Raises
    ------
    MappingError
        If the blocks need more cores than the chip has available (the message gives both
        numbers and what would help: as many dead or excluded cores as the chip can spare, or
        the smallest larger preset with the same core size that fits), an excluded core
        is not on the chip, or the layers are inconsistent (duplicate names, unknown sources,
        sizes < 1).

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> layers = [LoweredLayer("lstm.input", "lstm_input", 128, 2016, 1),
    ...           LoweredLayer("lstm.hidden", "lstm_hidden", 504, 2016, 1)]
    >>> m = map_workload(layers, hermes(), workload_name="lstm")
    >>> m.cores_used, [ly.cores for ly in m.layers]
    (24, [8, 16])
    """
    layers = tuple(layers)
    _check_layers(layers)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise MappingError(f"seed: must be an integer >= 0, got {seed!r}")
    core = (chip.core.rows, chip.core.cols)
    for c in exclude:
        if not 0 <= int(c) < chip.n_cores:
            raise MappingError(f"excluded core {c} is not on chip {chip.name!r} "
                               f"(cores 0..{chip.n_cores - 1})")
    excluded = tuple(sorted({int(c) for c in exclude} | set(chip.faults.dead_cores)))
    for c in excluded:
        if not 0 <= c < chip.n_cores:
            raise MappingError(f"excluded core {c} is not on chip {chip.name!r} "
                               f"(cores 0..{chip.n_cores - 1})")
    available = chip.n_cores - len(excluded)
    parts = [partition(ly.rows, ly.cols, *core) for ly in layers]
    needed = sum(p.n_blocks for p in parts)
    if chip.chips > 1:
        return _map_system(layers, chip, parts, replicate, excluded, seed, workload_name)
    if needed > available:
        raise _too_large(needed, chip, available, layers)
    if replicate:
        reps = plan_replication(layers, core, spare_cores=available - needed,
                                costs=StageCosts.of(chip)).replicas
    else:
        reps = (1,) * len(layers)
    keys: list[tuple[str, int, int, tuple[int, int], tuple[int, int]]] = []
    for ly, p, r in zip(layers, parts, reps, strict=True):
        for rep in range(r):
            for b in p.blocks:
                keys.append((ly.name, rep, b.index, b.rows, b.cols))
    refs = [BlockRef(k[0], k[1], k[3], k[4]) for k in keys]
    weights = traffic_weights(layers, refs)
    graph, dist = _distances(chip)
    placed = place(weights, graph, exclude=excluded, seed=seed, dist=dist)
    blocks = tuple(BlockPlacement(k[0], k[1], k[2], k[3], k[4], c)
                   for k, c in zip(keys, placed.cores, strict=True))
    cost = placement_cost(weights, placed.cores, dist)
    return Mapping(chip.name, chip.grid, chip.n_cores, core[0], core[1], workload_name,
                   layer_summaries(layers, blocks, core), blocks, cost, excluded)


def _map_system(layers: tuple[LoweredLayer, ...], chip: ChipSpec, parts: list,
                replicate: bool, excluded: tuple[int, ...], seed: int,
                workload_name: str) -> Mapping:
    """:func:`map_workload` on a system of chips: the layers cut over the fewest chips
    (:func:`~chipsim.mapping.chips.assign_chips`). With ``replicate``: copies of layers on
    that group of chips' spare cores (:func:`_copies_on_chips`), and as many more such groups
    of chips as the system holds, each a copy of the first (the groups split every
    inference's vectors); then every chip placed as a single chip is."""
    core = (chip.core.rows, chip.core.cols)
    per = chip.cores_per_chip
    local_excluded = [[c - k * per for c in excluded if chip.chip_of(c) == k]
                      for k in range(chip.chips)]
    plan, order, free = system_plan(layers, chip, excluded)
    used = plan.chips_used
    groups = 1
    if replicate:  # further groups of chips, while their chips hold what the first holds
        while (groups + 1) * used <= len(order) and all(
                free[groups * used + pos] >= plan.blocks_per_chip[pos] for pos in range(used)):
            groups += 1
    # per layer, (group, chip position in the group or None) of each copy, in replica order
    copies: dict[str, list[tuple[int, int | None]]] = {ly.name: [] for ly in layers}
    planned: dict[tuple[int, ...], dict[str, list[int | None]]] = {}
    for g in range(groups):
        room = tuple(free[g * used:(g + 1) * used])
        if room not in planned:
            planned[room] = _copies_on_chips(layers, parts, plan, list(room), replicate, core,
                                             chip)
        for name, at in planned[room].items():
            copies[name] += [(g, a) for a in at]
    # the blocks of every copy by chip position (then layer, replica, block)
    at_pos: dict[int, list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]] = {}
    for ly, p in zip(layers, parts, strict=True):
        on = plan.block_chip[ly.name]
        for rep, (g, at) in enumerate(copies[ly.name]):
            for b in p.blocks:
                pos = g * used + (on[b.index] if at is None else at)
                at_pos.setdefault(pos, []).append((ly.name, rep, b.index, b.rows, b.cols))
    keys = [key for pos in sorted(at_pos) for key in at_pos[pos]]
    chip_of_key = np.array([order[pos] for pos in sorted(at_pos) for _ in at_pos[pos]],
                           dtype=np.intp)
    weights = traffic_weights(layers, [BlockRef(k_[0], k_[1], k_[3], k_[4]) for k_ in keys])
    system_graph = _distances(chip)[0]
    exits = _exit_ports(system_graph, chip)
    cores = [0] * len(keys)
    for k in np.unique(chip_of_key).tolist():
        mine = np.flatnonzero(chip_of_key == k)
        placed = _place_chip(weights, mine, chip_of_key, exits, system_graph, chip, k,
                             local_excluded[k], seed)
        for i, c in zip(mine, placed, strict=True):
            cores[i] = k * per + c
    order_of = {ly.name: i for i, ly in enumerate(layers)}
    ranked = sorted(zip(keys, cores, strict=True),
                    key=lambda kc: (order_of[kc[0][0]], kc[0][1], kc[0][2]))
    blocks = tuple(BlockPlacement(k_[0], k_[1], k_[2], k_[3], k_[4], c) for k_, c in ranked)
    return Mapping(chip.name, chip.grid, chip.n_cores, core[0], core[1], workload_name,
                   layer_summaries(layers, blocks, core), blocks,
                   mapping_cost(layers, blocks, chip), excluded, chip.chips)


def _copies_on_chips(layers: tuple[LoweredLayer, ...], parts: list, plan, free: list[int],
                     replicate: bool, core: tuple[int, int],
                     chip: ChipSpec) -> dict[str, list[int | None]]:
    """Per layer, the chip position (in the group of chips of ``plan``, whose free cores are
    ``free``) of each copy, in replica order (None: the first copy of a layer split over
    chips, which stays where :func:`~chipsim.mapping.chips.assign_chips` put its blocks).

    The copies are those :func:`~chipsim.mapping.replication.plan_replication` gives for the
    group's spare cores; each extra copy goes whole to the chip nearest (in chip order) to
    the layer's own that still has room, its own first; a copy that fits nowhere is dropped,
    and a layer split over chips is not copied. Replicas are numbered by chip position, so
    that neighbouring bands of vectors sit on the same or nearby chips.
    """
    left = list(free)
    for pos, n in enumerate(plan.blocks_per_chip):
        left[pos] -= n
    out: dict[str, list[int | None]] = {}
    wanted = (1,) * len(layers)
    if replicate and sum(left) > 0:
        wanted = plan_replication(layers, core, spare_cores=sum(left),
                                  costs=StageCosts.of(chip)).replicas
    for ly, p, r in zip(layers, parts, wanted, strict=True):
        home = plan.layer_chips[ly.name]
        if len(home) > 1:
            out[ly.name] = [None]
            continue
        at = [home[0]]
        nearest = sorted(range(len(left)), key=lambda q: (abs(q - home[0]), q))
        for _ in range(r - 1):
            room = next((q for q in nearest if left[q] >= p.n_blocks), None)
            if room is None:
                break
            left[room] -= p.n_blocks
            at.append(room)
        out[ly.name] = sorted(at)
    return out


def _exit_ports(system_graph, chip: ChipSpec) -> dict[tuple[int, int], int]:
    """``(chip a, chip b)`` → the core of chip ``a`` (numbered on the chip) whose
    chip-to-chip link the routes from ``a`` to ``b`` leave by
    (:func:`~chipsim.noc.topology.chip_routes`)."""
    links, paths = chip_routes(system_graph, chip)
    return {(a, b): links[(a, path[1])][0] % chip.cores_per_chip
            for (a, b), path in paths.items()}


def _place_chip(weights: np.ndarray, mine: np.ndarray, chip_of_key: np.ndarray,
                exits: dict[tuple[int, int], int], system_graph, chip: ChipSpec, k: int,
                excluded: list[int], seed: int) -> tuple[int, ...]:
    """Cores (of chip ``k``, numbered on the chip) of the blocks ``mine`` (rows of the system's
    traffic matrix ``weights``): placed by the traffic among them and, for what they exchange
    with blocks on other chips, the hops to the core whose chip-to-chip link that traffic
    takes (:func:`_exit_ports`)."""
    per = chip.cores_per_chip
    graph = nx.relabel_nodes(system_graph.subgraph(range(k * per, (k + 1) * per)),
                             lambda v: v - k * per)
    graph.graph["grid"] = chip.grid
    dist = hop_distances(graph)
    anchor = np.zeros((len(mine), per))
    by_port: dict[int, np.ndarray] = {}
    for other in set(chip_of_key.tolist()) - {k}:
        port = exits.get((k, other))
        if port is None:  # no route: check_routes says so before the run
            continue
        cols = np.flatnonzero(chip_of_key == other)
        by_port[port] = by_port.get(port, 0) + weights[np.ix_(mine, cols)].sum(axis=1)
    for port, vol in by_port.items():
        anchor += np.outer(vol, dist[:, port])
    return place(weights[np.ix_(mine, mine)], graph, exclude=excluded, seed=seed, dist=dist,
                 anchor=anchor).cores


def mapping_to_dict(m: Mapping) -> dict[str, Any]:
    """Plain dict of a mapping, as written to files (blocks as flat entries; on a system of
    several chips, ``chips`` and each block's ``chip`` besides its system-wide ``core``)."""
    return {
        "format": "chipsim-mapping/1",
        "chip": m.chip,
        "grid": list(m.grid),
        "n_cores": m.n_cores,
        **({"chips": m.chips} if m.chips > 1 else {}),
        "core": [m.core_rows, m.core_cols],
        "workload": m.workload,
        "cores_used": m.cores_used,
        "placement_cost": m.placement_cost,
        "excluded_cores": list(m.excluded_cores),
        "layers": [{"name": ly.name, "rows": ly.rows, "cols": ly.cols, "vectors": ly.vectors,
                    "blocks": ly.blocks, "replicas": ly.replicas, "cores": ly.cores,
                    "utilization": ly.utilization} for ly in m.layers],
        "blocks": [{"layer": b.layer, "replica": b.replica, "index": b.index,
                    "rows": list(b.rows), "cols": list(b.cols),
                    **({"chip": m.chip_of(b.core)} if m.chips > 1 else {}), "core": b.core}
                   for b in m.blocks],
    }


def mapping_from_plain(d: dict[str, Any]) -> Mapping:
    """The :class:`Mapping` that :func:`mapping_to_dict` wrote, read back as it was (the mapping
    a report records; a mapping file is read with the checks of
    :func:`~chipsim.mapping.mapping_from_dict`). A missing key is a ``KeyError``, a value of
    the wrong kind a ``TypeError`` or ``ValueError``.

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> m = map_workload([LoweredLayer("fc", "linear", 504, 50, 1)], hermes())
    >>> mapping_from_plain(mapping_to_dict(m)) == m
    True
    """
    return Mapping(
        str(d["chip"]), _ints(d["grid"], 2), int(d["n_cores"]), *_ints(d["core"], 2),
        str(d["workload"]),
        tuple(LayerMapping(str(ly["name"]), int(ly["rows"]), int(ly["cols"]),
                           int(ly["vectors"]), int(ly["blocks"]), int(ly["replicas"]),
                           int(ly["cores"]), float(ly["utilization"])) for ly in d["layers"]),
        tuple(BlockPlacement(str(b["layer"]), int(b["replica"]), int(b["index"]),
                             _ints(b["rows"], 2), _ints(b["cols"], 2), int(b["core"]))
              for b in d["blocks"]),
        float(d["placement_cost"]), tuple(int(c) for c in d["excluded_cores"]),
        int(d.get("chips", 1)))


def _ints(value: Any, n: int) -> tuple[int, ...]:
    out = tuple(int(v) for v in value)
    if len(out) != n:
        raise ValueError(f"expected {n} integers, got {value!r}")
    return out
