"""The engine's fast paths agree with the plain computations they stand for."""

import random
from array import array
from bisect import bisect_right
from dataclasses import replace

import networkx as nx
import pytest

from chipsim.cost import Latencies
from chipsim.mapping import map_workload
from chipsim.mapping.dataflow import window
from chipsim.spec import FaultSpec, hermes, hermes16
from chipsim.timing import TimingConfig, TransportMode
from chipsim.timing.links import Link, Network
from chipsim.timing.plan import EdgePlan
from chipsim.timing.run import plan_of
from chipsim.timing.state import Busy
from chipsim.workload import build


def _intervals(rng: random.Random, n: int) -> list[tuple[int, int]]:
    out, t = [], 0
    for _ in range(n):
        t += rng.randrange(0, 20) if rng.random() < 0.9 else -rng.randrange(0, 20)
        s = max(t, 0)
        out.append((s, s + rng.randrange(0, 25)))
    return out


def test_busy_add_all_is_add_one_by_one():
    rng = random.Random(0)
    for _ in range(2000):
        pairs, gap = _intervals(rng, rng.randrange(0, 40)), rng.choice([0, 3, 2500])
        if rng.random() < 0.5:
            pairs.sort()
        one = Busy(gap)
        for s, e in pairs:
            one.add(s, e)
        folded, prev = Busy(gap), 0
        for cut in sorted(rng.sample(range(len(pairs) + 1), min(3, len(pairs) + 1))) + [
                len(pairs)]:
            folded.add_all(array("q", [x for p in pairs[prev:cut] for x in p]))
            prev = cut
        assert (folded.total, folded.first, folded.last) == (one.total, one.first, one.last)


def _plain_gap(starts, ends, vp, first, last_in, span):
    i, t = bisect_right(ends, first), first
    while True:
        end = max(last_in, t + span) + vp
        if i == len(starts) or end <= starts[i]:
            return t, end
        t = max(t, ends[i])
        i += 1


def test_a_link_books_the_earliest_gap_long_enough():
    rng = random.Random(1)
    for _ in range(5000):
        lk, t = Link("a->b", rng.choice([1, 5, 20]), 3), rng.randrange(0, 50)
        for _ in range(rng.randrange(1, 12)):
            s = t + rng.randrange(0, 30)
            t = s + rng.randrange(1, 40)
            lk._starts.append(s)
            lk._ends.append(t)
        first = rng.randrange(0, lk._ends[-1])
        last_in, span = first + rng.randrange(0, 100), rng.randrange(0, 80)
        want = _plain_gap(list(lk._starts), list(lk._ends), lk.value_ps, first, last_in, span)
        assert lk._book_gap(first, last_in, span) == want


@pytest.mark.parametrize("chip", [hermes16(), replace(hermes(), faults=FaultSpec(
    broken_links=((0, 1), (9, 18), (20, 28))))])
def test_routes_are_networkx_shortest_paths(chip):
    net = Network(chip, Latencies.of(chip))
    pairs = [(a, b) for a in net.graph for b in net.graph]
    random.Random(2).shuffle(pairs)  # searches that stop early, then go on
    paths = {a: nx.single_source_shortest_path(net.graph, a) for a in net.graph}
    for a, b in pairs:
        assert net._core_path(a, b) == paths[a][b]


def test_tree_counts_reach_the_links_when_settled():
    chip = hermes()
    net = Network(chip, Latencies.of(chip))
    tree = net.tree(0, (2, 10))
    net.transfer_tree(0, tree, 0, 0, 100)
    net.transfer_tree(0, tree, 0, 0, 50)
    assert all(lk.transfers == 0 for lk in tree[0])
    net.settle()
    assert all((lk.transfers, lk.bits) == (2, 150 * 8) for lk in tree[0])
    net.settle()
    assert all(lk.transfers == 2 for lk in tree[0])


@pytest.mark.parametrize("delivered, dst_vectors, halo", [
    (1024, 1024, 33), (256, 1024, 17), (64, 16, 5), (16, 1, 0), (7, 3, 2)])
def test_window_tables_are_the_windows(delivered, dst_vectors, halo):
    e = EdgePlan(0, "a", "b", "input", True, 1, delivered, halo, False, delivered,
                 dst_vectors, ())
    lo, m = e.windows()
    assert [(lo[k], m[k]) for k in range(dst_vectors)] == [
        window(k, delivered, dst_vectors, halo) for k in range(dst_vectors)]


def _plain_line_capacity(plan, edge, replica):
    e = plan.edges[edge]
    k0, k1 = plan.layers[e.dst].bands[replica], plan.layers[e.dst].bands[replica + 1]
    off, length = plan.line(edge, replica)
    arrival = plan._line_arrivals(e, off, length)
    lo = [e.window(k)[0] - off for k in range(k0, k1)]
    m = [e.window(k)[1] - off for k in range(k0, k1)]
    lo += [x + length for x in lo]
    m += [x + length for x in m]
    taken, t = [], 0
    for a, b in zip(lo, m, strict=True):
        t = max(t, max(arrival[a:b]))
        taken.append(t)
    need, v = max(b - a for a, b in zip(lo, m, strict=True)), 0
    for x in sorted(range(len(arrival)), key=arrival.__getitem__):
        while v < len(taken) and taken[v] < arrival[x]:
            v += 1
        if v < len(lo):
            need = max(need, x - lo[v] + 1)
    return need


def test_line_capacity_is_the_plain_count():
    chip = hermes()
    layers = build("resnet9", rng=None).lowered()
    plan = plan_of(map_workload(layers, chip, replicate=True, seed=0), layers, chip,
                   TimingConfig(transport=TransportMode.ONCHIP))
    assert plan.lines
    for edge, rep in plan.lines:
        assert plan.line_capacity(edge, rep) == _plain_line_capacity(plan, edge, rep)
