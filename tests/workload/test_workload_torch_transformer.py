"""PyTorch Transformer modules through the torch importer: the float forward against PyTorch,
the IR they expand into, its mapping, and one-line errors for what is not supported."""

import numpy as np
import pytest
import torch
from torch import nn
from transformer_nets import Encoder

from chipsim.mapping import map_workload
from chipsim.spec import hermes
from chipsim.workload import WorkloadError, forward, from_torch

TOL = dict(rtol=1e-4, atol=1e-5)


def _torch_out(module, x):
    """PyTorch's output on its reference path: with gradients on, the encoder layer does not
    take its fused fast path (which would, e.g., ignore GELU(approximate="tanh"))."""
    with torch.enable_grad():
        return module(x).detach().numpy()


def _check(model, x):
    model.eval()
    net = from_torch(model, x)
    np.testing.assert_allclose(forward(net, x.numpy()), _torch_out(model, x), **TOL)
    return net


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu-tanh"])
def test_encoder_layers_match_torch(norm_first, activation):
    torch.manual_seed(0)
    act = nn.GELU(approximate="tanh") if activation == "gelu-tanh" else activation
    _check(Encoder(norm_first, act), torch.randn(3, 8, 16))


@pytest.mark.parametrize("table", ["slice", "shape", "whole"])
def test_causal_encoder_with_final_norm_matches_torch(table):
    torch.manual_seed(1)
    net = _check(Encoder(causal=True, final_norm=True, table=table), torch.randn(2, 8, 16))
    attention = [n for n in net.nodes if n.kind == "SelfAttention"]
    assert len(attention) == 2 and all(n.causal for n in attention)
    assert net.nodes[-2].name == "encoder.norm"


def test_boolean_causal_mask_and_a_bare_encoder_layer():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, bias=False)
            self.register_buffer("mask", torch.ones(8, 8, dtype=torch.bool).triu(1))

        def forward(self, x):
            return self.layer(x, src_mask=self.mask)

    torch.manual_seed(2)
    net = _check(M(), torch.randn(2, 8, 16))
    assert [n.name for n in net.nodes] == [
        "layer.self_attn.in_proj", "layer.self_attn", "layer.self_attn.out_proj", "layer.add1",
        "layer.norm1", "layer.linear1", "layer.activation", "layer.linear2", "layer.add2",
        "layer.norm2"]
    assert net.node("layer.self_attn").causal and not net.node("layer.linear1").bias


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_alone_matches_torch(need_weights):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
            self.norm = nn.LayerNorm(16)

        def forward(self, x):
            return nn.functional.gelu(self.norm(self.attn(x, x, x, need_weights=need_weights)[0]))

    torch.manual_seed(3)
    net = _check(M(), torch.randn(2, 8, 16))
    assert [(n.name, n.kind) for n in net.nodes][:3] == [
        ("attn.in_proj", "Linear"), ("attn", "SelfAttention"), ("attn.out_proj", "Linear")]


def test_bare_multihead_attention_is_self_attention_of_the_input():
    torch.manual_seed(6)
    attn, x = nn.MultiheadAttention(16, 4, batch_first=True).eval(), torch.randn(2, 8, 16)
    net = from_torch(attn, x)
    with torch.enable_grad():
        want = attn(x, x, x)[0].detach().numpy()
    np.testing.assert_allclose(forward(net, x.numpy()), want, **TOL)
    assert [n.name for n in net.nodes] == ["in_proj", "self_attn", "out_proj"]


def test_token_ids_into_a_transformer_fix_the_sequence_length():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 16)
            self.pos = nn.Parameter(torch.randn(8, 16))
            self.encoder = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(16, 4, 32, batch_first=True, norm_first=True), 1,
                enable_nested_tensor=False)
            self.fc = nn.Linear(16, 20)

        def forward(self, x):
            return self.fc(self.encoder(self.embed(x) + self.pos))

    torch.manual_seed(4)
    ids = torch.randint(0, 20, (3, 8))
    net = _check(M(), ids)
    assert net.input_shape == (8,)
    assert {ly.vectors for ly in net.lowered()} == {8}


