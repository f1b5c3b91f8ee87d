"""Build the core-to-core link graph of a chip from its :class:`~chipsim.spec.NetworkSpec`.

Cores are numbered row-major on ``chip.grid``: core ``r * grid_cols + c`` sits at row ``r``,
column ``c``. The graph is undirected (every link carries traffic both ways) and carries the
link parameters as edge attributes, so the mapper (hop counts) and, later, the timing model
(routes, link delays) read one structure.
"""

from __future__ import annotations

import functools
from pathlib import Path

import networkx as nx

from ..errors import brief
from ..inputs import FileKind, read_text
from ..spec import ChipSpec, SpecError, Topology

__all__ = ["build_graph", "core_id", "core_pos"]

_EDGE_LIST = FileKind("edge list", error=functools.partial(SpecError, "network.graph_file"))


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
    for i, (a, b) in enumerate(chip.faults.broken_links):
        if not g.has_edge(a, b):
            raise SpecError(f"faults.broken_links[{i}]",
                            f"cores {a} and {b} are not linked in the {net.topology.value} "
                            "network, so their link cannot be broken")
        g.remove_edge(a, b)
    return g


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


def _read_edge_list(path: Path, n_cores: int) -> list[tuple[int, int]]:
    text = read_text(path, _EDGE_LIST)
    edges = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        parts = line.split()
        where = f"{path}, line {lineno}"
        if len(parts) != 2:
            raise SpecError("network.graph_file",
                            f"{where}: expected two core ids 'a b', got {brief(raw.strip())}")
        try:
            a, b = int(parts[0]), int(parts[1])
        except ValueError:
            raise SpecError("network.graph_file",
                            f"{where}: core ids must be integers, got {brief(raw.strip())}"
                            ) from None
        for v in (a, b):
            if not 0 <= v < n_cores:
                raise SpecError("network.graph_file", f"{where}: core id {brief(v)} is not on "
                                f"the chip (0..{n_cores - 1})")
        if a == b:
            raise SpecError("network.graph_file", f"{where}: a link joins two different "
                            f"cores, got {a} to itself")
        edges.append((a, b))
    return edges
