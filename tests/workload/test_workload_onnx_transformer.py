"""Transformers through the ONNX importer: what ``torch.onnx.export(dynamo=False)`` writes for
``nn.TransformerEncoderLayer`` / ``nn.MultiheadAttention`` imports to the same workload as the
PyTorch import of the same network, and an attention-like subgraph it cannot read is a
one-line error."""

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from transformer_nets import Encoder

from chipsim.mapping import map_workload
from chipsim.spec import hermes
from chipsim.workload import WorkloadError, forward, from_onnx, from_torch

TOL = dict(rtol=1e-4, atol=1e-5)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning")


class Masked(nn.Module):
    """One encoder layer given the causal mask without the is_causal hint (float or bool)."""

    def __init__(self, boolean=False):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        upper = torch.ones(8, 8, dtype=torch.bool).triu(1)
        self.register_buffer("mask", upper if boolean else
                             nn.Transformer.generate_square_subsequent_mask(8))
        self.d = 16

    def forward(self, x):
        return self.layer(x, src_mask=self.mask)


class Attention(nn.Module):
    """nn.MultiheadAttention alone (self-attention), then LayerNorm and GELU."""

    def __init__(self, d=16, heads=2, bias=True):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True, bias=bias)
        self.norm = nn.LayerNorm(d)
        self.d = d

    def forward(self, x):
        return nn.functional.gelu(self.norm(self.attn(x, x, x, need_weights=False)[0]))


CASES = {
    "post-norm-relu": (lambda: Encoder(), {}),
    "pre-norm-gelu": (lambda: Encoder(norm_first=True, activation="gelu"), {}),
    "causal-final-norm": (lambda: Encoder(causal=True, final_norm=True), {}),
    "gelu-tanh": (lambda: Encoder(activation=nn.GELU(approximate="tanh")), {}),
    "attention-d32-8-heads": (lambda: Attention(32, 8), {}),
    "attention-no-bias": (lambda: Attention(bias=False), {}),
    # before LayerNormalization (opset 17) and Gelu (opset 20): their decompositions
    "opset-16-decomposed": (lambda: Encoder(norm_first=True, activation="gelu"),
                            {"opset_version": 16}),
    "opset-16-gelu-tanh": (lambda: Encoder(activation=nn.GELU(approximate="tanh")),
                           {"opset_version": 16}),
    "float-mask": (lambda: Masked(), {}),
    "bool-mask-batch-2": (lambda: Masked(boolean=True), {"batch": 2}),
    "causal-batch-3": (lambda: Encoder(causal=True), {"batch": 3}),
    "dynamic-batch": (lambda: Encoder(), {"dynamic_axes": {"x": {0: "n"}, "y": {0: "n"}}}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_onnx_transformer_imports_as_the_torch_one(case, tmp_path):
    make, options = CASES[case]
    options = dict(options)
    torch.manual_seed(0)
    model = make().eval()
    d = model.d
    x = torch.randn(options.pop("batch", 1), 8, d)
    path = tmp_path / "net.onnx"
    torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"],
                      output_names=["y"], **options)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert "Softmax" in ops
    if "opset_version" in options:
        assert {"Tanh" if "tanh" in case else "Erf", "Pow"} <= ops
        assert "LayerNormalization" not in ops and "Gelu" not in ops
    via_torch, via_onnx = from_torch(model, x), from_onnx(path)
    assert [n.kind for n in via_onnx.nodes] == [n.kind for n in via_torch.nodes]
    for got, want in zip(via_onnx.nodes, via_torch.nodes, strict=True):
        if got.kind in ("SelfAttention", "LayerNorm", "GELU", "Linear"):
            assert got.name == want.name or got.kind == "GELU"
            assert got == type(got)(**{f: getattr(want, f) for f in want.__slots__
                                       if f not in ("name", "inputs")} | {
                "name": got.name, "inputs": got.inputs})
    assert via_onnx.lowered() == via_torch.lowered()
    for layer in via_torch.lowered():
        np.testing.assert_array_equal(via_onnx.matrix(layer.name), via_torch.matrix(layer.name))
        for got, want in zip(via_onnx.affine(layer.name), via_torch.affine(layer.name),
                             strict=True):
            np.testing.assert_array_equal(got, want)
    batch = np.random.default_rng(1).standard_normal((3, 8, d)).astype(np.float32)
    np.testing.assert_allclose(forward(via_onnx, batch), forward(via_torch, batch), **TOL)
    with torch.enable_grad():  # PyTorch's reference path, not its fused one
        want = model(torch.from_numpy(batch)).detach().numpy()
    np.testing.assert_allclose(forward(via_onnx, batch), want, **TOL)
    chip = hermes()
    assert (map_workload(via_onnx.lowered(), chip, workload_name="t")
            == map_workload(via_torch.lowered(), chip, workload_name="t"))


def _graph(tmp_path, middle):
    """x (1, 8, 16) → in-projection 16 → 48 → ``middle`` nodes (from "qkv" to "a") →
    out-projection of "a" → y (plus "b", if ``middle`` makes it)."""
    rng = np.random.default_rng(0)
    inits = {"in.weight": rng.standard_normal((16, 48)),
             "out.weight": rng.standard_normal((48, 16)), "half": np.array(0.5)}
    nodes = [helper.make_node("MatMul", ["x", "in.weight"], ["qkv"], name="/in/MatMul"),
             *middle,
             helper.make_node("MatMul", ["a", "out.weight"], ["y"], name="/out/MatMul")]
    if any("b" in n.output for n in middle):
        nodes[-1].output[0] = "y0"
        nodes.append(helper.make_node("Add", ["y0", "b"], ["y"]))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16])],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), path)
    return path