def test_transformer_encoder_maps_by_the_split_rule():
    """d_model 256, feed-forward 1024, 4 heads: in_proj 256 × 768 in 3 blocks, out_proj
    256 × 256 in 1, linear1 256 × 1024 in 4, linear2 1024 × 256 in 4 (blocks of ≤ 256 × 256)."""
    torch.manual_seed(5)
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True), 2,
        enable_nested_tensor=False).eval()
    net = from_torch(encoder, torch.zeros(1, 16, 256))  # a bare encoder: its state_dict names
    mapping = map_workload(net.lowered(), hermes())
    want = {"self_attn.in_proj": (256, 768, 3), "self_attn.out_proj": (256, 256, 1),
            "linear1": (256, 1024, 4), "linear2": (1024, 256, 4)}
    assert len(mapping.layers) == 8
    for layer in mapping.layers:
        rows, cols, blocks = want[layer.name.split(".", 2)[2]]  # layers.<i>.<name>
        assert (layer.rows, layer.cols, layer.blocks, layer.vectors) == (rows, cols, blocks, 16)
        assert {(b.rows[1] - b.rows[0], b.cols[1] - b.cols[0])
                for b in mapping.blocks_of(layer.name)} == {(256, 256)}
    assert mapping.cores_used == 2 * (3 + 1 + 4 + 4)


class _Attn(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, **({"batch_first": True} | options))

    def forward(self, x):
        return self.attn(x, x, x)[0]


class _Cross(_Attn):
    def forward(self, x):
        return self.attn(x, x.relu(), x)[0]


class _Padded(_Attn):
    def forward(self, x):
        return self.attn(x, x, x, key_padding_mask=torch.zeros(2, 4, dtype=torch.bool))[0]


class _Masked(_Attn):
    def forward(self, x):
        return self.attn(x, x, x, attn_mask=torch.zeros(4, 4, dtype=torch.bool).tril())[0]


class _HintOnly(_Attn):
    def forward(self, x):
        return self.attn(x, x, x, is_causal=True)[0]


class _Weights(_Attn):
    def forward(self, x):
        return self.attn(x, x, x)[1]


class _Tuple(_Attn):
    def forward(self, x):
        return self.attn(x, x, x)


class _Layer(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, 16, **({"batch_first": True} | options))

    def forward(self, x):
        return self.layer(x)


class _BadTable(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(8))

    def forward(self, x):
        return x + self.pos


@pytest.mark.parametrize("model, what", [
    (_Cross(), "other than self-attention"),
    (_Padded(), "key_padding_mask"),
    (_Masked(), "attention mask other than the causal mask"),
    (_HintOnly(), "is_causal=True without its causal mask"),
    (_Weights(), r"MultiheadAttention output \[1\]"),
    (_Tuple(), "network output that is not one tensor"),
    (_Attn(batch_first=False), "without batch_first=True"),
    (_Attn(kdim=4, vdim=4), "kdim or vdim"),
    (_Attn(add_bias_kv=True), "add_bias_kv"),
    (_Layer(activation=nn.Tanh()), "activation Tanh"),
    (_Layer(batch_first=False), "nn.TransformerEncoderLayer without batch_first=True"),
    (nn.Sequential(nn.LayerNorm((4, 8))), r"nn.LayerNorm\(4, 8\)"),
    (_BadTable(), r"adding a constant of shape \(8,\)"),
])
def test_unsupported_transformer_options_are_one_line_errors(model, what):
    with pytest.raises(WorkloadError, match="unsupported operator") as info:
        from_torch(model.eval(), torch.zeros(2, 4, 8))
    message = str(info.value)
    assert "\n" not in message
    assert pytest.importorskip("re").search(what, message), message
