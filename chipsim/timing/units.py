"""The processes of the chip's units: a core (MVM unit + LDPU), a GDPU slice, a stage of a
digital attention unit, GDC.

A core's MVM unit and its LDPU are joined by the ADC result latch (one vector deep): the MVM
of a vector (PWM + array read + ADC, ``chipsim.cost.adc.mvm_cycles`` MVM-clock cycles)
starts when its input has arrived, the previous MVM has ended and the LDPU has taken the
previous result; the
LDPU (one value per digital cycle, pipelined) takes a result when it has it, when the partial
sums and residuals it adds have been delivered and when the receivers have buffer space, then
sends. One process per core runs both, vector by vector: every MVM time follows from time
stamps already known (arrivals, the previous MVM, the LDPU's take of the previous result), so
an MVM needs no event of its own; its side effects on buffers (input credit returned and line
buffer window moved at its end) are booked at their future time. The process waits on the
calendar only when the LDPU needs something not yet sent, or to act (reserve buffer space and
links) at its own time, so that shared links and buffers serve requests in time order.

A process counts actions and moves time stamps; it computes no numbers.

Examples
--------
>>> from chipsim.timing import TimingConfig, TransportMode
>>> from chipsim.timing.plan import PlacedBlock, build_plan
>>> from chipsim.timing.engine import run_plan
>>> from chipsim.workload.lowered import LoweredLayer
>>> from chipsim.spec import hermes
>>> chip = hermes()
>>> plan = build_plan([LoweredLayer("a", "linear", 256, 256, 1)],
...                   [PlacedBlock("a", 0, (0, 256), (0, 256), 0)], chip, preloaded=True,
...                   sinks_to_host=False)
>>> run_plan(plan, chip, TimingConfig(inferences=1)).core_counts[0]["mvms"]
1
"""

from __future__ import annotations

from ..cost.latency import align_up
from .links import gdpu_node
from .plan import LSTM_GROUP
from .state import SimState
from .stream import Stream, gdpu_times

__all__ = ["core_unit", "gdpu_slice", "attention_stage", "gdc"]

FOLD_SPANS = 1 << 14
"""Busy intervals (times two) a core keeps before it adds them to its busy union."""


def _sends(st: SimState, core: int, template: tuple) -> tuple:
    """The sends of a :meth:`~chipsim.timing.state.SimState.send_template` from ``core``, as
    ``(kind, keyed by the vector g, ports, n, mult, j, recurrent, tree, to, dsts)``: ``to`` is
    the destination's position in what :meth:`~chipsim.timing.links.Network.transfer_tree`
    returns (host, GDPU) or ``(port, position)`` per destination."""
    out = []
    for kind, dsts, ports, nv, mult, j, rec in template:
        tree = st.net.tree(core, dsts)
        at = st.net.positions(tree)
        to = at[0] if kind in ("host", "gdpu") else tuple(zip(ports, at, strict=True))
        out.append((kind, kind in ("psum", "gdpu"), ports, nv, mult, j, rec, tree, to, dsts))
    return tuple(out)


def _arrival(blocked: dict, unit: str, port, key: int, *why):
    """Wait until every piece of vector ``key`` is in ``port``; its item. While waiting the
    unit is listed in ``blocked`` with ``why`` (a format and its arguments), for the deadlock
    report. Called only when the item is missing: the common case stays inline."""
    blocked[unit] = why
    yield port.ready(key)
    del blocked[unit]
    return port._items[key]


