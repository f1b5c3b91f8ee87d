"""Run a :class:`~chipsim.timing.plan.Plan` on the event kernel and collect a
:class:`TimingResult`.

Examples
--------
>>> from chipsim.spec import hermes
>>> from chipsim.timing.config import TimingConfig
>>> from chipsim.timing.plan import PlacedBlock, build_plan
>>> from chipsim.workload.lowered import LoweredLayer
>>> chip = hermes()
>>> plan = build_plan([LoweredLayer("a", "linear", 256, 256, 1)],
...                   [PlacedBlock("a", 0, (0, 256), (0, 256), 5)], chip, preloaded=True,
...                   sinks_to_host=False)
>>> r = run_plan(plan, chip, TimingConfig(inferences=1))
>>> r.mvm_active_ps, r.core_counts[5]["ldpu_values"]
(520000, 256)
"""

from __future__ import annotations

from ..cost.energy import ActionCounts, energy
from ..spec import AdcRange, ChipSpec
from .compiled import run_compiled
from .config import TimingConfig, TimingError
from .host import feeder
from .kernel import Deadlock
from .links import Network
from .plan import Plan
from .result import TimingResult
from .state import SimState
from .units import attention_stage, core_unit, gdc, gdpu_slice

__all__ = ["run_plan"]


def run_plan(plan: Plan, chip: ChipSpec, cfg: TimingConfig, graph=None,
             network: Network | None = None, *, reference: bool = False) -> TimingResult:
    """Simulate ``plan`` on ``chip`` with options ``cfg`` (on ``network``, a
    :class:`~chipsim.timing.links.Network` of ``chip`` for ``chip.host`` that has not run
    yet, when given: the routes it found are used again).

    The run is compiled (:mod:`chipsim.timing.compiled`: the same events, the same
    results); a run that deadlocks there (for the message) or still overflows its tables,
    and every run with ``reference=True``, runs on the SimPy processes of
    :mod:`~chipsim.timing.units` and :mod:`~chipsim.timing.host`, one event per vector.

    Raises
    ------
    TimingError
        If the run deadlocks (buffers too small for the dataflow).
    """
    st = SimState(chip, plan, cfg, graph, network)
    if not reference and run_compiled(st):
        return _collect(st)
    env = st.env
    for core in plan.cores:
        env.process(core_unit(st, core))
    per_slice: dict[int, int] = {}
    for chain, s in plan.gdpu_of.items():
        ch = plan.chains[chain]
        lp = plan.layers[ch.layer]
        per_slice[s] = per_slice.get(s, 0) + lp.count_vectors(ch.replica, cfg.inferences)
    for s, count in sorted(per_slice.items()):
        env.process(gdpu_slice(st, s, count))
    for stage in plan.stages:
        env.process(attention_stage(st, stage.index))
    for name in plan.order:
        lp = plan.layers[name]
        if lp.host_input:
            for rep in range(lp.replicas):
                env.process(feeder(st, name, rep))
    if cfg.gdc_interval_us is not None:
        interval = max(1, round(cfg.gdc_interval_us * 1e6))
        for core in plan.cores:
            env.daemon(gdc(st, core, interval))
    try:
        env.run()
    except Deadlock:
        waits = "; ".join(f"{u} waits for {_what(w)}" for u, w in sorted(st.blocked.items())[:6])
        raise TimingError(f"the run deadlocked at {env.now / 1e3:.1f} ns: {waits}") from None
    return _collect(st)


def _what(wait) -> str:
    """What a unit waits for: a text, or a format with its arguments (made only when
    reported)."""
    return wait if isinstance(wait, str) else wait[0].format(*wait[1:])


