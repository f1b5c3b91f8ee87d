"""Property tests: partition, placement and routing invariants on chips with random faults.

For random small networks on a 16-core chip with random dead cores and broken links:
the mapping covers every weight once, on distinct working cores; and every route the timing
plan needs either exists and avoids the broken links (a contiguous path from source to
destination), or the error names two nodes that the broken links really disconnect.
"""

from __future__ import annotations

import re
from dataclasses import replace

import networkx as nx
from hypothesis import event, given, settings
from hypothesis import strategies as st

from chipsim.mapping import MappingError, map_workload
from chipsim.noc import build_graph
from chipsim.spec import FaultSpec, hermes16
from chipsim.timing import TimingConfig, TransportMode
from chipsim.timing.routes import check_routes
from chipsim.timing.run import plan_of
from chipsim.workload.lowered import LoweredLayer

CHIP = hermes16()
EDGES = sorted(build_graph(CHIP).edges)


@st.composite
def networks(draw):
    """1–3 linear layers in a chain, some with a residual from an earlier layer."""
    n = draw(st.integers(1, 3))
    layers = []
    prev_cols = draw(st.integers(1, 600))
    for i in range(n):
        rows = prev_cols if i else draw(st.integers(1, 600))
        cols = draw(st.integers(1, 600))
        sources = (f"l{i - 1}",) if i else ()
        residual = ()
        if i >= 2 and draw(st.booleans()):
            residual = (f"l{i - 2}",)
        layers.append(LoweredLayer(f"l{i}", "linear", rows, cols, draw(st.integers(1, 6)),
                                   sources, residual))
        prev_cols = cols
    return tuple(layers)


def _cut(row: int) -> list[tuple[int, int]]:
    """The links between core rows ``row`` and ``row + 1``: they split the chip in two."""
    cols = CHIP.grid[1]
    return [e for e in EDGES if min(e) // cols == row and max(e) // cols == row + 1]


@st.composite
def faulty_chips(draw):
    broken = draw(st.lists(st.sampled_from(EDGES), unique=True, max_size=12))
    if draw(st.booleans()):  # split the chip: some networks then need a route across
        broken = sorted(set(broken) | set(_cut(draw(st.integers(0, CHIP.grid[0] - 2)))))
    dead = draw(st.lists(st.integers(0, CHIP.n_cores - 1), unique=True, max_size=4))
    return replace(CHIP, faults=FaultSpec(dead_cores=tuple(sorted(dead)),
                                          broken_links=tuple(broken)))


def _node(text: str):
    kind, ident = text.rsplit(" ", 1)
    return int(ident) if kind == "core" else f"gdpu{ident}"


@settings(max_examples=50, deadline=None)
@given(layers=networks(), chip=faulty_chips(), seed=st.integers(0, 3),
       transport=st.sampled_from(list(TransportMode)))
def test_mapping_and_routes_respect_the_faults(layers, chip, seed, transport):
    try:
        m = map_workload(layers, chip, seed=seed)
    except MappingError as exc:  # more blocks than working cores
        assert "available" in str(exc)
        event("does not fit")
        return
    cores = [b.core for b in m.blocks]
    assert len(set(cores)) == len(cores)
    assert not set(cores) & set(chip.faults.dead_cores)
    for ly in layers:  # every weight on exactly one core
        area = sum((b.rows[1] - b.rows[0]) * (b.cols[1] - b.cols[0]) for b in m.blocks_of(ly.name))
        assert area == ly.rows * ly.cols
        for b in m.blocks_of(ly.name):
            assert b.rows[1] - b.rows[0] <= CHIP.core.rows
            assert b.cols[1] - b.cols[0] <= CHIP.core.cols
    graph = build_graph(chip)
    broken = {frozenset(e) for e in chip.faults.broken_links}
    plan = plan_of(m, layers, chip, TimingConfig(transport=transport))
    try:
        routes = check_routes(plan, chip)
    except MappingError as exc:
        found = re.search(r"no route from (core \d+|GDPU slice \d+) to (core \d+|GDPU slice "
                          r"\d+)", str(exc))
        assert found, str(exc)
        a, b = _node(found[1]), _node(found[2])
        assert isinstance(a, int) and isinstance(b, int)  # no GDPU in these networks
        assert not nx.has_path(graph, a, b)
        assert str(exc).startswith("layer 'l")
        event("disconnected")
        return
    event("routed")
    for (src, dst), links in routes.items():
        hops = [tuple(lk.name.split("->")) for lk in links]
        assert hops[0][0] == str(src) and hops[-1][1] == str(dst)
        assert all(x[1] == y[0] for x, y in zip(hops, hops[1:], strict=False))
        assert not any(frozenset(map(int, h)) in broken for h in hops)


@settings(max_examples=30, deadline=None)
@given(chip=faulty_chips(), src=st.integers(0, 15), dst=st.integers(0, 15))
def test_every_route_avoids_broken_links_or_is_a_clear_error(chip, src, dst):
    from chipsim.cost.latency import Latencies
    from chipsim.timing import TimingError
    from chipsim.timing.links import Network

    net = Network(chip, Latencies.of(chip))
    graph = build_graph(chip)
    try:
        route = net.route(src, dst)
    except TimingError as exc:
        assert f"no route from core {src} to core {dst}" in str(exc)
        assert not nx.has_path(graph, src, dst)
        return
    assert len(route) == (nx.shortest_path_length(graph, src, dst) if src != dst else 0)
    for lk in route:
        a, b = map(int, lk.name.split("->"))
        assert graph.has_edge(a, b)
