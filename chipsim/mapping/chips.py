"""Which chip of a system holds which blocks: the layer graph cut over the fewest chips.

Rule (issue "systems of chips"): a layer stays whole on one chip unless it has more blocks
than any chip has cores; only then is it split, at block boundaries, over consecutive chips
(its partial sums, or its input, then cross a chip-to-chip link). Under that rule the layers,
in execution order, fill chips one after the other; :func:`assign_chips` chooses where to cut
by dynamic programming:

1. the fewest chips (every chip holds a run of consecutive layers, and layers split as above);
2. among those cuts, the least traffic over the cuts: the values per inference that the
   layers before a cut send to the layers after it (each edge of the layer graph counted at
   every cut it crosses, as it crosses every chip in between on a line of chips), the model
   of :mod:`~chipsim.mapping.placement` (a source's delivered vectors × its columns; a
   residual's vectors × columns). A cut inside a split layer adds its partial sums
   (``vectors × block columns`` for each chain it breaks).

Consecutive runs go to chips that are linked (:func:`chip_order`), so most cut traffic takes
one chip-to-chip link. Replicas and the placement within each chip come afterwards
(:func:`~chipsim.mapping.map_workload`).

Examples
--------
>>> from chipsim.workload.lowered import LoweredLayer
>>> layers = [LoweredLayer("a", "linear", 1024, 1024, 4),
...           LoweredLayer("b", "linear", 1024, 1024, 4, ("a",)),
...           LoweredLayer("c", "linear", 1024, 10, 4, ("b",))]
>>> plan = assign_chips(layers, capacities=[20, 20, 20])
>>> plan.chips_used, plan.layer_chips
(2, {'a': (0,), 'b': (1,), 'c': (1,)})
>>> plan.cut_values  # a's 1,024 outputs × 4 vectors cross to the second chip
4096.0
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

from .dataflow import pooling
from .errors import MappingError
from .partition import partition

if TYPE_CHECKING:  # the workload package is only needed for type hints
    from ..spec import ChipSpec
    from ..workload.lowered import LoweredLayer

__all__ = ["ChipPlan", "assign_chips", "chip_order", "chips_needed", "system_plan"]


@dataclass(frozen=True, slots=True)
class ChipPlan:
    """Where the blocks of one copy of every layer go.

    Attributes
    ----------
    chips_used
        Chips that hold at least one block (the fewest the rule allows).
    block_chip
        Per layer: the chip of each of its blocks (block index order), as positions in the
        order of ``capacities`` (:func:`assign_chips`).
    layer_chips
        Per layer: the chips it is on, in order (one unless it is split).
    split_layers
        Layers with more blocks than a chip has cores, split over chips.
    blocks_per_chip
        Blocks (cores) each chip holds.
    cut_values
        Values per inference that cross from one chip to the next over all cuts.
    """

    chips_used: int
    block_chip: dict[str, tuple[int, ...]]
    layer_chips: dict[str, tuple[int, ...]]
    split_layers: tuple[str, ...]
    blocks_per_chip: tuple[int, ...]
    cut_values: float


def _cut_values(layers: Sequence[LoweredLayer], blocks: Sequence[int],
                core_cols: int) -> list[float]:
    """Values per inference crossing a cut at every block position of the execution order
    (index ``p``: between the first ``p`` blocks and the rest)."""
    by_name = {ly.name: i for i, ly in enumerate(layers)}
    start = _starts(blocks)
    n = start[-1]
    cross = [0.0] * (n + 1)   # difference array over layer-boundary positions
    for j, ly in enumerate(layers):
        edges = []
        for s in ly.sources:
            if s in by_name:
                src = layers[by_name[s]]
                edges.append((by_name[s], src.vectors // pooling(src.vectors, ly.vectors)
                              * src.cols))
        edges += [(by_name[s], ly.vectors * ly.cols) for s in ly.residual_sources
                  if s in by_name]
        for i, vol in edges:
            if i == j:
                continue
            lo, hi = sorted((i, j))
            # an edge i -> j crosses every cut after the end of the earlier layer and up to
            # the start of the later one (inside the later layer, its input still has to
            # reach the blocks beyond the cut)
            a, b = start[lo] + blocks[lo], start[hi] + blocks[hi]
            cross[a] += vol
            cross[b] -= vol
    out, run = [], 0.0
    for p in range(n + 1):
        run += cross[p]
        out.append(run)
    for j, ly in enumerate(layers):  # a cut inside a layer breaks its chains' partial sums
        for p in range(start[j] + 1, start[j] + blocks[j]):
            out[p] += ly.vectors * min(ly.cols, core_cols)
    out[0] = out[n] = 0.0
    return out


def assign_chips(layers: Sequence[LoweredLayer], capacities: Sequence[int],
                 core: tuple[int, int] = (256, 256), chip_name: str = "CHIP") -> ChipPlan:
    """Cut ``layers`` (execution order) over chips with ``capacities`` free cores each.

    Parameters
    ----------
    layers
        The workload's weight layers.
    capacities
        Cores available on each chip, in the order the runs of layers fill them
        (:func:`chip_order`).
    core
        Core (crossbar) rows and columns.
    chip_name
        How messages name the chip.

    Raises
    ------
    MappingError
        When the layers need more chips than ``capacities`` lists; the message says how many
        they need (with chips of the largest capacity given).
    """
    blocks = [partition(ly.rows, ly.cols, *core).n_blocks for ly in layers]
    n = sum(blocks)
    if n == 0:
        return ChipPlan(0, {}, {}, (), (), 0.0)
    big = max(capacities) if capacities else 0
    starts = _starts(blocks)
    split = tuple(ly.name for ly, b in zip(layers, blocks, strict=True) if b > big)
    allowed = sorted(set(starts) | {p for j, b in enumerate(blocks) if b > big
                                    for p in range(starts[j], starts[j] + b)})
    cut = _cut_values(layers, blocks, core[1])
    k_max = len(capacities)
    if not big or n > sum(capacities):
        need = chips_needed(layers, max(big, 1), core)
        raise MappingError(_too_many(n, need, k_max, big, chip_name))
    inf = float("inf")
    # best[k][p]: least cut traffic with chips 0..k-1 holding exactly the first p blocks
    best = [dict.fromkeys(allowed, inf) for _ in range(k_max + 1)]
    back: list[dict[int, int]] = [{} for _ in range(k_max + 1)]
    best[0][0] = 0.0
    for k in range(k_max):
        cap = capacities[k]
        for i, p in enumerate(allowed):
            if best[k][p] == inf:
                continue
            for q in allowed[i:bisect_right(allowed, p + cap, i)]:
                v = best[k][p] + cut[q]
                if v < best[k + 1][q] - 1e-9:
                    best[k + 1][q] = v
                    back[k + 1][q] = p
        if best[k + 1][n] < inf:
            used = k + 1
            break
    else:
        need = chips_needed(layers, big, core)
        raise MappingError(_too_many(n, need, k_max, big, chip_name))
    bounds = [n]
    for k in range(used, 0, -1):
        bounds.append(back[k][bounds[-1]])
    bounds.reverse()  # bounds[k]..bounds[k+1]: chip k's blocks
    chip_of_pos = []
    for k in range(used):
        chip_of_pos += [k] * (bounds[k + 1] - bounds[k])
    block_chip = {ly.name: tuple(chip_of_pos[starts[j]:starts[j + 1]])
                  for j, ly in enumerate(layers)}
    layer_chips = {name: tuple(dict.fromkeys(cs)) for name, cs in block_chip.items()}
    per_chip = tuple(bounds[k + 1] - bounds[k] for k in range(used))
    return ChipPlan(used, block_chip, layer_chips, split, per_chip,
                    round(sum(cut[b] for b in bounds[1:-1]), 6))


def _starts(blocks: Sequence[int]) -> list[int]:
    """Where each layer's blocks start in the execution order, and the total at the end."""
    return [0, *accumulate(blocks)]


