"""A Transformer on the timing path: its digital operators on the chip's attention units, their
time, link traffic and energy; the same MVMs per core as the accuracy path."""

import numpy as np
import pytest
import torch
from torch import nn

from chipsim import RunConfig, simulate
from chipsim.functional.executor import ChipInstance, noise_free
from chipsim.mapping import map_workload
from chipsim.spec import hermes, hermes_attn, override
from chipsim.timing import TimingConfig, TimingError, TransportMode, simulate_timing
from chipsim.timing.plan import PlacedBlock, build_plan
from chipsim.timing.routes import required_routes
from chipsim.workload import from_torch
from chipsim.workload.lowered import LoweredLayer

T, D = 32, 256
ATTENTION = ("attention", "attention_ops", "attention_memory", "attention_static")


class _Encoder(nn.Module):
    """nn.TransformerEncoder: 2 layers, d_model 256, feed-forward 1024, 4 heads."""

    def __init__(self, norm_first=False, causal=False):
        super().__init__()
        self.enc = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(D, 4, 4 * D, batch_first=True, norm_first=norm_first),
            2, enable_nested_tensor=False)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))
        self.causal = causal

    def forward(self, x):
        return self.enc(x, mask=self.mask) if self.causal else self.enc(x)


def _workload(norm_first=False, causal=False):
    torch.manual_seed(0)
    return from_torch(_Encoder(norm_first, causal).eval(), torch.zeros(1, T, D), "encoder")


@pytest.fixture(scope="module")
def encoder():
    return _workload()


def _time(net, chip=None, transport="onchip", inferences=2, replicate=False, **cfg):
    chip = hermes_attn() if chip is None else chip
    layers = net.lowered()
    mapping = map_workload(layers, chip, replicate=replicate)
    return mapping, simulate_timing(mapping, layers, chip, TimingConfig(
        transport=TransportMode(transport), inferences=inferences, **cfg))