def core_unit(st: SimState, core: int):
    """The MVM unit and the LDPU of ``core``: one MVM per vector of its replica, in order,
    each result through the LDPU and on to the next core, the GDPU, the consumers or the
    host."""
    env, plan, cnt, lat, net = st.env, st.plan, st.count, st.lat, st.net
    b = plan.blocks[core]
    lp = plan.layers[b.layer]
    vecs, n_inf = lp.vectors, st.n_inf
    mvm_only = lp.mvm_only
    record = st.cfg.timeline
    timeline = cnt.timeline
    mclk, t_mvm = lat.mvm_clock_ps, lat.mvm_ps
    mvm_free = st.mvm_free
    spans = cnt.spans[core]
    starts = cnt.mvm_starts[core]
    blocked = st.blocked
    unit = f"core {core}"
    infs, ks = lp.schedule(b.replica, n_inf)
    k_first = ks[0] if ks else 0
    k_last = ks[-1] if ks else -1
    i_last = infs[-1] if infs else -1
    step = infs.step
    # -- inputs of the MVMs: host input buffer, on-chip line buffers (sliding windows)
    inp = st.inp.get(core)
    inp_items = inp._items if inp is not None else None
    # per on-chip input edge: [port, recurrent, line length, line offset, window lo, window
    # m, checked up to, latest arrival so far, source]; inference i's window of vector k is
    # [lo[k], m[k]) + (i - recurrent) · length - offset in the line's numbering
    needs = []
    for ei in lp.in_edges:
        e = plan.edges[ei]
        if e.onchip:
            off, length = plan.line(ei, b.replica)
            needs.append([st.act[(core, ei)], e.kind == "recurrent", length, off,
                          *e.windows(), 0, 0, e.src])
    for nd in needs:  # the window starts at the first vector this core needs
        port, rec, dl, off, lo = nd[:5]
        for i in infs:
            if not rec or i > 0:
                port.advance((i - rec) * dl - off + lo[k_first])
                break
    # -- the LDPU's side: chain, partial sums, residuals, destinations
    if not mvm_only:
        chain, pos = plan.chain_of[core]
        ch = plan.chains[chain]
        is_end = pos == len(ch.cores) - 1
        n = b.cols[1] - b.cols[0]
        psum = st.psum.get(core)
        psum_items = psum._items if psum is not None else None
        psum_pieces = psum.pieces if psum is not None else 0
        res = []
        if is_end:
            for ei in lp.res_edges:
                e = plan.edges[ei]
                res.append((st.res[(core, ei)], e.delivered, *e.windows(), e.src))
        dig, depth = lat.digital_ps, lat.ldpu_depth_ps
        span, vp = lat.ldpu_span_ps(n), lat.ldpu_value_ps()
        if not is_end:
            nxt = (ch.cores[pos + 1],)
            fixed = _sends(st, core, (("psum", nxt, (st.psum[nxt[0]],), n, vecs, 0, False),))
        elif lp.gdpu:
            s = plan.gdpu_of[chain]
            node = (gdpu_node(s),)
            fixed = _sends(st, core, (("gdpu", node, (st.gdpu_port[s],), n, vecs, 0, False),))
        else:
            fixed = None
        period = st.send_period
        templates: dict[int, tuple] = {}
        gdpu_fifo = st.gdpu_fifo.get(plan.gdpu_of.get(chain)) if lp.gdpu else None
        transfer = net.transfer_tree
        layer_name = lp.name
    latch_free = 0  # when the LDPU took the previous result
    now_l = 0  # the LDPU's own time: when it last acted
    free = 0  # when the LDPU can take its next value
    ldpu_busy = 0
    d_first, d_last = None, -1
    done = 0
    for i in infs:
        if len(spans) > FOLD_SPANS:
            cnt.fold(core)
        gi = i * vecs
        for k in ks:
            g = gi + k
            # ---------------------------------------------------------------- the MVM
            t_in = 0
            if inp is not None:
                item = inp_items.get(g)
                if item is None or item[0] != inp.pieces:
                    item = yield from _arrival(blocked, unit, inp, g, "input vector {}", g)
                t_in = item[2]
            for nd in needs:
                port, rec, dl, off, lo, m, checked, tmax, src = nd
                if i < rec:  # a recurrent input: none for the first inference
                    continue
                base = (i - rec) * dl - off
                hi = m[k] + base
                if hi > checked:  # look at the vectors of the window not seen yet
                    key = lo[k] + base
                    if key < checked:
                        key = checked
                    items, pieces = port._items, port.pieces
                    while key < hi:
                        item = items.get(key)
                        if item is None or item[0] != pieces:
                            item = yield from _arrival(blocked, unit, port, key,
                                                       "activation {} from {}", key, src)
                        if item[2] > tmax:
                            tmax = item[2]
                        key += 1
                    nd[6] = hi
                    nd[7] = tmax
                if tmax > t_in:
                    t_in = tmax
            start = mvm_free[core]
            if latch_free > start:
                start = latch_free
            if t_in > start:
                start = t_in
            start = -(-start // mclk) * mclk
            end = start + t_mvm
            mvm_free[core] = end
            starts.append(start)
            spans.append(start)
            spans.append(end)
            if record:
                timeline.append((core, start, end, "mvm"))
            done += 1
            if inp is not None:
                inp.pop(g, end)
            if needs:
                if k != k_last:  # the window of the next vector: k + 1 ...
                    for nd in needs:
                        port, rec, dl, off, lo, _, checked, _, _ = nd
                        if i < rec:
                            new_lo = 0
                        else:
                            new_lo = (i - rec) * dl - off + lo[k + 1]
                        port.advance(new_lo if new_lo < checked else checked, end)
                elif i != i_last:  # ... or the first k of the replica's next inference
                    for nd in needs:
                        port, rec, dl, off, lo, _, checked, _, _ = nd
                        new_lo = (i + step - rec) * dl - off + lo[k_first]
                        port.advance(new_lo if new_lo < checked else checked, end)
                else:
                    for nd in needs:
                        nd[0].drain(end)
            if mvm_only:
                continue
            # ---------------------------------------------------------------- the LDPU
            t = end if end > now_l else now_l  # it has the ADC results at the MVM's end
            n_in = 0
            in_first = in_last = 0
            if psum is not None:
                item = psum_items.get(g)
                if item is None or item[0] != psum_pieces:
                    item = yield from _arrival(blocked, unit, psum, g,
                                               "partial sums of vector {}", g)
                if item[3] > t:
                    t = item[3]
                n_in = 1
                in_first, in_last = item[1], item[2]
            held = ()
            if res:
                held = []
                for port, dl, lo, m, src in res:
                    base = i * dl
                    items, pieces = port._items, port.pieces
                    for key in range(base + lo[k], base + m[k]):
                        item = items.get(key)
                        if item is None or item[0] != pieces:
                            item = yield from _arrival(blocked, unit, port, key,
                                                       "residual {} from {}", key, src)
                        if item[3] > t:
                            t = item[3]
                        if n_in:
                            if item[1] > in_first:
                                in_first = item[1]
                            if item[2] > in_last:
                                in_last = item[2]
                        else:
                            in_first, in_last = item[1], item[2]
                        n_in += 1
                        held.append((port, key))
            sends = fixed
            if sends is None:
                ph = i % period
                sends = templates.get(k * period + ph)
                if sends is None:
                    sends = templates[k * period + ph] = _sends(
                        st, core, st.send_template(chain, k, ph))
            # act at the LDPU's own time: buffer space, then the links
            if t > env._now:
                yield t
            for kind, by_g, ports, _, mult, j, rec, _, _, dsts in sends:
                if rec and i + 1 >= n_inf:
                    continue
                key = g if by_g else i * mult + j
                for p in ports:
                    ev = p.acquire(key)
                    if ev is not None:
                        blocked[unit] = ("buffer space ({}) at {}", kind, dsts)
                        yield ev
                        del blocked[unit]
            now = env._now
            start = now if now > end else end
            if free > start:
                start = free
            start = -(-start // dig) * dig
            latch_free = start
            # the output stream (stream.through on the inputs' combined ends): value v leaves at
            # max(start + v·period, inputs' value v) + depth
            first = start
            if n_in:
                if in_first > first:
                    first = in_first
                last = first + span
                if in_last > last:
                    last = in_last
            else:
                last = first + span
            out_first, out_last = first + depth, last + depth
            consumed = last
            if psum is not None:
                psum.pop(g, consumed)
            if held:
                for port, key in held:
                    port.pop(key, consumed)
            free = consumed + vp
            ldpu_busy += out_last - start
            if record:
                timeline.append((core, start, out_last, "ldpu"))
            top = out_last
            for kind, by_g, _, nv, mult, j, rec, tr, to, _ in sends:
                if rec and i + 1 >= n_inf:
                    continue
                fs, ls = transfer(now, tr, out_first, out_last, nv)
                if kind == "host":
                    st.host_receive(layer_name, g, Stream(fs[to], ls[to], nv))
                elif kind == "gdpu":
                    gdpu_fifo.put((chain, g, Stream(fs[to], ls[to], nv)))
                else:
                    key = g if by_g else i * mult + j
                    for p, x in to:
                        p.put(key, fs[x], ls[x], nv)
                la = max(ls)  # the last arrival anywhere is at a destination (or at src)
                if la > top:
                    top = la
            spans.append(start)
            spans.append(out_last)
            if d_first is None:
                d_first = start
            if top > d_last:
                d_last = top
            now_l = now
    # the per-core figures
    rows, cols = b.rows[1] - b.rows[0], b.cols[1] - b.cols[0]
    phases = st.chip.core.phases
    cnt.mvms[core] += done
    cnt.ops[core] += done * 2 * rows * cols
    cnt.pwm_row_phases[core] += done * rows * phases
    cnt.array_cell_phases[core] += done * rows * cols * phases
    cnt.adc_conversions[core] += done * st.chip.core.cols * phases
    cnt.mvm_busy_ps[core] += done * t_mvm
    if not mvm_only and done:
        cnt.ldpu_values[core] += done * n
        cnt.ldpu_busy_ps[core] += ldpu_busy
        cnt.digital[core] = True
        cnt.digital_span(d_first, d_last)


def gdpu_slice(st: SimState, s: int, count: int):
    """GDPU slice ``s``: ``count`` gate vectors, in arrival order, each into hidden values."""
    env, cnt, lat = st.env, st.count, st.lat
    fifo = st.gdpu_fifo[s]
    port = st.gdpu_port[s]
    dig, in_ps = lat.digital_ps, lat.gdpu_in_ps
    node = gdpu_node(s)
    free = 0
    for _ in range(count):
        ev = fifo.get()
        if ev is not None:
            st.blocked[f"gdpu {s}"] = "gate values"
            yield ev
            del st.blocked[f"gdpu {s}"]
        chain, g, inp = fifo.take()
        sends = st.sends(chain, g)
        for snd in sends:
            for d, p in zip(snd.dsts, snd.ports, strict=False):
                ev = p.acquire(snd.key)
                if ev is not None:
                    st.blocked[f"gdpu {s}"] = f"buffer space ({snd.kind}) at {d}"
                    yield ev
                    del st.blocked[f"gdpu {s}"]
        start = align_up(max(env.now, free), dig)
        if start > env.now:
            yield start
        o_first, o_last, n_out, last_in = gdpu_times(start, inp.first, inp.last, inp.n,
                                                     LSTM_GROUP, in_ps, lat.gdpu_out_ps,
                                                     lat.gdpu_depth_ps)
        out = Stream(o_first, o_last, n_out)
        port.release(1, last_in)
        free = last_in + in_ps
        cnt.gdpu_inputs[s] += inp.n
        cnt.gdpu_outputs[s] += out.n
        cnt.gdpu_busy_ps[s] += out.last - start
        cnt.gdpu_busy[s].add(start, out.last)
        layer = st.plan.chains[chain].layer
        last = out.last
        for snd in sends:
            arr = st.net.transfer(env.now, node, snd.dsts, Stream(out.first, out.last, snd.n))
            if snd.kind == "host":
                st.host_receive(layer, g, arr[0])
            else:
                for p, a in zip(snd.ports, arr, strict=True):
                    p.deliver(snd.key, a)
            for a in arr:
                if a.last > last:
                    last = a.last
        cnt.digital_span(start, last)


def attention_stage(st: SimState, si: int):
    """Stage ``si`` (:class:`~chipsim.timing.plan.StagePlan`) on its attention unit: the input
    vector of its layer for every token, in order. Token ``k``'s work starts when the unit
    holds the tokens it needs (:meth:`~chipsim.timing.plan.StagePlan.window`), the layer's
    cores have room for the result and the unit is free: the unit serves its stages' tokens
    one at a time, in the order they are ready. The result leaves at the end of the work."""
    env, plan, cnt, net = st.env, st.plan, st.count, st.net
    stage = plan.stages[si]
    lp = plan.layers[stage.layer]
    port = st.unit_port[si]
    u, vecs, attention = stage.unit, stage.vectors, stage.attention is not None
    durations, works = st.stage_ps[si], stage.work
    period = st.lat.attention_ps
    busy = cnt.unit_busy[u]
    unit = f"attention unit {u} ({stage.layer})"
    checked = tmax = 0  # tokens looked at so far; the last arrival among them
    for i in range(st.n_inf):
        for k in range(vecs):
            g = i * vecs + k
            lo, hi = stage.window(k)
            for key in range(max(i * vecs + lo, checked), i * vecs + hi):
                item = port._items.get(key)
                if item is None or item[0] != port.pieces:
                    item = yield from _arrival(st.blocked, unit, port, key, "token {}", key)
                tmax = max(tmax, item[2])
                checked = key + 1
            if tmax > env._now:
                yield tmax
            rep = lp.owner(g)
            if stage.edge is None:
                key = g
            else:
                off, length = plan.line(stage.edge, rep)
                key = i * length + k - off
            dests = st.stage_dests(si, rep)
            for ports, *_ in dests:
                for p in ports:
                    ev = p.acquire(key)
                    if ev is not None:
                        st.blocked[unit] = f"room in the input buffers of {stage.layer}"
                        yield ev
                        del st.blocked[unit]
            start = align_up(max(env.now, st.unit_free[u]), period)
            end = st.unit_free[u] = start + durations[k]
            if not attention or k == vecs - 1:  # an attention keeps its inference's tokens
                port.advance(g + 1, end)
            w = works[k]
            cnt.unit_vectors[u] += 1
            cnt.unit_macs[u] += w.macs
            cnt.unit_ops[u] += w.ops
            cnt.unit_bytes[u] += w.memory_bytes
            busy.add(start, end)
            last = end
            for ports, n, tree, at in dests:
                fs, ls = net.transfer_tree(env.now, tree, end, end, n)
                for p, x in zip(ports, at, strict=True):
                    p.put(key, fs[x], ls[x], n)
                last = max(last, *ls)
            cnt.digital_span(start, last)


def gdc(st: SimState, core: int, interval_ps: int):
    """Global drift compensation on ``core`` (a daemon): every ``interval_ps`` its
    calibration MVMs take the MVM unit, queued behind the MVMs already scheduled."""
    env, cnt, lat = st.env, st.count, st.lat
    b = st.plan.blocks[core]
    rows, cols = b.rows[1] - b.rows[0], b.cols[1] - b.cols[0]
    n_cal = st.chip.core.gdc_calibration_mvms
    phases = st.chip.core.phases
    k = 1
    while True:
        yield k * interval_ps
        start = align_up(max(env.now, st.mvm_free[core]), lat.mvm_clock_ps)
        end = start + n_cal * lat.mvm_ps
        st.mvm_free[core] = end
        cnt.gdc_mvms[core] += n_cal
        cnt.pwm_row_phases[core] += n_cal * rows * phases
        cnt.array_cell_phases[core] += n_cal * rows * cols * phases
        cnt.adc_conversions[core] += n_cal * st.chip.core.cols * phases
        cnt.mvm_busy_ps[core] += end - start
        cnt.gdc_spans.append((start, end))
        cnt.spans[core].extend((start, end))
        if st.cfg.timeline:
            cnt.timeline.append((core, start, end, "gdc"))
        k = max(k + 1, -(-end // interval_ps))
