"""The shared state of one timing run: event kernel, ports, routes, counters.

The processes (:mod:`chipsim.timing.units`, :mod:`chipsim.timing.host`) only count actions
and move time stamps; every latency comes from :class:`~chipsim.cost.latency.Latencies`.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict

import numpy as np

from ..cost.latency import Latencies
from ..spec import ChipSpec
from .config import TimingConfig, TimingError
from .kernel import Env
from .links import HOST, Network, attention_node
from .plan import LSTM_GROUP, Plan
from .ports import Fifo, Port
from .stream import Stream

__all__ = ["Busy", "Counters", "SimState", "Send", "union_ps"]


class Busy:
    """Running union of a unit's busy intervals; gaps shorter than ``gap`` ps count as busy
    (a clock domain is not gated for less than a cycle). Intervals are added roughly in time
    order; one that starts before the current run merges into it."""

    __slots__ = ("gap", "start", "end", "closed", "first", "last")

    def __init__(self, gap: int = 0):
        self.gap = gap
        self.start: int | None = None
        self.end = 0
        self.closed = 0
        self.first: int | None = None
        self.last = 0

    def add(self, s: int, e: int) -> None:
        """Add the busy interval ``[s, e]``."""
        if self.start is None:
            self.start, self.end, self.first = s, e, s
        elif s <= self.end + self.gap:
            if e > self.end:
                self.end = e
            if s < self.start:
                self.start = s
        else:
            self.closed += self.end - self.start
            self.start, self.end = s, e
        if s < self.first:
            self.first = s
        if e > self.last:
            self.last = e

    @property
    def total(self) -> int:
        """Busy time so far (ps)."""
        return self.closed + (self.end - self.start if self.start is not None else 0)

    def add_all(self, spans: array) -> None:
        """:meth:`add` the intervals ``(spans[2i], spans[2i+1])``, in that order.

        Examples
        --------
        >>> b = Busy(gap=2)
        >>> b.add_all(array("q", [0, 10, 12, 20, 40, 50]))
        >>> b.total, b.first, b.last
        (30, 0, 50)
        """
        pairs = np.frombuffer(spans, dtype=np.int64).reshape(-1, 2).copy()  # spans may shrink
        if not len(pairs):
            return
        s, e = pairs[:, 0], pairs[:, 1]
        if (self.start is not None and s[0] < self.start) or np.any(s[1:] < s[:-1]):
            for x, y in pairs.tolist():  # out of order: one by one
                self.add(x, y)
            return
        if self.start is None:
            self.add(int(s[0]), int(e[0]))
            s, e = s[1:], e[1:]
        # in start order the current run ends at the reach so far, and a new one begins
        # where a start lies beyond it by more than the gap
        reach = np.maximum.accumulate(np.concatenate(([self.end], e)))
        new = s > reach[:-1] + self.gap
        starts = np.concatenate(([self.start], s[new]))
        self.closed += int((reach[:-1][new] - starts[:-1]).sum())
        self.start, self.end = int(starts[-1]), int(reach[-1])
        if len(e):
            self.last = max(self.last, int(e.max()))


def union_ps(starts: np.ndarray, ends: np.ndarray) -> tuple[int, int, int]:
    """``(total, first, last)`` of the union of the intervals ``[starts[i], ends[i]]`` (ps),
    in any order; ``(0, 0, 0)`` for none.

    Examples
    --------
    >>> union_ps(np.array([5, 0, 20]), np.array([10, 6, 30]))
    (20, 0, 30)
    """
    if not len(starts):
        return 0, 0, 0
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)  # end of the run so far
    gap = s[1:] > reach[:-1]  # a new run starts after a gap
    run_starts = np.concatenate([s[:1], s[1:][gap]])
    run_ends = np.concatenate([reach[:-1][gap], reach[-1:]])
    return int((run_ends - run_starts).sum()), int(s[0]), int(reach[-1])


class Counters:
    """Action counts and busy times, per core, GDPU slice and attention unit (plain lists:
    fast).

    The start of every MVM is kept per core (``mvm_starts``; calibration MVMs in
    ``gdc_spans``): the time during which any core computes an MVM is their union, taken
    once after the run (:meth:`mvm_active_ps`).
    """

    def __init__(self, n_cores: int, n_slices: int, digital_ps: int, n_units: int = 0):
        z = [0] * n_cores
        self.mvms = list(z)
        self.gdc_mvms = list(z)
        self.ops = list(z)
        self.pwm_row_phases = list(z)
        self.array_cell_phases = list(z)
        self.adc_conversions = list(z)
        self.ldpu_values = list(z)
        self.mvm_busy_ps = list(z)
        self.ldpu_busy_ps = list(z)
        # per core, the union of its busy intervals (its MVM unit's and its LDPU's), and the
        # (start, end) of those booked since it was last brought up to date (fold)
        self.busy = [Busy(digital_ps) for _ in range(n_cores)]
        self.spans = [array("q") for _ in range(n_cores)]
        self.digital = [False] * n_cores
        self.gdpu_inputs = [0] * n_slices
        self.gdpu_outputs = [0] * n_slices
        self.gdpu_busy_ps = [0] * n_slices
        self.gdpu_busy = [Busy(digital_ps) for _ in range(n_slices)]
        self.unit_vectors = [0] * n_units  # attention units: tokens out, MACs, ...
        self.unit_macs = [0] * n_units
        self.unit_ops = [0] * n_units
        self.unit_bytes = [0] * n_units
        self.unit_busy = [Busy(digital_ps) for _ in range(n_units)]
        self.mvm_starts = [array("q") for _ in range(n_cores)]  # 8 bytes per MVM
        self.gdc_spans: list[tuple[int, int]] = []
        self.timeline: list[tuple[int, int, int, str]] = []
        self.digital_first_ps: int | None = None
        self.digital_last_ps = 0

    def fold(self, core: int) -> None:
        """Add ``core``'s intervals booked since the last fold to its busy union."""
        spans = self.spans[core]
        self.busy[core].add_all(spans)
        del spans[:]

    def core_busy(self, core: int) -> Busy:
        """The union of ``core``'s busy intervals (its MVM unit's and its LDPU's)."""
        self.fold(core)
        return self.busy[core]

    def digital_span(self, start: int, end: int) -> None:
        """Extend the chip's digital activity to ``[start, end]``."""
        if self.digital_first_ps is None or start < self.digital_first_ps:
            self.digital_first_ps = start
        if end > self.digital_last_ps:
            self.digital_last_ps = end

    def mvm_active_ps(self, mvm_ps: int, cores: range | None = None) -> int:
        """Time (ps) during which at least one core (of ``cores``; default all) computes an
        MVM (each ``mvm_ps`` long) or a calibration."""
        chosen = self.mvm_starts if cores is None else [self.mvm_starts[c] for c in cores]
        starts = [np.frombuffer(s, dtype=np.int64) for s in chosen if len(s)]
        s = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        if self.gdc_spans:
            g = np.asarray(self.gdc_spans, dtype=np.int64)
            return union_ps(np.concatenate([s, g[:, 0]]), np.concatenate([s + mvm_ps, g[:, 1]]))[0]
        if not len(s):
            return 0
        # intervals of one length: after sorting, each adds the part before the next one starts
        s.sort()
        gaps = np.diff(s)
        np.minimum(gaps, mvm_ps, out=gaps)
        return int(gaps.sum()) + mvm_ps


