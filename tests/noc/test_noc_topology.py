"""The core link graph: node/edge counts of the grid topologies and edge-list files."""

import dataclasses

import networkx as nx
import pytest

from chipsim.noc import build_graph, core_id, core_pos
from chipsim.spec import ChipSpec, NetworkSpec, SpecError, Topology, hermes


def chip_with(topology, grid=(8, 8), graph_file=None):
    net = NetworkSpec(topology=topology, graph_file=graph_file)
    return dataclasses.replace(hermes(), grid=grid, network=net,
                               gdpu_after_row=min(4, grid[0]))


@pytest.mark.parametrize(("topology", "edges", "max_degree", "min_degree"), [
    (Topology.MESH, 2 * 8 * 7, 4, 2),
    (Topology.TORUS, 2 * 8 * 8, 4, 4),
    (Topology.HERMES_GRID, 2 * 8 * 7 + 7 * 7, 6, 2),
])
def test_grid_topologies_on_8x8(topology, edges, max_degree, min_degree):
    g = build_graph(chip_with(topology))
    assert sorted(g.nodes) == list(range(64))
    assert g.number_of_edges() == edges
    degrees = [d for _, d in g.degree()]
    assert max(degrees) == max_degree and min(degrees) == min_degree
    assert nx.is_connected(g)
    assert g.nodes[core_id(2, 5, (8, 8))]["pos"] == (2, 5) == core_pos(21, (8, 8))
    for _, _, data in g.edges(data=True):
        assert data["bandwidth_gbps"] == pytest.approx(3.2)
        assert data["latency_cycles"] == 2


def test_hermes_grid_links_are_mesh_plus_one_diagonal():
    g = build_graph(hermes())
    assert g.has_edge(0, 9) and not g.has_edge(1, 8)     # (0,0)-(1,1) yes, (0,1)-(1,0) no
    assert sorted(g.neighbors(9)) == [0, 1, 8, 10, 17, 18]
    # the diagonal shortens one direction only: (0,0)->(7,7) is 7 hops, (0,7)->(7,0) is 14
    assert nx.shortest_path_length(g, 0, 63) == 7 and nx.diameter(g) == 14


def test_torus_edge_cases_have_no_duplicates_or_self_loops():
    assert build_graph(chip_with(Topology.TORUS, (1, 5))).number_of_edges() == 5
    assert build_graph(chip_with(Topology.TORUS, (2, 2))).number_of_edges() == 4
    assert build_graph(chip_with(Topology.TORUS, (1, 1))).number_of_edges() == 0


def test_edge_attributes_follow_the_network_spec():
    net = NetworkSpec(link_width_bits=16, link_clock_mhz=500.0, hop_latency_cycles=5)
    g = build_graph(dataclasses.replace(hermes(), network=net))
    _, _, data = next(iter(g.edges(data=True)))
    assert data == {"bandwidth_gbps": 8.0, "latency_cycles": 5}


def test_file_topology(tmp_path):
    f = tmp_path / "ring.txt"
    f.write_text("# a ring of 4 cores\n0 1\n1,2  # comma works\n\n2 3\n3 0\n0 1\n")
    g = build_graph(chip_with(Topology.FILE, (2, 2), str(f)))
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 4
    assert g.nodes[3]["pos"] == (1, 1)


@pytest.mark.parametrize(("text", "needle"), [
    ("0 1\n7\n", "line 2: expected two core ids"),
    ("0 1\n1 x\n", "line 2: core ids must be integers"),
    ("# x\n0 4\n", "line 2: core id 4 is not on the chip (0..3)"),
    ("0 -1\n", "line 1: core id -1 is not on the chip"),
    ("2 2\n", "line 1: a link joins two different cores"),
])
def test_bad_edge_list_lines_name_file_and_line(tmp_path, text, needle):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(SpecError) as info:
        build_graph(chip_with(Topology.FILE, (2, 2), str(f)))
    assert needle in str(info.value) and str(f) in str(info.value)


def test_missing_edge_list_file(tmp_path):
    f = tmp_path / "nope.txt"
    with pytest.raises(SpecError, match="nope.txt: cannot read the edge list: No such file"):
        build_graph(chip_with(Topology.FILE, (2, 2), str(f)))


def test_graph_is_plain_networkx():
    g = build_graph(ChipSpec(grid=(3, 3), gdpu_after_row=1))
    assert type(g) is nx.Graph and g.graph["topology"] == "hermes_grid"
