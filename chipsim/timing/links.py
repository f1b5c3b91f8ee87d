"""Links as resources with bandwidth and latency, and routes computed once from the graph.

Each edge of the core graph (:func:`chipsim.noc.build_graph`) becomes two directed links
(full duplex, UNCONFIRMED: [LG] says each core transmits to and receives from its
neighbours). A GDPU slice is a node linked both ways to the core above it, which feeds it
([LG] §III), and to the core below it (UNCONFIRMED). A digital attention unit
(``chip.attention``) is a node linked both ways to the cores above and below it
(:func:`attention_attach`); data reach it through whichever of the two is nearer. The host is
reached over two off-chip channels (to and from the chip) that every core and attention unit
reaches directly (a chip-level I/O bus, not the core network: UNCONFIRMED; the off-chip
bandwidth is the bottleneck).

A :class:`Link` is a FIFO resource kept as a calendar: a transfer reserves each link of its
route (a multicast tree for several destinations) from the time its first value can take the
link until its last value has crossed it, one value per link period; a transfer that finds a
link busy waits for it, and the values behind wait at the router (virtual cut-through). Routes
are set before the run, as on the chip. Reservations are made at the simulated time the
sender starts, so transfers are served in the order they are ready.

Examples
--------
>>> from chipsim.cost.latency import Latencies
>>> from chipsim.spec import hermes
>>> chip = hermes()
>>> net = Network(chip, Latencies.of(chip))
>>> [lk.name for lk in net.route(0, 2)]
['0->1', '1->2']
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import networkx as nx

from ..cost.latency import Latencies
from ..noc import build_graph
from ..noc.topology import chip_routes
from ..spec import ChipSpec, HostLinkSpec
from .config import TimingError
from .stream import Stream

__all__ = ["HOST", "Link", "Network", "gdpu_node", "attention_node", "attention_attach",
           "node_name"]

HOST = "host"
"""Node name of the off-chip host."""


def gdpu_node(slice_: int) -> str:
    """Node name of GDPU slice ``slice_``."""
    return f"gdpu{slice_}"


def attention_node(unit: int) -> str:
    """Node name of digital attention unit ``unit``."""
    return f"attn{unit}"


def attention_attach(chip: ChipSpec, unit: int) -> tuple[int | None, int | None]:
    """The cores above and below attention unit ``unit`` (None past the grid's edge): the
    unit sits between core rows ``attention.after_row - 1`` and ``attention.after_row``, under
    column ``(2·unit + 1)·columns // (2·units)`` (the units spread evenly over the columns).

    Examples
    --------
    >>> from chipsim.spec import hermes_attn
    >>> [attention_attach(hermes_attn(), u) for u in range(4)]
    [(25, 33), (27, 35), (29, 37), (31, 39)]
    """
    rows, cols = chip.grid
    after, units = chip.attention.after_row, chip.attention.units
    col = (2 * unit + 1) * cols // (2 * units)
    return ((after - 1) * cols + col if after > 0 else None,
            after * cols + col if after < rows else None)


def node_name(node) -> str:
    """A node in words: ``core 3``, ``GDPU slice 0``, ``attention unit 1``, ``host``."""
    if not isinstance(node, str):
        return f"core {node}"
    if node == HOST:
        return HOST
    return f"{'GDPU slice' if node.startswith('gdpu') else 'attention unit'} {node[4:]}"


class Link:
    """One directed link: a calendar of reservations with transfer statistics.

    A transfer books the link from the moment its first value can take it; it goes into the
    earliest idle gap of the calendar that is long enough, so a link serves transfers in the
    order their data reach it, whatever order they were booked in.

    Attributes
    ----------
    name
        ``"a->b"``.
    value_ps, latency_ps
        Serialisation time of one value and latency of the hop.
    busy_ps, bits, transfers, peak_queue
        Time reserved, bits carried, transfers and the most transfers holding or waiting for
        the link at once (booked and not finished when another was booked). The transfers
        and bits of :meth:`Network.transfer_tree` are counted per tree and added to the
        links by :meth:`Network.settle` (those of :meth:`Network.transfer` at once).
    noc
        True for a link of the core network, a GDPU slice or an attention unit, False for
        an off-chip channel.
    c2c
        True for a chip-to-chip link of a system (also ``noc``: it joins two cores).
    """

    __slots__ = ("name", "value_ps", "latency_ps", "busy_ps", "bits", "transfers",
                 "peak_queue", "noc", "c2c", "_last_end", "_starts", "_ends")

    def __init__(self, name: str, value_ps: int, latency_ps: int, noc: bool = True,
                 c2c: bool = False):
        self.name = name
        self.value_ps = value_ps
        self.latency_ps = latency_ps
        self.noc = noc
        self.c2c = c2c
        self.busy_ps = 0
        self.bits = 0
        self.transfers = 0
        self.peak_queue = 0
        self._last_end = 0  # end of the last booking forgotten
        self._starts: list[int] = []
        self._ends: list[int] = []

    @property
    def last_end(self) -> int:
        """End of the latest booking (ps): the last of the calendar, which is in order."""
        return self._ends[-1] if self._ends else self._last_end

    def book(self, now: int, first: int, last_in: int, span: int) -> tuple[int, int]:
        """Book the link for a stream whose first value is there at ``first``, whose last is
        there at ``last_in``, and that needs ``span`` between first and last value at the
        link's rate; returns ``(start, end)`` of the booking."""
        starts, ends = self._starts, self._ends
        self.transfers += 1
        if ends:
            if ends[0] <= now:  # forget bookings that are over
                k = bisect_right(ends, now)
                self._last_end = ends[k - 1]
                del starts[:k], ends[:k]
            if ends and first < ends[-1]:  # may go into a gap between bookings
                return self._book_gap(first, last_in, span)
        # after every booking: the stream takes the link as it comes
        end = (last_in if last_in > first + span else first + span) + self.value_ps
        starts.append(first)
        ends.append(end)
        self.busy_ps += end - first
        if len(ends) > self.peak_queue:
            self.peak_queue = len(ends)
        return first, end

    def _book_gap(self, first: int, last_in: int, span: int) -> tuple[int, int]:
        """:meth:`book` when bookings end after ``first``: the earliest gap long enough (the
        caller counts the transfer)."""
        starts, ends = self._starts, self._ends
        vp = self.value_ps
        n = len(starts)
        i = bisect_right(ends, first)  # the first booking that ends after ``first``
        t = first
        # the stream fits before booking i if starts[i] >= max(last_in, t + span) + vp; the
        # bookings do not overlap and are in order, so past i it can start only at an end
        if i < n and (starts[i] < last_in + vp or starts[i] < first + span + vp):
            i = bisect_left(starts, last_in + vp, i + 1)  # the earliest that the last allows
            gap = span + vp
            while i < n and starts[i] - ends[i - 1] < gap:
                i += 1
            t = ends[i - 1]
        end = max(last_in, t + span) + vp
        starts.insert(i, t)
        ends.insert(i, end)
        self.busy_ps += end - t
        if len(ends) > self.peak_queue:
            self.peak_queue = len(ends)
        return t, end


class _Bfs:
    """A breadth-first search from ``source`` that goes only as far as asked: the paths of
    ``networkx.single_source_shortest_path``, which visits the nodes in the same order."""

    __slots__ = ("adj", "pred", "queue", "done")

    def __init__(self, adj: dict, source) -> None:
        self.adj = adj
        self.pred = {source: None}  # each node's predecessor on its path
        self.queue = [source]
        self.done = 0  # nodes of the queue whose neighbours have been seen

    def reach(self, node) -> dict:
        """Search until ``node`` is found (or everything is); the predecessors so far."""
        adj, pred, queue = self.adj, self.pred, self.queue
        while node not in pred and self.done < len(queue):
            for w in adj[queue[self.done]]:
                if w not in pred:
                    pred[w] = queue[self.done]
                    queue.append(w)
            self.done += 1
        return pred


class Network:
    """The chip's links and the routes between its cores, GDPU slices, attention units and
    the host.

    Parameters
    ----------
    chip
        The chip; its graph comes from :func:`chipsim.noc.build_graph` unless ``graph`` is
        given.
    lat
        The chip's latencies.
    offchip
        The off-chip path (bandwidth and latency of each direction).
    graph
        A prebuilt core graph (nodes ``0 .. n-1``; edges with ``bandwidth_gbps`` and
        ``latency_cycles``; missing attributes take the network spec's values).
    """

    def __init__(self, chip: ChipSpec, lat: Latencies, offchip: HostLinkSpec | None = None,
                 graph: nx.Graph | None = None):
        self.chip = chip
        self.lat = lat
        self.graph = build_graph(chip) if graph is None else graph
        net = chip.network
        self.links: dict[tuple, Link] = {}
        for a, b, data in self.graph.edges(data=True):
            gbps = data.get("bandwidth_gbps", net.link_gbps)
            hop = (data["latency_ps"] if "latency_ps" in data
                   else lat.hop_ps(data.get("latency_cycles", net.hop_latency_cycles)))
            c2c = bool(data.get("c2c", False))
            for u, v in ((a, b), (b, a)):
                self.links[(u, v)] = Link(f"{u}->{v}", lat.value_ps(gbps), hop, c2c=c2c)
        # chip-to-chip links ((chip, chip) -> (core, core)) and the chips between two chips
        self.ports, self._chip_paths = (chip_routes(self.graph, chip) if chip.chips > 1
                                        else ({}, {}))
        # unit node -> (core above, core below) it is linked to
        self.attach: dict[str, tuple[int | None, int | None]] = {}
        rows, cols = chip.grid
        for k in range(chip.chips):  # every chip has its own slices and units
            base = k * chip.cores_per_chip

            def at(core: int | None, base: int = base) -> int | None:
                return None if core is None else base + core

            for s in range(chip.gdpu_slices):
                col = s % cols
                above = ((chip.gdpu_after_row - 1) * cols + col if chip.gdpu_after_row > 0
                         else None)
                below = chip.gdpu_after_row * cols + col if chip.gdpu_after_row < rows else None
                self.attach[gdpu_node(k * chip.gdpu_slices + s)] = (at(above), at(below))
            for u in range(chip.attention.units):
                above, below = attention_attach(chip, u)
                self.attach[attention_node(k * chip.attention.units + u)] = (at(above),
                                                                              at(below))
        for g, cores in self.attach.items():
            for c in cores:
                if c is None:
                    continue
                for u, v in ((c, g), (g, c)):
                    self.links[(u, v)] = Link(f"{u}->{v}", lat.value_ps(net.link_gbps),
                                              lat.hop_ps(net.hop_latency_cycles))
        off = offchip or chip.host
        off_value = lat.value_ps(off.bandwidth_gbps)
        off_lat = round(off.latency_ns * 1000)
        self.to_chip = Link("host->chip", off_value, off_lat, noc=False)
        self.from_chip = Link("chip->host", off_value, off_lat, noc=False)
        self._value_bits = lat.value_bits
        self._paths: dict = {}  # source core -> its _Bfs
        self._adj: dict | None = None
        self._routes: dict = {}
        self._trees: dict = {}

    # -- routes ---------------------------------------------------------------------------
    def _core_path(self, a: int, b: int) -> list[int]:
        chip = self.chip
        if chip.chips > 1 and chip.chip_of(a) != chip.chip_of(b):
            return self._system_path(a, b)
        search = self._paths.get(a)
        if search is None:
            search = self._paths[a] = _Bfs(self._adjacency(), a)
        pred = search.reach(b)
        if b not in pred:
            raise TimingError(f"no route from core {a} to core {b} in the "
                              f"{self.chip.network.topology.value} network")
        path = [b]
        while pred[path[-1]] is not None:
            path.append(pred[path[-1]])
        return path[::-1]

    def _system_path(self, a: int, b: int) -> list[int]:
        """Between chips, routes are hierarchical (as a system's routers are set): the
        fewest chip-to-chip links (breadth-first over the chips, lowest ids first), and on
        each chip the on-chip route to the link's core."""
        chip = self.chip
        ka, kb = chip.chip_of(a), chip.chip_of(b)
        chips = self._chip_route(ka, kb)
        path = [a]
        for k0, k1 in zip(chips, chips[1:], strict=False):
            out, into = self.ports[(k0, k1)]
            path += self._core_path(path[-1], out)[1:]
            path.append(into)
        return path + self._core_path(path[-1], b)[1:]

    def _chip_route(self, ka: int, kb: int) -> tuple[int, ...]:
        path = self._chip_paths.get((ka, kb))
        if path is None:
            raise TimingError(f"no route from chip {ka} to chip {kb}: no chip-to-chip link "
                              "joins them")
        return path

    def _adjacency(self) -> dict:
        """Each core's neighbours on its own chip (the chip-to-chip links are taken only by
        the routes between chips)."""
        if self._adj is None:
            of = self.chip.chip_of
            self._adj = {n: [m for m in nbrs if of(m) == of(n)]
                         for n, nbrs in self.graph.adjacency()}
        return self._adj

    def route(self, src, dst) -> tuple[Link, ...]:
        """The links from node ``src`` to node ``dst`` (cores, :func:`gdpu_node`,
        :func:`attention_node`, ``HOST``)."""
        key = (src, dst)
        if key not in self._routes:
            self._routes[key] = self._route(src, dst)
        return self._routes[key]

    def _route(self, src, dst) -> tuple[Link, ...]:
        if src == dst:
            return ()
        if dst == HOST:
            return (self.from_chip,)
        if src == HOST:
            return (self.to_chip,)
        if isinstance(dst, str):  # core -> unit: a GDPU slice through the core that feeds
            above, below = self.attach[dst]  # it, an attention unit through the nearer one
            if dst.startswith("gdpu"):
                feeder = above if above is not None else below
                return self._route(src, feeder) + (self.links[(feeder, dst)],)
            return self._nearest(src, dst, [((c, dst), src, c) for c in (above, below)
                                            if c is not None], before=True)
        if isinstance(src, str):  # unit -> core: out through the nearer neighbour
            return self._nearest(src, dst, [((src, c), c, dst) for c in self.attach[src]
                                            if c is not None], before=False)
        path = self._core_path(src, dst)
        return tuple(self.links[(u, v)] for u, v in zip(path, path[1:], strict=False))

    def _nearest(self, src, dst, hops: list, before: bool) -> tuple[Link, ...]:
        """The shortest of the routes made of a unit's link ``(a, b)`` and the core route
        ``(c0, c1)`` of each of ``hops`` (the link after the core route if ``before``, else
        first); the first of equal length."""
        best = None
        for link, c0, c1 in hops:
            try:
                core = self._route(c0, c1)
            except TimingError:  # broken links may cut one neighbour off
                continue
            r = core + (self.links[link],) if before else (self.links[link],) + core
            if best is None or len(r) < len(best):
                best = r
        if best is None:
            raise TimingError(f"no route from {node_name(src)} to {node_name(dst)} in the "
                              f"{self.chip.network.topology.value} network")
        return best

    def tree(self, src, dsts: tuple) -> tuple:
        """Multicast tree from ``src`` to ``dsts`` (the union of their routes), cached.

        Returns the links in an order where every link follows the link that feeds it, the
        index of each link's feeding link (-1: it leaves ``src``), each destination's last
        link (-1: the destination is ``src``), per link the tuple (link, position of the
        feeding link's far end in :meth:`transfer_tree`'s lists, value period, hop latency,
        calendar starts, calendar ends) :meth:`transfer_tree` walks, and the transfers and
        bits sent along the tree since the last :meth:`settle`.
        """
        key = (src, dsts)
        hit = self._trees.get(key)
        if hit is None:
            index: dict[int, int] = {}
            links: list[Link] = []
            parents: list[int] = []
            lasts = []
            for d in dsts:
                prev = -1
                for lk in self.route(src, d):
                    i = index.get(id(lk))
                    if i is None:
                        i = index[id(lk)] = len(links)
                        links.append(lk)
                        parents.append(prev)
                    prev = i
                lasts.append(prev)
            # (links, feeding link, last link of each destination, and per link what a
            # transfer needs: the link, its feeder's place, value period, hop latency, calendar)
            hops = tuple((lk, par + 1, lk.value_ps, lk.latency_ps, lk._starts, lk._ends)
                         for lk, par in zip(links, parents, strict=True))
            hit = (tuple(links), tuple(parents), tuple(lasts), hops, [0, 0])
            self._trees[key] = hit
        return hit

    # -- transfers ------------------------------------------------------------------------
    def transfer(self, now: int, src, dsts: tuple, stream: Stream) -> list[Stream]:
        """Send ``stream`` from ``src`` to every node of ``dsts``; its arrival at each.

        Hop by hop along the multicast tree (virtual cut-through): a link takes the stream's
        first value when that value has reached the link's source and the link is free, then
        one value per its period (or as they arrive); each value reaches the next node one
        period plus the hop latency later. Every link is reserved for its own window.
        """
        n = stream.n
        firsts, lasts = self.transfer_times(now, src, dsts, stream.first, stream.last, n)
        return [Stream(f, la, n) for f, la in zip(firsts, lasts, strict=True)]

    def transfer_times(self, now: int, src, dsts: tuple, first: int, last: int,
                       n: int) -> tuple[list[int], list[int]]:
        """:meth:`transfer` of ``n`` values whose first and last are ready at ``first`` and
        ``last``: the first and last arrival at each destination, as two lists."""
        hit = self._trees.get((src, dsts))
        if hit is None:
            hit = self.tree(src, dsts)
        fs, ls = self.transfer_tree(now, hit, first, last, n)
        self._settle(hit)
        at = self.positions(hit)
        return [fs[i] for i in at], [ls[i] for i in at]

    def transfer_tree(self, now: int, tree: tuple, first: int, last: int,
                      n: int) -> tuple[list[int], list[int]]:
        """:meth:`transfer_times` along a multicast ``tree`` of :meth:`tree` (a sender that
        keeps its trees saves looking them up): the first and last time the values are at
        ``src`` (position 0), then at the far end of each link of the tree (position
        ``i + 1`` for link ``i``; a destination's is at its last link, ``tree[2]``)."""
        span_n = n - 1 if n > 1 else 0
        sent = tree[4]
        sent[0] += 1
        sent[1] += n * self._value_bits
        fs = [first]
        ls = [last]
        for lk, par, vp, hop, starts, ends in tree[3]:
            f = fs[par]
            la = ls[par]
            if ends:  # forget bookings that are over
                if ends[-1] <= now:
                    lk._last_end = ends[-1]
                    starts.clear()
                    ends.clear()
                else:
                    if ends[0] <= now:
                        k = bisect_right(ends, now)
                        del starts[:k], ends[:k]
                    if f < ends[-1]:
                        start, end = lk._book_gap(f, la, span_n * vp)
                        fs.append(start + vp + hop)
                        ls.append(end + hop)
                        continue
            # Link.book's common case, inline: after every booking, the stream as it comes
            end = f + span_n * vp
            if la > end:
                end = la
            end += vp
            starts.append(f)
            ends.append(end)
            lk.busy_ps += end - f
            if len(ends) > lk.peak_queue:
                lk.peak_queue = len(ends)
            fs.append(f + vp + hop)
            ls.append(end + hop)
        return fs, ls

    @staticmethod
    def positions(tree: tuple) -> list[int]:
        """Where each destination of ``tree`` finds its arrival in the lists
        :meth:`transfer_tree` returns."""
        return [i + 1 for i in tree[2]]

    def settle(self) -> None:
        """Add the transfers and bits :meth:`transfer_tree` counted per tree to the links'
        own counts (:meth:`transfer` and :meth:`transfer_times` add theirs at once)."""
        for tree in self._trees.values():
            self._settle(tree)

    @staticmethod
    def _settle(tree: tuple) -> None:
        sent = tree[4]
        if sent[0]:
            for lk in tree[0]:
                lk.transfers += sent[0]
                lk.bits += sent[1]
            sent[0] = sent[1] = 0
