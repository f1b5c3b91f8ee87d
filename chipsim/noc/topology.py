"""Build the core-to-core link graph of a chip from its :class:`~chipsim.spec.NetworkSpec`.

Cores are numbered row-major on ``chip.grid``: core ``r * grid_cols + c`` sits at row ``r``,
column ``c``. The graph is undirected (every link carries traffic both ways) and carries the
link parameters as edge attributes, so the mapper (hop counts) and, later, the timing model
(routes, link delays) read one structure.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from pathlib import Path

import networkx as nx

from ..errors import brief
from ..inputs import FileKind, read_text
from ..spec import ChipSpec, ChipTopology, FaultSpec, SpecError, SystemSpec, Topology

__all__ = ["build_graph", "core_id", "core_pos", "chip_links", "chip_pairs", "mesh_shape",
           "chip_routes"]

_EDGE_LIST = FileKind("edge list", error=functools.partial(SpecError, "network.graph_file"))
_CHIP_EDGE_LIST = FileKind("edge list", error=functools.partial(SpecError, "system.graph_file"))


def core_id(row: int, col: int, grid: tuple[int, int]) -> int:
    """Id of the core at ``(row, col)`` on a ``grid = (rows, cols)`` chip (row-major)."""
    return row * grid[1] + col


def core_pos(core: int, grid: tuple[int, int]) -> tuple[int, int]:
    """``(row, col)`` of core ``core`` on a ``grid = (rows, cols)`` chip."""
    return divmod(core, grid[1])


def build_graph(chip: ChipSpec) -> nx.Graph:
    """The undirected link graph of ``chip``.

    Nodes are the core ids ``0 .. n_cores-1`` (row-major on ``chip.grid``), each with the
    attribute ``pos = (row, col)``. Edges follow ``chip.network.topology``:

    ``MESH``
        4-neighbour 2D mesh.
    ``TORUS``
        the mesh plus wrap-around links in every row and column (a dimension of size 1 adds
        no link; one of size 2 adds none beyond the mesh link).
    ``HERMES_GRID``
        the mesh plus one diagonal direction, ``(r, c) – (r+1, c+1)``: up to 6 neighbours per
        core, as on the reference chip ("each core can transmit to and receive from up to 6
        neighbouring cores", [LG] §III). The chip implements the 5-parallel-prism family of
        Dazzi et al. (2021); its exact per-core link map is UNCONFIRMED, and this layout is a
        documented stand-in with the published neighbour count. Use ``FILE`` for another map.
    ``FILE``
        an edge list read from ``chip.network.graph_file``: one link per line as two core ids
        ``a b`` (whitespace or a comma between them); ``#`` starts a comment; blank lines are
        skipped.

    Links listed in ``chip.faults.broken_links`` are left out (routes then detour around
    them, or the cores they separate are in different components).

    Every edge has ``bandwidth_gbps`` (``network.link_gbps``) and ``latency_cycles``
    (``network.hop_latency_cycles``, link-clock cycles per hop).

    A system of several chips (``chip.system.chips > 1``) is the union of one such graph per
    chip (chip ``k``'s cores offset by ``k · cores_per_chip``) and the chip-to-chip links of
    :func:`chip_links`, whose edges have ``bandwidth_gbps`` (``system.link_bandwidth_gbps``),
    ``latency_ps`` (``system.link_latency_ns``) and ``c2c = True``; ``faults.broken_links``
    name cores by their system-wide ids.

    Raises
    ------
    SpecError
        For an unreadable graph file, or a line of it that is not two distinct core ids in
        range (the message names the file and the line); for a broken link that is not a link
        of the network (``faults.broken_links[i]``).

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> g = build_graph(hermes())
    >>> g.number_of_nodes(), g.number_of_edges(), g.nodes[9]["pos"]
    (64, 161, (1, 1))
    >>> max(d for _, d in g.degree())
    6
    """
    if chip.chips > 1:
        return _system_graph(chip)
    rows, cols = chip.grid
    net = chip.network
    g = nx.Graph(chip=chip.name, grid=chip.grid, topology=net.topology.value)
    for r in range(rows):
        for c in range(cols):
            g.add_node(core_id(r, c, chip.grid), pos=(r, c))
    if net.topology is Topology.FILE:
        edges = _read_edge_list(Path(str(net.graph_file)), rows * cols)
    else:
        edges = _grid_edges(rows, cols, net.topology)
    attrs = {"bandwidth_gbps": net.link_gbps, "latency_cycles": net.hop_latency_cycles}
    g.add_edges_from(edges, **attrs)
    return _break_links(g, chip, f"the {net.topology.value} network")


def _break_links(g: nx.Graph, chip: ChipSpec, where: str) -> nx.Graph:
    """``g`` without the links of ``chip.faults.broken_links`` (each must be a link of it)."""
    for i, (a, b) in enumerate(chip.faults.broken_links):
        if not g.has_edge(a, b):
            raise SpecError(f"faults.broken_links[{i}]",
                            f"cores {a} and {b} are not linked in {where}, so their link "
                            "cannot be broken")
        g.remove_edge(a, b)
    return g


def chip_pairs(chip: ChipSpec) -> list[tuple[int, int]]:
    """The pairs of chips joined by a chip-to-chip link, ``(a, b)`` with ``a < b``, sorted.

    Examples
    --------
    >>> from chipsim.spec import hermes, override
    >>> chip_pairs(override(override(hermes(), "system.chips", 4), "system.topology", "ring"))
    [(0, 1), (0, 3), (1, 2), (2, 3)]
    >>> chip_pairs(override(override(hermes(), "system.chips", 4), "system.topology", "mesh"))
    [(0, 1), (0, 2), (1, 3), (2, 3)]
    """
    sysm = chip.system
    n = sysm.chips
    topo = sysm.topology
    if topo is ChipTopology.FILE:
        pairs = _read_edge_list(Path(str(sysm.graph_file)), n, "system.graph_file", "chip")
    elif topo is ChipTopology.ALL_TO_ALL:
        pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    elif topo is ChipTopology.MESH:
        mcols = mesh_shape(sysm)[1]
        pairs = [(k, k + 1) for k in range(n) if k % mcols + 1 < mcols and k + 1 < n]
        pairs += [(k, k + mcols) for k in range(n) if k + mcols < n]
    else:
        pairs = [(k, k + 1) for k in range(n - 1)]
        if topo is ChipTopology.RING and n > 2:
            pairs.append((0, n - 1))
    return sorted({(min(a, b), max(a, b)) for a, b in pairs})


def mesh_shape(sysm: SystemSpec) -> tuple[int, int]:
    """Rows and columns of chips of a ``mesh`` system: ``system.mesh_cols`` per row, or the
    most square grid with at least as many columns as rows (the last row may be short).

    Examples
    --------
    >>> mesh_shape(SystemSpec(chips=6)), mesh_shape(SystemSpec(chips=5, mesh_cols=2))
    ((2, 3), (3, 2))
    """
    n = sysm.chips
    cols = sysm.mesh_cols or next(c for c in range(math.isqrt(n), n + 1) if n % c == 0
                                  and c >= n // c)
    return -(-n // cols), cols


def chip_links(chip: ChipSpec) -> list[tuple[int, int]]:
    """The chip-to-chip links of a system as pairs of system-wide core ids (the two cores the
    link joins), in the order of :func:`chip_pairs`.

    Where a link meets a chip (UNCONFIRMED: a design choice, as no multi-chip system of the
    reference chip exists): in a ring or a line, the link to the previous chip at the core in
    the middle of the chip's west edge, to the next at the middle of its east edge; in a mesh,
    the middle core of the edge that faces the neighbour; otherwise (all-to-all, file) the
    chip's links are spread evenly around the edge of the grid, clockwise from the top-left
    core, in the order of the neighbours' ids.

    Examples
    --------
    >>> from chipsim.spec import hermes, override
    >>> chip_links(override(hermes(), "system.chips", 2))
    [(39, 96)]
    """
    rows, cols = chip.grid
    n = chip.cores_per_chip
    pairs = chip_pairs(chip)
    topo = chip.system.topology
    mid = rows // 2

    def edge(k: int, side: str) -> int:
        r, c = {"W": (mid, 0), "E": (mid, cols - 1), "N": (0, cols // 2),
                "S": (rows - 1, cols // 2)}[side]
        return k * n + core_id(r, c, chip.grid)

    if topo in (ChipTopology.RING, ChipTopology.LINE):
        last = chip.chips - 1
        out = []
        for a, b in pairs:
            if (a, b) == (0, last) and last > 1:   # the ring's closing link
                out.append((edge(a, "W"), edge(b, "E")))
            else:
                out.append((edge(a, "E"), edge(b, "W")))
        return out
    if topo is ChipTopology.MESH:
        mcols = mesh_shape(chip.system)[1]
        return [(edge(a, "S"), edge(b, "N")) if b == a + mcols else (edge(a, "E"), edge(b, "W"))
                for a, b in pairs]
    ring = _perimeter(rows, cols)
    nbrs: dict[int, list[int]] = {}
    for a, b in pairs:
        nbrs.setdefault(a, []).append(b)
        nbrs.setdefault(b, []).append(a)

    def port(k: int, other: int) -> int:
        mine = sorted(nbrs[k])
        j = mine.index(other)
        return k * n + ring[(2 * j + 1) * len(ring) // (2 * len(mine))]

    return [(port(a, b), port(b, a)) for a, b in pairs]


def chip_routes(graph: nx.Graph, chip: ChipSpec) -> tuple[dict[tuple[int, int], tuple[int, int]],
                                                         dict[tuple[int, int], tuple[int, ...]]]:
    """The chip-to-chip links of a system's ``graph`` (:func:`build_graph`, broken links left
    out) and the chips a route crosses between every two chips that a path joins.

    Returns ``links``: ``(chip a, chip b)`` → ``(core on a, core on b)`` of the link from
    ``a`` to ``b``; and ``paths``: ``(a, b)`` → the chips from ``a`` to ``b``, the fewest
    links, breadth-first with the lower chip ids first (how routes between chips are set:
    :class:`~chipsim.timing.links.Network` and the mapper's placement both use them).

    Examples
    --------
    >>> from chipsim.spec import hermes, override
    >>> s = override(hermes(), "system.chips", 4)
    >>> links, paths = chip_routes(build_graph(s), s)
    >>> links[(0, 1)], paths[(0, 2)], paths[(3, 1)]
    ((39, 96), (0, 1, 2), (3, 0, 1))
    """
    per = chip.cores_per_chip
    links: dict[tuple[int, int], tuple[int, int]] = {}
    for u, v, data in graph.edges(data=True):
        if data.get("c2c"):
            links[(u // per, v // per)] = (u, v)
            links[(v // per, u // per)] = (v, u)
    adj: dict[int, list[int]] = {k: [] for k in range(chip.chips)}
    for a, b in sorted(links):
        adj[a].append(b)
    paths: dict[tuple[int, int], tuple[int, ...]] = {}
    for a in range(chip.chips):
        pred = {a: a}
        queue = [a]
        for c in queue:
            for d in adj[c]:
                if d not in pred:
                    pred[d] = c
                    queue.append(d)
        for b in queue[1:]:
            path = [b]
            while path[-1] != a:
                path.append(pred[path[-1]])
            paths[(a, b)] = tuple(path[::-1])
    return links, paths


def _perimeter(rows: int, cols: int) -> list[int]:
    """The cores on the edge of a grid, clockwise from the top-left one."""
    cells = [(0, c) for c in range(cols)]
    cells += [(r, cols - 1) for r in range(1, rows)]
    if rows > 1:
        cells += [(rows - 1, c) for c in range(cols - 2, -1, -1)]
    if cols > 1:
        cells += [(r, 0) for r in range(rows - 2, 0, -1)]
    seen: dict[int, None] = {}
    for r, c in cells:
        seen.setdefault(core_id(r, c, (rows, cols)), None)
    return list(seen)


def _system_graph(chip: ChipSpec) -> nx.Graph:
    one = replace(chip, system=SystemSpec(), faults=FaultSpec())
    base = build_graph(one)
    n = chip.cores_per_chip
    g = nx.Graph(chip=chip.name, grid=None, topology=chip.network.topology.value,
                 chips=chip.chips, chip_grid=chip.grid)
    for k in range(chip.chips):
        for v, data in base.nodes(data=True):
            g.add_node(k * n + v, pos=data["pos"], chip=k)
    for k in range(chip.chips):
        for a, b, data in base.edges(data=True):
            g.add_edge(k * n + a, k * n + b, **data)
    sysm = chip.system
    for a, b in chip_links(chip):
        g.add_edge(a, b, bandwidth_gbps=sysm.link_bandwidth_gbps,
                   latency_ps=round(sysm.link_latency_ns * 1000), c2c=True)
    return _break_links(g, chip, "the system")


def _grid_edges(rows: int, cols: int, topology: Topology) -> list[tuple[int, int]]:
    grid = (rows, cols)
    edges: set[tuple[int, int]] = set()

    def link(r0: int, c0: int, r1: int, c1: int) -> None:
        a, b = core_id(r0, c0, grid), core_id(r1, c1, grid)
        if a != b:
            edges.add((min(a, b), max(a, b)))

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                link(r, c, r, c + 1)
            if r + 1 < rows:
                link(r, c, r + 1, c)
            if topology is Topology.HERMES_GRID and r + 1 < rows and c + 1 < cols:
                link(r, c, r + 1, c + 1)
            if topology is Topology.TORUS:
                if c == cols - 1:
                    link(r, c, r, 0)
                if r == rows - 1:
                    link(r, c, 0, c)
    return sorted(edges)


def _read_edge_list(path: Path, n_cores: int, field: str = "network.graph_file",
                    what: str = "core") -> list[tuple[int, int]]:
    kind = _EDGE_LIST if field == "network.graph_file" else _CHIP_EDGE_LIST
    text = read_text(path, kind)
    edges = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        parts = line.split()
        where = f"{path}, line {lineno}"
        if len(parts) != 2:
            raise SpecError(field,
                            f"{where}: expected two {what} ids 'a b', got {brief(raw.strip())}")
        try:
            a, b = int(parts[0]), int(parts[1])
        except ValueError:
            raise SpecError(field,
                            f"{where}: {what} ids must be integers, got {brief(raw.strip())}"
                            ) from None
        for v in (a, b):
            if not 0 <= v < n_cores:
                whole = "chip" if what == "core" else "system"
                raise SpecError(field, f"{where}: {what} id {brief(v)} is not on the {whole} "
                                f"(0..{n_cores - 1})")
        if a == b:
            raise SpecError(field, f"{where}: a link joins two different "
                            f"{what}s, got {a} to itself")
        edges.append((a, b))
    return edges