def _collect(st: SimState) -> TimingResult:
    plan, cnt, chip, cfg = st.plan, st.count, st.chip, st.cfg
    cores = plan.cores
    st.net.settle()
    links = list(st.net.links.values()) + [st.net.to_chip, st.net.from_chip]
    busy = {c: cnt.core_busy(c) for c in cores}
    ends = [busy[c].last for c in cores] + [cnt.digital_last_ps]
    ends += [lk.last_end for lk in links] + [t for t in st.inf_time if t is not None]
    makespan = max(ends + [1])
    n_inf = cfg.inferences
    if any(plan.layers[s].to_host for s in plan.sinks):
        if any(t is None for t in st.inf_time):
            raise TimingError("the run ended before every inference was complete")
        completion = tuple(int(t) for t in st.inf_time)
        starts = [s if s is not None else 0 for s in st.inf_start]
    else:
        completion = (makespan,) * n_inf
        starts = [0] * n_inf
    lat = tuple(c - s for c, s in zip(completion, starts, strict=True))
    if n_inf > 1 and completion[-1] > completion[0]:
        throughput = (n_inf - 1) / ((completion[-1] - completion[0]) * 1e-12)
    else:
        throughput = 1e12 / max(lat[0], 1)
    mvm_active = cnt.mvm_active_ps(st.lat.mvm_ps)
    core_active = sum(busy[c].total for c in cores if cnt.digital[c])
    gdpu_used = [s for s in range(len(cnt.gdpu_inputs)) if cnt.gdpu_inputs[s]]
    gdpu_active = sum(cnt.gdpu_busy[s].total for s in gdpu_used)
    units_used = [u for u, n in enumerate(cnt.unit_vectors) if n]
    if cnt.digital_first_ps is not None:
        first = min(busy[c].first for c in cores if busy[c].first is not None)
        chip_active = cnt.digital_last_ps - min(first, cnt.digital_first_ps)
    else:
        chip_active = 0
    buffer_ports = [("in", c, p) for c, p in st.inp.items()]
    buffer_ports += [("psum", c, p) for c, p in st.psum.items()]
    buffer_ports += [(f"act {plan.edges[e].src}", c, p) for (c, e), p in st.act.items()]
    buffer_ports += [(f"res {plan.edges[e].src}", c, p) for (c, e), p in st.res.items()]
    setup = _range_calibration(st)
    counts = ActionCounts(
        mvms=sum(cnt.mvms), gdc_mvms=sum(cnt.gdc_mvms),
        pwm_row_phases=sum(cnt.pwm_row_phases), array_cell_phases=sum(cnt.array_cell_phases),
        adc_conversions=sum(cnt.adc_conversions), mvm_core_ps=_mvm_core_ps(cnt, st, chip,
                                                                              mvm_active),
        ldpu_values=sum(cnt.ldpu_values),
        buffer_values=sum(p.values for _, _, p in buffer_ports),
        link_bit_hops=sum(lk.bits for lk in links if lk.noc and not lk.c2c),
        c2c_bits=sum(lk.bits for lk in links if lk.c2c),
        gdpu_inputs=sum(cnt.gdpu_inputs),
        offchip_bits=st.net.to_chip.bits + st.net.from_chip.bits,
        core_active_ps=core_active, gdpu_active_ps=gdpu_active,
        chip_active_ps=chip_active * chip.chips,
        attention_macs=sum(cnt.unit_macs), attention_ops=sum(cnt.unit_ops),
        attention_bytes=sum(cnt.unit_bytes),
        attention_active_ps=sum(cnt.unit_busy[u].total for u in units_used))
    core_counts = {c: {"mvms": cnt.mvms[c], "gdc_mvms": cnt.gdc_mvms[c],
                       "ldpu_values": cnt.ldpu_values[c], "ops": cnt.ops[c],
                       "mvm_busy_ps": cnt.mvm_busy_ps[c], "ldpu_busy_ps": cnt.ldpu_busy_ps[c]}
                   for c in cores}
    gdpu_counts = {s: {"inputs": cnt.gdpu_inputs[s], "outputs": cnt.gdpu_outputs[s],
                       "busy_ps": cnt.gdpu_busy_ps[s]} for s in gdpu_used}
    attention_counts = {u: {"vectors": cnt.unit_vectors[u], "macs": cnt.unit_macs[u],
                            "ops": cnt.unit_ops[u], "memory_bytes": cnt.unit_bytes[u],
                            "busy_ps": cnt.unit_busy[u].total} for u in units_used}
    spec = chip.energy
    return TimingResult(
        transport=plan.transport.value, inferences=n_inf, latency_ps=int(lat[0]),
        inference_latency_ps=tuple(int(x) for x in lat), completion_ps=completion,
        makespan_ps=int(makespan), throughput_inf_per_s=throughput,
        ops_per_inference=sum(cnt.ops) / n_inf, mvm_active_ps=mvm_active, counts=counts,
        energy=energy(counts, spec, chip.core, chip.attention, chip.system), energy_spec=spec,
        core_spec=chip.core,
        setup_counts=setup, setup_ps=setup.mvm_core_ps // chip.n_cores,
        core_counts=core_counts,
        gdpu_counts=gdpu_counts,
        core_utilization={c: cnt.mvm_busy_ps[c] / makespan for c in cores},
        ldpu_utilization={c: cnt.ldpu_busy_ps[c] / makespan for c in cores},
        link_utilization={lk.name: lk.busy_ps / makespan for lk in links if lk.transfers},
        link_peak_queue={lk.name: lk.peak_queue for lk in links if lk.transfers},
        buffer_peak={f"core {c} {kind}": p.peak for kind, c, p in buffer_ports},
        timeline=tuple(sorted(cnt.timeline)) if cfg.timeline else (),
        attention_counts=attention_counts, attention_spec=chip.attention,
        system_spec=chip.system)


def _mvm_core_ps(cnt, st: SimState, chip, mvm_active: int) -> int:
    """Cores × the time their MVM periphery is powered: a chip's cores while any of them
    computes (every core of the chip, whole-chip gating; UNCONFIRMED), summed over the
    chips of a system."""
    if chip.chips == 1:
        return chip.n_cores * mvm_active
    per = chip.cores_per_chip
    return sum(per * cnt.mvm_active_ps(st.lat.mvm_ps, range(k * per, (k + 1) * per))
               for k in range(chip.chips))


def _range_calibration(st: SimState) -> ActionCounts:
    """The one-time reads that set calibrated ADC ranges (``core.adc_range``), as counts.

    Every used core reads ``core.adc_range_calibration_mvms`` calibration vectors once after
    programming, all cores at once, before the first inference: their PWM, array and ADC
    actions, and the MVM periphery's static power for the time they take (``mvm_core_ps``
    of all cores). A set-up, not part of any inference: :class:`TimingResult` keeps it apart
    from the run's counts (``setup_counts``), like the programming of the chip.
    """
    core = st.chip.core
    if core.adc_range is not AdcRange.CALIBRATED:
        return ActionCounts()
    n = core.adc_range_calibration_mvms
    rows = cells = 0
    for c in st.plan.cores:
        b = st.plan.blocks[c]
        r = b.rows[1] - b.rows[0]
        rows += r
        cells += r * (b.cols[1] - b.cols[0])
    used = len(st.plan.cores)
    return ActionCounts(range_cal_mvms=used * n, pwm_row_phases=n * rows * core.phases,
                        array_cell_phases=n * cells * core.phases,
                        adc_conversions=used * n * core.cols * core.phases,
                        mvm_core_ps=st.chip.n_cores * n * st.lat.mvm_ps)
