"""A Transformer on the chip executor: its projections on the cores, attention, LayerNorm, GELU
and the position table in FP16; against the float forward, and its MVMs per core."""

import numpy as np
import pytest
import torch
from torch import nn

from chipsim import RunConfig, simulate
from chipsim.data.user import dataset
from chipsim.functional.executor import ChipInstance, digital_fp16, noise_free
from chipsim.mapping import map_workload
from chipsim.spec import hermes, hermes_attn
from chipsim.timing import TimingError, build_plan, mvm_counts, simulate_timing
from chipsim.timing.plan import PlacedBlock
from chipsim.workload import DIGITAL_TYPES, forward, from_torch
from chipsim.workload.forward import activations, apply_op

VOCAB, T = 20, 8


class _CharEncoder(nn.Module):
    """Embedding, position table, 2-layer encoder (d_model 32, 4 heads, feed-forward 64)."""

    def __init__(self, norm_first, activation, causal):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 32)
        self.pos = nn.Parameter(0.3 * torch.randn(1, T, 32))
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, activation=activation,
                                       norm_first=norm_first), 2, enable_nested_tensor=False)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))
        self.causal = causal
        self.head = nn.Linear(32, VOCAB)

    def forward(self, ids):
        x = self.embed(ids) + self.pos[:, :T]
        return self.head(self.encoder(x, mask=self.mask) if self.causal else self.encoder(x))


def _workload(norm_first=True, activation="gelu", causal=True, seed=0):
    torch.manual_seed(seed)
    return from_torch(_CharEncoder(norm_first, activation, causal).eval(),
                      torch.zeros(1, T, dtype=torch.long), "char-encoder")


def _ids(n=6, seed=1):
    return np.random.default_rng(seed).integers(0, VOCAB, (n, T))


def _instance(net, x, quantize, replicate=False):
    chip = noise_free(hermes())
    mapping = map_workload(net.lowered(), chip, replicate=replicate)
    return mapping, ChipInstance(net, mapping, chip, np.random.default_rng(0),
                                 np.random.default_rng(1), quantize=quantize,
                                 calibration_inputs=x, t_s=86400.0)


@pytest.mark.parametrize("norm_first, activation, causal", [(True, "gelu", True),
                                                            (False, "relu", False)])
def test_noise_and_quantization_off_reproduce_the_float_forward(norm_first, activation,
                                                                 causal):
    net, x = _workload(norm_first, activation, causal), _ids()
    _, inst = _instance(net, x, quantize=False, replicate=True)
    ref = forward(net, x)
    np.testing.assert_allclose(inst.run(x, np.random.default_rng(2)), ref, rtol=1e-4,
                               atol=1e-5 * np.abs(ref).max())


def test_quantized_noise_free_chip_follows_the_float_forward():
    net, x = _workload(), _ids(16)
    _, inst = _instance(net, x, quantize=True)
    y, ref = inst.run(x, np.random.default_rng(2)), forward(net, x)
    err = np.sqrt(np.mean((y - ref) ** 2)) / np.sqrt(np.mean(ref**2))
    assert 0 < err < 0.1  # INT8 activations, FP16 digital arithmetic: close, not equal
    assert np.mean(y.argmax(-1) == ref.argmax(-1)) > 0.9


def test_digital_operators_compute_in_fp16():
    """With FP16 rounding each digital operator's output is FP16 and within FP16's relative
    precision (a few ulp after several operations) of the float result."""
    net, x = _workload(), _ids(2)
    acts = activations(net, x)
    digital = [node for node in net.nodes if isinstance(node, DIGITAL_TYPES)]
    assert {node.kind for node in digital} == {"SelfAttention", "LayerNorm", "GELU",
                                               "PositionEmbedding"}
    for node in digital:
        args = [acts[i] for i in node.inputs]
        exact = apply_op(net, node, *args)
        fp16 = apply_op(net, node, *args, rounding=digital_fp16)
        assert np.array_equal(digital_fp16(fp16), fp16), node.name
        scale = np.abs(exact).max()
        assert 0 < np.abs(fp16 - exact).max() < 4e-3 * scale, node.name


def test_mvm_counts_per_core_are_one_per_token():
    """Every block computes one MVM per token its replica takes (T per sequence over the
    replicas of its layer): the timing plan's rule on the same mapping."""
    net, x = _workload(), _ids(3)
    mapping, inst = _instance(net, x, quantize=True, replicate=True)
    assert any(layer.replicas > 1 for layer in mapping.layers)
    inst.run(x, np.random.default_rng(2))
    for layer in mapping.layers:
        assert layer.vectors == T
        per_replica = [T // layer.replicas + (r < T % layer.replicas)
                       for r in range(layer.replicas)]
        for b in mapping.blocks_of(layer.name):
            assert inst.mvms[b.core] == len(x) * per_replica[b.replica], b.label
    # the timing plan's rule, on a chip with attention units (the mapping is the same)
    blocks = [PlacedBlock(b.layer, b.replica, b.rows, b.cols, b.core) for b in mapping.blocks]
    plan = build_plan(net.lowered(), blocks, hermes_attn())
    assert mvm_counts(plan, len(x)) == {c: int(n) for c, n in enumerate(inst.mvms) if n}


def test_timing_needs_an_attention_unit():
    net, x = _workload(), _ids(4)
    chip = hermes()
    mapping = map_workload(net.lowered(), chip)
    with pytest.raises(TimingError, match="no digital attention unit .* hermes_attn"):
        simulate_timing(mapping, net.lowered(), chip)
    data = dataset(net, x, np.roll(x, -1, axis=1))
    with pytest.raises(TimingError, match="attention.units"):
        simulate(net, chip, config=RunConfig(accuracy=False), data=data)
    report = simulate(net, chip, config=RunConfig(samples=4, instances=1, timing=False),
                      data=data)
    assert report.accuracy is not None and report.timing is None
    report = simulate(net, hermes_attn(), config=RunConfig(samples=4, instances=1,
                                                           inferences=2), data=data)
    assert report.accuracy is not None and report.timing.latency_ns > 0
    counts = report.mvm_counts  # per sequence on both paths
    assert counts.functional_per_sample == counts.timing_per_inference