class Send:
    """A planned transfer: destination nodes, their ports, values, the vector key, the edge
    it serves (-1: none) and the key's stride per inference (``mult``)."""

    __slots__ = ("dsts", "ports", "n", "key", "kind", "edge", "mult")

    def __init__(self, dsts: tuple, ports: tuple, n: int, key: int, kind: str,
                 edge: int = -1, mult: int = 0):
        self.dsts = dsts
        self.ports = ports
        self.n = n
        self.key = key
        self.kind = kind
        self.edge = edge
        self.mult = mult


class SimState:
    """Everything the processes of one run share."""

    def __init__(self, chip: ChipSpec, plan: Plan, cfg: TimingConfig, graph=None,
                 network: Network | None = None):
        self.env = Env()
        self.chip = chip
        self.plan = plan
        self.cfg = cfg
        self.n_inf = cfg.inferences
        self.lat = Latencies.of(chip)
        # a network given is fresh (no bookings) for chip.host: its routes serve again
        self.net = Network(chip, self.lat, chip.host, graph) if network is None else network
        n = chip.n_cores
        self.count = Counters(n, max(chip.gdpu_slices * chip.chips, 1), self.lat.digital_ps,
                              chip.attention.units * chip.chips)
        env = self.env
        self.mvm_free = [0] * n
        self.inp: dict[int, Port] = {}
        self.act: dict[tuple[int, int], Port] = {}
        self.psum: dict[int, Port] = {}
        self.res: dict[tuple[int, int], Port] = {}
        self.gdpu_port: dict[int, Port] = {}
        self.gdpu_fifo: dict[int, Fifo] = {}
        self.unit_port: dict[int, Port] = {}  # stage -> its input buffer on its unit
        self.unit_free = [0] * (chip.attention.units * chip.chips)  # when each unit is free
        # per stage, the time of each token k's work on its unit
        self.stage_ps = [tuple(w.cycles(chip.attention.macs_per_cycle) * self.lat.attention_ps
                               for w in stage.work) for stage in plan.stages]
        self.host_done: dict = defaultdict(env.event)
        self.host_count: dict[tuple[str, int], int] = defaultdict(int)
        self.host_time: dict[tuple[str, int], int] = defaultdict(int)
        self.inf_done = [env.event() for _ in range(self.n_inf)]
        self.inf_time: list[int | None] = [None] * self.n_inf
        self.inf_start: list[int | None] = [None] * self.n_inf
        self._sink_left = [len(plan.sinks) if any(plan.layers[s].to_host for s in plan.sinks)
                           else 0] * self.n_inf
        self.emit = [{last: j for j, last in enumerate(e.last_of)} for e in plan.edges]
        # unit -> what it waits for (diagnostics): a text, or (format, *arguments)
        self.blocked: dict[str, str | tuple] = {}
        self._build_ports()
        self._dest_cache: dict = {}
        # inferences after which the replica sharing of a stepped consumer repeats
        self.send_period = math.lcm(1, *(lp.replicas for lp in plan.layers.values()
                                         if lp.stepped))

    # -- ports ----------------------------------------------------------------------------
    def _build_ports(self) -> None:
        env, plan, buffers = self.env, self.plan, self.chip.buffers
        for core, b in plan.blocks.items():
            lp = plan.layers[b.layer]
            if lp.host_input:
                self.inp[core] = Port(env, buffers.input_vectors)
            _, pos = plan.chain_of[core]
            if pos > 0:
                self.psum[core] = Port(env, buffers.psum_vectors)
        via_unit = {stage.edge for stage in plan.stages}
        for e in plan.edges:
            if not e.onchip:
                if e.kind == "residual":
                    dst = plan.layers[e.dst]
                    for rep_chains in dst.chains:
                        for c in rep_chains:
                            end = plan.chains[c].cores[-1]
                            self.res[(end, e.index)] = Port(env, buffers.residual_vectors)
                continue
            src = plan.layers[e.src]
            dst = plan.layers[e.dst]
            if e.kind == "residual":
                for rep_chains in dst.chains:
                    for c in rep_chains:
                        ch = plan.chains[c]
                        pieces = sum(1 for sc in src.chains[0]
                                     if _overlap(_frac(plan.chains[sc].out, _feat(src)),
                                                 _frac(ch.cols, dst.cols)) > 0)
                        self.res[(ch.cores[-1], e.index)] = Port(
                            env, buffers.residual_vectors, max(pieces, 1))
                continue
            # input / recurrent: activation buffers of every consumer core
            lo, m = e.windows()
            need = max(b - a for a, b in zip(lo, m, strict=True))
            cap = buffers.activation_vectors
            if cap is not None and cap < need:
                raise TimingError(
                    f"buffers.activation_vectors: {cap} vectors are too few for edge {e.src} -> "
                    f"{e.dst}: a vector of {e.dst} needs {need} of {e.src}'s vectors at once")
            for rep, rep_groups in enumerate(dst.row_groups):
                if buffers.activation_vectors is None:
                    cap = self._line_capacity(e, need, rep)
                for rows, cores in rep_groups:
                    if e.index in via_unit:  # one piece: the attention unit's
                        pieces = 1
                    elif e.direct:
                        pieces = sum(1 for sc in src.chains[0]
                                     if _overlap(plan.chains[sc].out, rows) > 0)
                    else:
                        pieces = len(src.chains[0])
                    for core in cores:
                        self.act[(core, e.index)] = Port(env, cap, max(pieces, 1), window=True)
        for s in plan.gdpu_of.values():
            if s not in self.gdpu_port:
                self.gdpu_port[s] = Port(env, buffers.psum_vectors)
                self.gdpu_fifo[s] = Fifo(env)
        for stage in plan.stages:
            self.unit_port[stage.index] = Port(env, stage.capacity, stage.pieces, window=True)

    def _line_capacity(self, e, need: int, rep: int) -> int:
        """Default activation buffer of consumer replica ``rep`` on edge ``e``."""
        plan = self.plan
        if (e.index, rep) in plan.lines:  # a band: what its line needs in an ideal pipeline,
            return plan.line_capacity(e.index, rep) + 1  # and one vector of slack
        # stepped (time steps shared round-robin): the windows of the consumer's replicas
        # at work at once, and the spread of the producer's replicas, which deliver out of
        # order
        src, dst = plan.layers[e.src], plan.layers[e.dst]
        spread = (dst.replicas - 1) * e.delivered // max(e.dst_vectors, 1)
        return need + 1 + spread + (src.replicas - 1) // e.pool

    # -- destinations of a chain's output -------------------------------------------------
    def send_template(self, chain: int, k: int, phase: int) -> tuple:
        """The transfers of chain ``chain``'s output of the vector with index ``k`` in an
        inference ``i`` with ``i % send_period == phase``, as ``(kind, dsts, ports, n, mult,
        j, recurrent)``: the vector key is ``i · mult + j``; a recurrent transfer is left out
        after the last inference. Same content as :meth:`sends`, worked out once."""
        lp = self.plan.layers[self.plan.chains[chain].layer]
        out = []
        for snd in self.sends(chain, phase * lp.vectors + k, keep_recurrent=True):
            if snd.kind == "host":
                out.append(("host", snd.dsts, snd.ports, snd.n, lp.vectors, k, False))
            else:
                e = self.plan.edges[snd.edge]
                out.append((snd.kind, snd.dsts, snd.ports, snd.n, snd.mult,
                            snd.key - phase * snd.mult, e.kind == "recurrent"))
        return tuple(out)

    def sends(self, chain: int, g: int, keep_recurrent: bool = False) -> list[Send]:
        """Transfers that carry chain ``chain``'s output of vector ``g`` (after the GDPU for an
        LSTM layer): to consumer cores, residual adds and the host. The recurrent transfer
        after the last inference is left out unless ``keep_recurrent``."""
        plan = self.plan
        ch = plan.chains[chain]
        lp = plan.layers[ch.layer]
        i, k = divmod(g, lp.vectors)
        n_out = ch.out[1] - ch.out[0]
        out: list[Send] = []
        for ei in lp.out_edges:
            e = plan.edges[ei]
            if not e.onchip:
                continue
            j = self.emit[ei].get(k)
            if j is None:
                continue
            si = plan.stage_of.get(e.dst)
            if si is not None and plan.stages[si].edge == ei:  # through an attention unit
                out.append(Send((attention_node(plan.stages[si].unit),),
                                (self.unit_port[si],), n_out, g, "attn", ei, lp.vectors))
                continue
            if e.kind == "recurrent" and i + 1 >= self.n_inf and not keep_recurrent:
                continue
            dst = plan.layers[e.dst]
            k0, k1 = e.takers(j)
            if k1 <= k0:
                continue
            for rep in dst.owners(i + 1 if e.kind == "recurrent" else i, k0, k1):
                off, length = plan.line(ei, rep)
                key = i * length + j - off  # in the numbering of the receiving line
                for dsts, n, ports in self._dests(chain, ei, rep):
                    out.append(Send(dsts, ports, n, key, e.kind, ei, length))
        if lp.to_host:
            out.append(Send((HOST,), (), n_out, g, "host"))
        return out

    def _dests(self, chain: int, ei: int, rep: int) -> tuple:
        key = (chain, ei, rep)
        hit = self._dest_cache.get(key)
        if hit is not None:
            return hit
        plan = self.plan
        ch = plan.chains[chain]
        e = plan.edges[ei]
        src = plan.layers[e.src]
        dst = plan.layers[e.dst]
        out = []
        if e.kind == "residual":
            for c in dst.chains[rep]:
                dc = plan.chains[c]
                ov = _overlap(_frac(ch.out, _feat(src)), _frac(dc.cols, dst.cols))
                if ov > 0:
                    out.append(((dc.cores[-1],), max(1, round(ov * dst.cols))))
        elif e.direct:
            for rows, cores in dst.row_groups[rep]:
                ov = _overlap(ch.out, rows)
                if ov > 0:
                    out.append((cores, int(ov)))
        else:
            cores = tuple(c for _, cs in dst.row_groups[rep] for c in cs)
            out.append((cores, ch.out[1] - ch.out[0]))
        buffers = self.res if e.kind == "residual" else self.act
        hit = tuple((dsts, n, tuple(buffers[(d, ei)] for d in dsts)) for dsts, n in out)
        self._dest_cache[key] = hit
        return hit

    def stage_dests(self, si: int, rep: int) -> tuple:
        """Where stage ``si``'s output vectors for replica ``rep`` of its layer go: per row
        group ``(ports, values, multicast tree, position of each port's core in the tree's
        arrivals)``, to the cores' input buffers (host-fed stage) or activation buffers."""
        key = ("stage", si, rep)
        hit = self._dest_cache.get(key)
        if hit is None:
            stage = self.plan.stages[si]
            node = attention_node(stage.unit)
            out = []
            for rows, cores in self.plan.layers[stage.layer].row_groups[rep]:
                ports = tuple(self.inp[c] if stage.edge is None else self.act[(c, stage.edge)]
                              for c in cores)
                tree = self.net.tree(node, cores)
                out.append((ports, rows[1] - rows[0], tree, tuple(self.net.positions(tree))))
            hit = self._dest_cache[key] = tuple(out)
        return hit

    # -- host bookkeeping -----------------------------------------------------------------
    def host_receive(self, layer: str, g: int, s: Stream) -> None:
        """The host got one chain's output of vector ``g`` of ``layer``."""
        lp = self.plan.layers[layer]
        i = g // lp.vectors
        key = (layer, i)
        self.host_count[key] += 1
        if s.last > self.host_time[key]:
            self.host_time[key] = s.last
        if self.host_count[key] == lp.vectors * len(lp.chains[0]):
            self.host_done[key].succeed()
            if layer in self.plan.sinks and lp.to_host:
                self._sink_left[i] -= 1
                t = self.inf_time[i] or 0
                self.inf_time[i] = max(t, self.host_time[key])
                if self._sink_left[i] == 0:
                    self.inf_done[i].succeed()


def _feat(lp) -> int:
    """Output features of a layer: hidden values after a GDPU, else its columns."""
    return lp.cols // LSTM_GROUP if lp.gdpu else lp.cols


def _frac(r: tuple[int, int], total: int) -> tuple[float, float]:
    return r[0] / total, r[1] / total


def _overlap(a, b) -> float:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