def test_attention_work_appears_in_time_links_and_energy(encoder):
    mapping, r = _time(encoder, inferences=3)
    assert mapping.cores_used == 24  # in_proj 3, out_proj 1, linear1 4, linear2 4 per layer
    # two attentions and three LayerNorms on the way into a layer (the last one, after the
    # last weight layer, is in digital_after and not timed), one per unit in turn
    stages = {u: c["vectors"] // (3 * T) for u, c in r.attention_counts.items()}
    assert stages == {0: 2, 1: 1, 2: 1, 3: 1}
    assert all(c["busy_ps"] > 0 and c["macs"] > 0 for c in r.attention_counts.values())
    attn_macs = 2 * 3 * T * (2 * T * D)  # two layers, 3 inferences, 2·T·d per token
    ln_macs = 3 * 3 * T * 2 * D
    assert r.counts.attention_macs == attn_macs + ln_macs
    assert r.counts.attention_active_ps == sum(c["busy_ps"]
                                               for c in r.attention_counts.values())
    into = [name for name in r.link_utilization if name.endswith(tuple(
        f"->attn{u}" for u in range(4)))]
    out = [name for name in r.link_utilization if name.startswith("attn")]
    assert into and out and all(r.link_utilization[n] > 0 for n in into + out)
    parts = r.summary()["energy_breakdown"]
    assert all(parts[c] > 0 for c in ATTENTION)
    assert r.energy.total_pj == pytest.approx(sum(r.energy.as_dict().values()))
    assert r.energy_with(r.energy_spec) == r.energy  # recomputed with the run's units


def test_runs_in_both_transports_and_norm_placements(encoder):
    chip = hermes_attn()
    layers = encoder.lowered()
    blocks = [PlacedBlock(b.layer, b.replica, b.rows, b.cols, b.core)
              for b in map_workload(layers, chip).blocks]
    plan = build_plan(layers, blocks, chip, TransportMode.ONCHIP)
    routes = {(r.src, r.dst) for r in required_routes(plan)}
    assert any(dst == "attn0" for _, dst in routes) and any(s == "attn0" for s, _ in routes)
    pre = _workload(norm_first=True)  # its first LayerNorm takes the network input
    for net in (encoder, pre):
        for transport in ("onchip", "offchip"):
            _, r = _time(net, transport=transport, replicate=transport == "onchip")
            assert r.latency_ps > 0 and r.counts.attention_macs > 0, (transport, net)


def test_both_paths_count_the_same_mvms_per_core(encoder):
    chip = hermes_attn()
    x = np.random.default_rng(1).normal(size=(2, T, D)).astype(np.float32)
    for replicate in (False, True):
        mapping, r = _time(encoder, inferences=len(x), replicate=replicate, timeline=False)
        assert any(ly.replicas > 1 for ly in mapping.layers) == replicate
        inst = ChipInstance(encoder, mapping, noise_free(chip), np.random.default_rng(0),
                            np.random.default_rng(1), calibration_inputs=x)
        inst.run(x, np.random.default_rng(2))
        timed = {c: n["mvms"] for c, n in r.core_counts.items()}
        assert timed == {c: int(n) for c, n in enumerate(inst.mvms) if n}
        assert sum(timed.values()) == len(x) * T * sum(  # every block: one MVM per token
            len(mapping.blocks_of(ly.name)) // ly.replicas for ly in mapping.layers)


def test_more_macs_per_cycle_lower_the_latency(encoder):
    def latency(macs):
        return _time(encoder, override(hermes_attn(), "attention.macs_per_cycle", macs),
                     transport="offchip", timeline=False)[1].latency_ps

    assert latency(32) < 0.8 * latency(16)  # compute-bound: much faster
    assert latency(512) < latency(256)  # the default: the links limit more, still faster


def test_an_attention_waits_for_every_key_unless_causal():
    """Out-projection token 0 needs the keys and values of all tokens (of tokens 0..0 when
    causal): its first MVM comes after the in-projection's last, or before it."""
    for causal in (False, True):
        _, r = _time(_workload(causal=causal), inferences=1)
        mvms = {}
        for core, start, _, action in r.timeline:
            if action == "mvm":
                mvms.setdefault(core, []).append(start)
        mapping = map_workload(_workload(causal=causal).lowered(), hermes_attn())
        in_last = max(max(mvms[b.core]) for b in mapping.blocks_of(
            "enc.layers.0.self_attn.in_proj"))
        out_first = min(min(mvms[b.core]) for b in mapping.blocks_of(
            "enc.layers.0.self_attn.out_proj"))
        assert (out_first < in_last) == causal


def test_no_attention_unit_is_a_one_line_error(encoder):
    mapping = map_workload(encoder.lowered(), hermes())
    with pytest.raises(TimingError) as err:
        simulate_timing(mapping, encoder.lowered(), hermes())
    msg = str(err.value)
    assert "attention.units" in msg and "hermes_attn" in msg and "\n" not in msg
    with pytest.raises(TimingError, match="attention.units"):
        simulate(encoder, hermes(), config=RunConfig(accuracy=False))


def test_too_little_local_memory_is_a_one_line_error(encoder):
    chip = override(hermes_attn(), "attention.local_memory_kb", 16)
    with pytest.raises(TimingError, match=r"attention.local_memory_kb: attention unit 0 needs "
                                          r"24\.\d kB"):
        _time(encoder, chip)


def test_a_digital_input_from_two_layers_is_refused():
    layers = [LoweredLayer("a", "linear", 64, 64, 4), LoweredLayer("b", "linear", 64, 64, 4),
              LoweredLayer("c", "linear", 64, 64, 4, sources=("a", "b"), digital=("GELU",))]
    blocks = [PlacedBlock(n, 0, (0, 64), (0, 64), i) for i, n in enumerate("abc")]
    with pytest.raises(TimingError, match="fed by one other layer"):
        build_plan(layers, blocks, hermes_attn())


def test_chipsim_run_reports_the_attention_units(encoder):
    report = simulate(encoder, "hermes_attn", config=RunConfig(accuracy=False, inferences=2))
    t = report.timing
    assert t.latency_ns > 0 and t.tops_per_w > 0
    assert all(t.energy_breakdown[c] > 0 for c in ATTENTION)
    assert report.summary["area_breakdown_mm2"]["chip"]["attention"] == 4.0
