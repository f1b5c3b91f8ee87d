"""The off-chip host (the FPGA board of the reference setup) as processes of the timing run.

The host sends input vectors to the cores over the to-chip channel: the network input in
both transport modes, and in ``offchip`` mode every layer's input, once it has received the
whole output of the layer's sources for that inference (it pools, pads and builds the input
vectors itself), and the residual vectors that a layer's last cores add. A layer whose input
passes through an attention unit gets it from the unit: the host sends the unit the vectors
instead. In ``offchip`` mode inferences run one after the other. What the host receives is
booked by :meth:`~chipsim.timing.state.SimState.host_receive`.
"""

from __future__ import annotations

from .config import TransportMode
from .links import HOST, attention_node
from .state import SimState
from .stream import Stream

__all__ = ["feeder"]


def feeder(st: SimState, layer: str, rep: int):
    """Send replica ``rep`` of ``layer`` its input (and residual) vectors, in order."""
    env, plan, net = st.env, st.plan, st.net
    lp = plan.layers[layer]
    vecs = lp.vectors
    groups = lp.row_groups[rep]
    host_in = [plan.edges[ei] for ei in lp.in_edges if not plan.edges[ei].onchip]
    host_res = [plan.edges[ei] for ei in lp.res_edges if not plan.edges[ei].onchip]
    ends = [(plan.chains[c].cores[-1], plan.chains[c].cols) for c in lp.chains[rep]]
    sequential = plan.transport is TransportMode.OFFCHIP
    sent_res: dict[tuple[int, int], int] = {}
    unit = f"host feeder {layer} replica {rep}"
    waits_for = host_in + host_res
    starts_inference = not lp.in_edges
    # per row group: its input ports, values, and the multicast tree with each core's link;
    # or the whole vector to the attention unit that computes the layer's input from it
    feeds = []
    si = plan.stage_of.get(layer)
    if si is not None and plan.stages[si].edge is None:
        stage = plan.stages[si]
        tree = net.tree(HOST, (attention_node(stage.unit),))
        port = st.unit_port[si]
        feeds.append(([port], stage.values_in, tree, ((port, net.positions(tree)[0]),)))
        groups = ()
    for rows, cores in groups:
        tree = net.tree(HOST, cores)
        ports = [st.inp[c] for c in cores]
        feeds.append((ports, rows[1] - rows[0], tree,
                      tuple(zip(ports, net.positions(tree), strict=True))))
    transfer = net.transfer_tree
    for g in lp.iter_vectors(rep, st.n_inf):
        i, k = divmod(g, vecs)
        t = env._now
        if starts_inference and sequential and i > 0:
            done = st.inf_done[i - 1]
            if not done.triggered:
                st.blocked[unit] = f"inference {i - 1} to finish"
                yield done
                del st.blocked[unit]
            t = max(t, st.inf_time[i - 1] or 0)
        for e in waits_for:
            ii = i - 1 if e.kind == "recurrent" else i
            if ii < 0:
                continue
            ev = st.host_done[(e.src, ii)]
            if not ev.triggered:
                st.blocked[unit] = f"output of {e.src}, inference {ii}"
                yield ev
                del st.blocked[unit]
            t = max(t, st.host_time[(e.src, ii)])
        if t > env._now:
            yield t
        if starts_inference and (st.inf_start[i] is None or env._now < st.inf_start[i]):
            st.inf_start[i] = env._now
        for ports, n, tree, dests in feeds:
            for p in ports:
                ev = p.acquire(g)
                if ev is not None:
                    st.blocked[unit] = "input buffer space"
                    yield ev
                    del st.blocked[unit]
            now = env._now
            fs, ls = transfer(now, tree, now, now, n)
            for p, x in dests:
                p.put(g, fs[x], ls[x], n)
        for e in host_res:
            lo, m = e.window(k)
            for end, cols in ends:
                port = st.res[(end, e.index)]
                start = max(i * e.delivered + lo, sent_res.get((end, e.index), 0))
                for key in range(start, i * e.delivered + m):
                    ev = port.acquire()
                    if ev is not None:
                        st.blocked[unit] = "residual buffer space"
                        yield ev
                        del st.blocked[unit]
                    n = cols[1] - cols[0]
                    arr = net.transfer(env.now, HOST, (end,), Stream(env.now, env.now, n))
                    port.deliver(key, arr[0])
                sent_res[(end, e.index)] = max(start, i * e.delivered + m)