@pytest.mark.parametrize("middle, message", [
    ([helper.make_node("Softmax", ["qkv"], ["a"], name="/attn/Softmax")],
     "Softmax with a subgraph between projections that is not multi-head self-attention"),
    ([helper.make_node("Softmax", ["qkv"], ["s"], name="/attn/Softmax"),
      helper.make_node("Sigmoid", ["s"], ["a"], name="/attn/Sigmoid")],
     "Sigmoid inside the self-attention at '/attn/Softmax' at '/attn/Sigmoid'"),
    ([helper.make_node("Softmax", ["qkv"], ["s"], name="/attn/Softmax"),
      helper.make_node("Mul", ["s", "half"], ["a"]),
      helper.make_node("MatMul", ["s", "out.weight"], ["b"])],
     r"Softmax with a self-attention with 1 Softmax and 2 outputs \['a', 's'\]"),
    ([helper.make_node("Erf", ["qkv"], ["e"], name="/act/Erf"),
      helper.make_node("Mul", ["e", "half"], ["a"])],
     "Erf with element-wise operators around it that are not GELU"),
], ids=["not-attention", "foreign-operator", "two-outputs", "erf-not-gelu"])
def test_attention_like_subgraph_not_read_is_a_one_line_error(tmp_path, middle, message):
    with pytest.raises(WorkloadError, match="unsupported operator " + message) as info:
        from_onnx(_graph(tmp_path, middle))
    assert "\n" not in str(info.value) and "supported: Conv" in str(info.value)


def test_softmax_outside_an_attention(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["y"], name="/s/Softmax")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph), tmp_path / "s.onnx")
    with pytest.raises(WorkloadError, match="unsupported operator Softmax with an input that "
                                            "comes from no in-projection"):
        from_onnx(tmp_path / "s.onnx")


def test_exported_attention_with_another_mask_is_a_one_line_error(tmp_path):
    """A sliding-window mask: the exported subgraph is attention, but not SelfAttention's."""
    torch.manual_seed(0)
    model = Masked().eval()
    model.mask = torch.zeros(8, 8).masked_fill(torch.ones(8, 8, dtype=torch.bool).tril(-3),
                                               float("-inf"))
    path = tmp_path / "window.onnx"
    torch.onnx.export(model, (torch.randn(1, 8, 16),), str(path), dynamo=False,
                      input_names=["x"], output_names=["y"])
    with pytest.raises(WorkloadError, match="unsupported operator Softmax with a subgraph "
                       "between projections that is not multi-head self-attention.* at "
                       "'/layer/self_attn/Softmax'") as info:
        from_onnx(path)
    assert "\n" not in str(info.value)
