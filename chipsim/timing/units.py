"""SimPy processes of the chip's units: a core's MVM unit and LDPU, a GDPU slice, GDC.

Each core runs two processes joined by its ADC result latch (one vector deep): the MVM unit
(wait for the input vector, PWM + array read + ADC in ``core.mvm_cycles`` MVM-clock cycles)
and the LDPU (one value per digital cycle, pipelined, adding partial sums and residuals, then
sending). A process counts actions and moves time stamps; it computes no numbers.

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
from .state import Send, SimState
from .stream import Stream, gdpu_stream, through

__all__ = ["core_mvm", "core_ldpu", "gdpu_slice", "gdc"]


def core_mvm(st: SimState, core: int):
    """The MVM unit of ``core``: one MVM per vector of its replica, in order."""
    env, plan, cnt, lat = st.env, st.plan, st.count, st.lat
    b = plan.blocks[core]
    lp = plan.layers[b.layer]
    vecs = lp.vectors
    rows, cols = b.rows[1] - b.rows[0], b.cols[1] - b.cols[0]
    phases = st.chip.core.phases
    adcs = st.chip.core.cols  # every ADC of the core converts in every phase
    needs = [(st.act[(core, ei)], plan.edges[ei]) for ei in lp.in_edges
             if plan.edges[ei].onchip]
    checked = [0] * len(needs)
    tmax = [0] * len(needs)
    inp = st.inp.get(core)
    fifo = st.adc_fifo[core]
    mclk, t_mvm = lat.mvm_clock_ps, lat.mvm_ps
    ops = 2 * rows * cols
    record = st.cfg.timeline
    mine = lp.vectors_of(b.replica, st.n_inf)
    for port, e in needs:  # the window starts at the first vector this core needs
        for g in mine:
            i, k = divmod(g, vecs)
            if e.kind != "recurrent" or i > 0:
                port.advance((i - (e.kind == "recurrent")) * e.delivered + e.window(k)[0])
                break
    for idx, g in enumerate(mine):
        i, k = divmod(g, vecs)
        t_in = 0
        if inp is not None:
            ev = inp.ready(g)
            if ev is not None:
                st.blocked[f"core {core} mvm"] = f"input vector {g}"
                yield ev
                del st.blocked[f"core {core} mvm"]
            t_in = inp.stream(g).last
        for x, (port, e) in enumerate(needs):
            if e.kind == "recurrent":
                if i == 0:
                    continue
                base = (i - 1) * e.delivered
            else:
                base = i * e.delivered
            lo, m = e.window(k)
            m += base
            for key in range(max(lo + base, checked[x]), m):
                ev = port.ready(key)
                if ev is not None:
                    st.blocked[f"core {core} mvm"] = f"activation {key} from {e.src}"
                    yield ev
                    del st.blocked[f"core {core} mvm"]
                t = port.stream(key).last
                if t > tmax[x]:
                    tmax[x] = t
            if m > checked[x]:
                checked[x] = m
            if tmax[x] > t_in:
                t_in = tmax[x]
        if not lp.mvm_only:
            while st.latch_full[core]:
                ev = st.latch_ev[core] = env.event()
                st.blocked[f"core {core} mvm"] = "its LDPU to take the last result"
                yield ev
                del st.blocked[f"core {core} mvm"]
        start = align_up(max(env.now, t_in, st.mvm_free[core], st.latch_free_at[core]), mclk)
        end = start + t_mvm
        st.mvm_free[core] = end
        if not lp.mvm_only:
            st.latch_full[core] = True
        yield env.timeout(end - env.now)
        cnt.mvms[core] += 1
        cnt.ops[core] += ops
        cnt.pwm_row_phases[core] += rows * phases
        cnt.array_cell_phases[core] += rows * cols * phases
        cnt.adc_conversions[core] += adcs * phases
        cnt.mvm_busy_ps[core] += t_mvm
        cnt.mvm_active.add(start, end)
        cnt.busy[core].add(start, end)
        if record:
            cnt.timeline.append((core, start, end, "mvm"))
        if inp is not None:
            inp.pop(g)
        g2 = mine[idx + 1] if idx + 1 < len(mine) else None
        for x, (port, e) in enumerate(needs):
            if g2 is not None:
                i2, k2 = divmod(g2, vecs)
                if e.kind == "recurrent":
                    base2 = (i2 - 1) * e.delivered
                    new_lo = base2 + e.window(k2)[0] if i2 > 0 else 0
                else:
                    new_lo = i2 * e.delivered + e.window(k2)[0]
                upto = min(new_lo, checked[x])
                port.advance(upto)
            else:
                port.drain()
        if not lp.mvm_only:
            fifo.put((g, end))


def _acquire(st: SimState, unit: str, sends: list[Send]):
    for snd in sends:
        for d, p in zip(snd.dsts, snd.ports, strict=False):
            ev = p.acquire(snd.key)
            if ev is not None:
                st.blocked[unit] = f"buffer space ({snd.kind}) at {d}"
                yield ev
                del st.blocked[unit]


def _dispatch(st: SimState, src, sends: list[Send], out: Stream, layer: str, chain: int,
              g: int) -> int:
    """Reserve the links of every send and deliver; the last arrival time."""
    net, env = st.net, st.env
    last = out.last
    for snd in sends:
        arr = net.transfer(env.now, src, snd.dsts, Stream(out.first, out.last, snd.n))
        kind = snd.kind
        if kind == "host":
            st.host_receive(layer, g, arr[0])
        elif kind == "gdpu":  # into the slice's input FIFO (not a core buffer)
            st.gdpu_fifo[st.plan.gdpu_of[chain]].put((chain, g, arr[0]))
        else:
            for p, a in zip(snd.ports, arr, strict=True):
                p.deliver(snd.key, a)
        for a in arr:
            if a.last > last:
                last = a.last
    return last


def core_ldpu(st: SimState, core: int):
    """The LDPU of ``core``: per vector, its column outputs (plus partial sums and residuals
    received) at one value per digital cycle, then on to the next core, the GDPU, the
    consumers or the host."""
    env, plan, cnt, lat = st.env, st.plan, st.count, st.lat
    b = plan.blocks[core]
    lp = plan.layers[b.layer]
    chain, pos = plan.chain_of[core]
    ch = plan.chains[chain]
    is_end = pos == len(ch.cores) - 1
    n = b.cols[1] - b.cols[0]
    vecs = lp.vectors
    psum = st.psum.get(core)
    res = [(st.res[(core, ei)], plan.edges[ei]) for ei in lp.res_edges] if is_end else []
    fifo = st.adc_fifo[core]
    dig, depth = lat.digital_ps, lat.ldpu_depth_ps
    span, vp = lat.ldpu_span_ps(n), lat.ldpu_value_ps()
    nxt_port = None if is_end else st.psum[ch.cores[pos + 1]]
    slice_ = plan.gdpu_of.get(chain)
    record = st.cfg.timeline
    free = 0
    for g in lp.vectors_of(b.replica, st.n_inf):
        ev = fifo.get()
        if ev is not None:
            st.blocked[f"core {core} ldpu"] = "an MVM result"
            yield ev
            del st.blocked[f"core {core} ldpu"]
        _, t_adc = fifo.take()
        i, k = divmod(g, vecs)
        inputs = []
        held = []
        if psum is not None:
            ev = psum.ready(g)
            if ev is not None:
                st.blocked[f"core {core} ldpu"] = f"partial sums of vector {g}"
                yield ev
                del st.blocked[f"core {core} ldpu"]
            inputs.append(psum.stream(g))
            held.append((psum, g))
        for port, e in res:
            lo, m = e.window(k)
            base = i * e.delivered
            for key in range(base + lo, base + m):
                ev = port.ready(key)
                if ev is not None:
                    st.blocked[f"core {core} ldpu"] = f"residual {key} from {e.src}"
                    yield ev
                    del st.blocked[f"core {core} ldpu"]
                inputs.append(port.stream(key))
                held.append((port, key))
        if not is_end:
            sends = [Send((ch.cores[pos + 1],), (nxt_port,), n, g, "psum")]
        elif lp.gdpu:
            sends = [Send((gdpu_node(slice_),), (st.gdpu_port[slice_],), n, g, "gdpu")]
        else:
            sends = st.sends(chain, g)
        yield from _acquire(st, f"core {core} ldpu", sends)
        # the LDPU takes the ADC results at ``start``; links are booked now for the future
        # windows (a link serves bookings in time order whatever order they come in)
        start = align_up(max(env.now, t_adc, free), dig)
        st.latch_full[core] = False
        st.latch_free_at[core] = start
        lev = st.latch_ev[core]
        if lev is not None:
            st.latch_ev[core] = None
            lev.succeed()
        out = through(start, n, span, depth, tuple(inputs))
        consumed = out.last - depth
        for port, key in held:
            port.pop(key, consumed)
        free = consumed + vp
        cnt.ldpu_values[core] += n
        cnt.ldpu_busy_ps[core] += out.last - start
        cnt.digital[core] = True
        if record:
            cnt.timeline.append((core, start, out.last, "ldpu"))
        last = _dispatch(st, core, sends, out, lp.name, chain, g) if sends else out.last
        cnt.busy[core].add(start, out.last)
        cnt.digital_span(start, last)


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
        yield from _acquire(st, f"gdpu {s}", sends)
        start = align_up(max(env.now, free), dig)
        if start > env.now:
            yield env.timeout(start - env.now)
        out = gdpu_stream(start, inp, LSTM_GROUP, in_ps, lat.gdpu_out_ps, lat.gdpu_depth_ps)
        last_in = max(max(start, inp.first) + (inp.n - 1) * in_ps, inp.last)
        port.release(1, last_in)
        free = last_in + in_ps
        cnt.gdpu_inputs[s] += inp.n
        cnt.gdpu_outputs[s] += out.n
        cnt.gdpu_busy_ps[s] += out.last - start
        cnt.gdpu_busy[s].add(start, out.last)
        layer = st.plan.chains[chain].layer
        last = _dispatch(st, node, sends, out, layer, chain, g) if sends else out.last
        cnt.digital_span(start, last)


def gdc(st: SimState, core: int, interval_ps: int):
    """Global drift compensation on ``core``: every ``interval_ps`` its calibration MVMs take
    the MVM unit (queued behind the MVM under way)."""
    env, cnt, lat = st.env, st.count, st.lat
    b = st.plan.blocks[core]
    rows, cols = b.rows[1] - b.rows[0], b.cols[1] - b.cols[0]
    n_cal = st.chip.core.gdc_calibration_mvms
    phases = st.chip.core.phases
    k = 1
    while True:
        t = k * interval_ps
        yield env.timeout(t - env.now)
        start = align_up(max(env.now, st.mvm_free[core]), lat.mvm_clock_ps)
        end = start + n_cal * lat.mvm_ps
        st.mvm_free[core] = end
        cnt.gdc_mvms[core] += n_cal
        cnt.pwm_row_phases[core] += n_cal * rows * phases
        cnt.array_cell_phases[core] += n_cal * rows * cols * phases
        cnt.adc_conversions[core] += n_cal * st.chip.core.cols * phases
        cnt.mvm_busy_ps[core] += end - start
        cnt.mvm_active.add(start, end)
        cnt.busy[core].add(start, end)
        if st.cfg.timeline:
            cnt.timeline.append((core, start, end, "gdc"))
        k = max(k + 1, -(-end // interval_ps))