def _too_many(blocks: int, need: int, have: int, cores: int, name: str) -> str:
    return (f"the workload needs {need} chips of {cores} cores ({blocks} blocks, whole layers "
            f"on one chip where they fit); the system has {have}: set system.chips={need} "
            f"(--system {need}x{name})")


def chips_needed(layers: Sequence[LoweredLayer], cores_per_chip: int,
                 core: tuple[int, int] = (256, 256)) -> int:
    """The fewest chips of ``cores_per_chip`` free cores that hold ``layers`` under the rule
    of this module (whole layers where they fit).

    Examples
    --------
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> chips_needed([LoweredLayer("a", "linear", 1024, 1024, 1)] * 1, 10)
    2
    """
    blocks = [partition(ly.rows, ly.cols, *core).n_blocks for ly in layers]
    chips, free = 0, 0
    for b in blocks:
        if b <= free:
            free -= b
            continue
        if b <= cores_per_chip:
            chips, free = chips + 1, cores_per_chip - b
            continue
        b -= free   # a split layer fills what is left, then whole chips
        full, rest = divmod(b, cores_per_chip)
        chips += full + (1 if rest else 0)
        free = cores_per_chip - rest if rest else 0
    return chips


def chip_order(chip: ChipSpec) -> list[int]:
    """The chips in the order runs of layers fill them: each linked to the one before where
    the topology allows (ring and line: by id; mesh: row by row, every other row reversed;
    all-to-all: by id; a file: depth-first from chip 0, lowest ids first).

    Examples
    --------
    >>> from chipsim.spec import hermes, override
    >>> s = override(override(hermes(), "system.chips", 6), "system.topology", "mesh")
    >>> chip_order(s)
    [0, 1, 2, 5, 4, 3]
    """
    from ..noc.topology import chip_pairs, mesh_shape
    from ..spec import ChipTopology

    n = chip.chips
    topo = chip.system.topology
    if topo is ChipTopology.MESH:
        _, cols = mesh_shape(chip.system)
        order = []
        for r in range(-(-n // cols)):
            row = list(range(r * cols, min(n, (r + 1) * cols)))
            order += row if r % 2 == 0 else row[::-1]
        return order
    if topo is not ChipTopology.FILE:
        return list(range(n))
    adj: dict[int, list[int]] = {k: [] for k in range(n)}
    for a, b in chip_pairs(chip):
        adj[a].append(b)
        adj[b].append(a)
    order, seen = [], set()
    for root in range(n):
        stack = [root]
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            order.append(k)
            stack += sorted(adj[k], reverse=True)
    return order


def system_plan(layers: Sequence[LoweredLayer], chip: ChipSpec,
                excluded: Sequence[int] = ()) -> tuple[ChipPlan, list[int], list[int]]:
    """The :class:`ChipPlan` of one copy of ``layers`` on the system ``chip`` (its chips in
    :func:`chip_order`, each with its cores less ``excluded`` and its dead cores), with that
    order and the free cores of each chip in it.

    Examples
    --------
    >>> from chipsim.spec import hermes16, override
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> plan, order, free = system_plan([LoweredLayer("a", "linear", 512, 1024, 1)],
    ...                                 override(hermes16(), "system.chips", 2), [3])
    >>> plan.chips_used, order, free
    (1, [0, 1], [15, 16])
    """
    per = chip.cores_per_chip
    out = set(excluded) | set(chip.faults.dead_cores)
    order = chip_order(chip)
    free = [per - sum(1 for c in out if chip.chip_of(c) == k) for k in order]
    return (assign_chips(layers, free, (chip.core.rows, chip.core.cols), chip.name), order,
            free)
