"""The system spec, its graph of chips and chip-to-chip links, and routes across chips."""

from __future__ import annotations

import pytest

from chipsim.cost.latency import Latencies
from chipsim.noc import build_graph
from chipsim.noc.topology import chip_links, chip_pairs
from chipsim.spec import MAX_CORES, SpecError, hermes, hermes16, override, resolve_chip
from chipsim.timing.config import TimingError
from chipsim.timing.links import Network


def system(n: int, topology: str = "ring", chip=None):
    s = override(chip or hermes16(), "system.chips", n)
    return override(s, "system.topology", topology)


def test_cores_and_chips():
    s = system(3)
    assert (s.n_cores, s.cores_per_chip, s.chips, s.chip_of(15), s.chip_of(16),
            s.chip_of(47)) == (48, 16, 3, 0, 1, 2)
    assert s.weights_capacity == 3 * hermes16().weights_capacity


def test_resolve_n_times_a_preset():
    assert resolve_chip("4xhermes").n_cores == 256
    assert resolve_chip("2×hermes16").chips == 2
    with pytest.raises(SpecError, match="a system has 1..256 chips, got 0"):
        resolve_chip("0xhermes")


def test_too_many_cores_names_the_chips():
    with pytest.raises(SpecError, match=f"65 chips of 64 cores are 4160 cores; a system has "
                                        f"at most {MAX_CORES}"):
        override(hermes(), "system.chips", 65)


def test_file_topology_needs_a_file_and_mesh_cols_fit():
    with pytest.raises(SpecError, match="system.graph_file: is required"):
        system(3, "file")
    with pytest.raises(SpecError, match=r"system.mesh_cols: must be <= chips \(2\), got 3"):
        override(system(2, "mesh"), "system.mesh_cols", 3)


@pytest.mark.parametrize("topology, pairs", [
    ("ring", [(0, 1), (0, 3), (1, 2), (2, 3)]),
    ("line", [(0, 1), (1, 2), (2, 3)]),
    ("mesh", [(0, 1), (0, 2), (1, 3), (2, 3)]),
    ("all_to_all", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
])
def test_chip_pairs(topology, pairs):
    assert chip_pairs(system(4, topology)) == pairs


def test_a_two_chip_ring_is_one_link():
    assert chip_pairs(system(2)) == [(0, 1)]


def test_graph_of_a_system(tmp_path):
    s = system(3)
    g = build_graph(s)
    one = build_graph(hermes16())
    assert g.number_of_nodes() == 48
    c2c = [(a, b) for a, b, d in g.edges(data=True) if d.get("c2c")]
    assert sorted(c2c) == sorted(tuple(sorted(p)) for p in chip_links(s))
    assert g.number_of_edges() == 3 * one.number_of_edges() + 3
    for a, b in c2c:
        assert s.chip_of(a) != s.chip_of(b)
        assert g.edges[a, b]["latency_ps"] == 20_000
        assert g.edges[a, b]["bandwidth_gbps"] == 25.0


def test_ports_sit_on_the_facing_edges():
    # a line of 8x8 chips: the east edge's middle core to the next chip's west edge's
    assert chip_links(system(2, "line", hermes())) == [(4 * 8 + 7, 64 + 4 * 8)]


def test_file_topology_and_its_errors(tmp_path):
    f = tmp_path / "chips.txt"
    f.write_text("0 1\n1 2  # a comment\n")
    s = override(override(system(3), "system.graph_file", str(f)), "system.topology", "file")
    assert chip_pairs(s) == [(0, 1), (1, 2)]
    f.write_text("0 5\n")
    with pytest.raises(SpecError, match=r"system.graph_file: .*line 1: chip id 5 is not on "
                                        r"the system \(0..2\)"):
        build_graph(s)


def test_a_broken_chip_to_chip_link_is_left_out():
    s = system(3, "line")
    (a, b), _ = chip_links(s)
    cut = override(s, "faults.broken_links", [[a, b]])
    assert not build_graph(cut).has_edge(a, b)
    net = Network(cut, Latencies.of(cut))
    with pytest.raises(TimingError, match="no route from chip 0 to chip 1"):
        net.route(0, 20)


def test_routes_between_chips_cross_the_fewest_links():
    s = system(4)  # ring: chip 0 to chip 2 over two links
    net = Network(s, Latencies.of(s))
    route = net.route(0, 2 * 16 + 5)
    c2c = [lk for lk in route if lk.c2c]
    assert len(c2c) == 2
    assert all(lk.latency_ps == 20_000 for lk in c2c)
    chips = [s.chip_of(int(lk.name.split("->")[0])) for lk in route]
    assert chips[0] == 0 and s.chip_of(int(route[-1].name.split("->")[1])) == 2


def test_routes_within_a_chip_stay_on_it():
    # all-to-all over 16 chips puts ports next to one another; a detour over two other chips
    # would be fewer hops than crossing the chip, and must not be taken
    s = system(16, "all_to_all")
    net = Network(s, Latencies.of(s))
    pairs = chip_links(s)
    ports = sorted({a for a, _ in pairs if s.chip_of(a) == 0}
                   | {b for _, b in pairs if s.chip_of(b) == 0})
    for a in ports:
        for b in ports:
            assert not any(lk.c2c for lk in net.route(a, b))


def test_a_one_column_mesh_links_south_to_north():
    s = override(system(3, "mesh"), "system.mesh_cols", 1)
    assert chip_pairs(s) == [(0, 1), (1, 2)]
    # 4x4 chips: the middle of the south edge (3, 2) to the middle of the north edge (0, 2)
    assert chip_links(s) == [(14, 16 + 2), (16 + 14, 32 + 2)]
