"""The compiled link calendars book exactly as the engine's Python links do."""

import numpy as np
import pytest

from chipsim.cost.latency import Latencies
from chipsim.mapping import map_workload
from chipsim.models import resolve_model
from chipsim.spec import hermes
from chipsim.timing import TimingConfig, TransportMode, run_plan
from chipsim.timing.calendar import Calendars
from chipsim.timing.links import Network
from chipsim.timing.run import plan_of


def _arrays(net: Network, tree: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A tree of :meth:`Network.tree` as link ids and feeder positions."""
    ids = {lk.name: i for i, lk in enumerate(_links(net))}
    links = np.array([ids[lk.name] for lk in tree[0]], dtype=np.int64)
    return links, np.array(tree[1], dtype=np.int64) + 1


def _links(net: Network) -> list:
    return list(net.links.values()) + [net.to_chip, net.from_chip]


def _calendars(net: Network, capacity: int) -> Calendars:
    lks = _links(net)
    return Calendars(np.array([lk.value_ps for lk in lks]),
                     np.array([lk.latency_ps for lk in lks]), capacity=capacity)


def _same_state(net: Network, cal: Calendars) -> None:
    for i, lk in enumerate(_links(net)):
        assert (int(cal.busy_ps[i]), int(cal.peak[i])) == (lk.busy_ps, lk.peak_queue), lk.name
        assert cal.bookings(i) == (lk._starts, lk._ends), lk.name
        if not lk._ends:
            assert int(cal.last_end[i]) == lk.last_end, lk.name


@pytest.mark.parametrize("seed", range(6))
def test_random_trees_book_as_the_python_links(seed):
    """Random multicast trees between cores and the host, streams that start before, at and
    after the bookings already made (gaps found, bookings forgotten), times moving forward;
    a small capacity so that rows compact and grow."""
    rng = np.random.default_rng(seed)
    chip = hermes()
    net = Network(chip, Latencies.of(chip))
    cal = _calendars(net, capacity=4)
    nodes = list(range(chip.n_cores))
    now = 0
    for _ in range(3000):
        now += int(rng.integers(0, 4)) * int(rng.integers(0, 20_000))
        src = "host" if rng.random() < 0.1 else int(rng.choice(nodes))
        count = int(rng.integers(1, 7))
        dsts = tuple(int(d) for d in rng.choice([c for c in nodes if c != src], count,
                                                 replace=False))
        if src == "host":
            dsts = dsts[:1] if rng.random() < 0.5 else dsts
        tree = net.tree(src, dsts)
        first = now + int(rng.integers(-5, 60)) * 2_500 if rng.random() < 0.9 else now
        first = max(first, 0)
        n = int(rng.integers(1, 300))
        last = first + int(rng.integers(0, 3)) * int(rng.integers(0, n * 3_000 + 1))
        fs, ls = net.transfer_tree(now, tree, first, last, n)
        links, feeder = _arrays(net, tree)
        cfs, cls = cal.transfer_tree(now, links, feeder, first, last, n)
        assert (cfs.tolist(), cls.tolist()) == (fs, ls)
    _same_state(net, cal)
    assert cal.starts.shape[1] > 4  # rows grew


def test_a_network_run_replayed_books_the_same():
    """Every tree booking of a ResNet-9 run on chip (replicated: contention on the links) on
    the SimPy engine, replayed on the compiled calendars in the same order, gives the same
    arrivals and the same link statistics."""
    chip = hermes()
    layers = resolve_model("resnet9").workload.lowered()
    mapping = map_workload(layers, chip, replicate=True, seed=0)
    calls, nets = [], []
    original = Network.transfer_tree

    def logged(self, now, tree, first, last, n):
        if not nets:
            nets.append(self)
        fs, ls = original(self, now, tree, first, last, n)
        calls.append((now, tree, first, last, n, list(fs), list(ls)))
        return fs, ls

    Network.transfer_tree = logged
    try:
        cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=2)
        run_plan(plan_of(mapping, layers, chip, cfg), chip, cfg, reference=True)
    finally:
        Network.transfer_tree = original
    net = nets[0]
    fresh = Network(chip, Latencies.of(chip))
    cal = _calendars(fresh, capacity=8)
    for now, tree, first, last, n, fs, ls in calls:
        links, feeder = _arrays(net, tree)
        cfs, cls = cal.transfer_tree(now, links, feeder, first, last, n)
        assert (cfs.tolist(), cls.tolist()) == (fs, ls)
    assert len(calls) > 1000
    for i, lk in enumerate(_links(net)):
        assert (int(cal.busy_ps[i]), int(cal.peak[i])) == (lk.busy_ps, lk.peak_queue), lk.name
    assert max(lk.peak_queue for lk in _links(net)) > 1  # bookings did overlap in time
