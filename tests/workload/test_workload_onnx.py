"""The ONNX importer: a PyTorch export imports to the same workload as the torch import."""

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from chipsim.mapping import map_workload
from chipsim.spec import hermes
from chipsim.workload import WorkloadError, forward, from_onnx, from_torch
from chipsim.workload.importers import ONNX_OPS

TOL = dict(rtol=1e-4, atol=1e-5)
# torch.onnx.export(dynamo=False): the TorchScript exporter keeps BatchNormalization separate
# with do_constant_folding=False (the dynamo exporter always fuses it) and is deprecated
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _export(model, x, path, **options):
    torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"],
                      output_names=["y"], **options)
    return path


@pytest.fixture
def exported(small_resnet, images, tmp_path):
    return _export(small_resnet, images, tmp_path / "small.onnx", do_constant_folding=False)


def test_onnx_import_equals_torch_import(small_resnet, images, exported):
    via_torch = from_torch(small_resnet, images)
    via_onnx = from_onnx(exported)
    assert via_onnx.name == "small"
    assert "BatchNormalization" in {n.op_type for n in onnx.load(exported).graph.node}
    assert via_onnx.lowered() == via_torch.lowered()
    for layer in via_torch.lowered():
        np.testing.assert_array_equal(via_onnx.matrix(layer.name), via_torch.matrix(layer.name))
        for got, want in zip(via_onnx.affine(layer.name), via_torch.affine(layer.name),
                             strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    x = images.numpy()
    np.testing.assert_allclose(forward(via_onnx, x), forward(via_torch, x), rtol=1e-5,
                               atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(forward(via_onnx, x), small_resnet(images).numpy(), **TOL)
    # and both imports map identically onto the reference chip
    chip = hermes()
    assert (map_workload(via_onnx.lowered(), chip, workload_name="small")
            == map_workload(via_torch.lowered(), chip, workload_name="small"))


def test_onnx_with_batchnorm_fused_by_exporter(small_resnet, images, tmp_path):
    path = _export(small_resnet, images, tmp_path / "fused.onnx")
    assert "BatchNormalization" not in {n.op_type for n in onnx.load(path).graph.node}
    net = from_onnx(path)
    assert [layer.rows for layer in net.lowered()] == [layer.rows for layer in
                                               from_torch(small_resnet, images).lowered()]
    with torch.no_grad():
        np.testing.assert_allclose(forward(net, images.numpy()), small_resnet(images).numpy(),
                                   **TOL)


def _f32(value):
    value = np.asarray(value)
    return value.astype(np.float32) if value.dtype.kind == "f" else value


def _model(nodes, inits, in_shape, out_shape, path):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(_f32(v), k) for k, v in inits.items()])
    onnx.save(helper.make_model(graph), path)
    return path


def test_onnx_matmul_add_reshape_and_pools(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3))
    m = rng.standard_normal((16, 5))
    b = rng.standard_normal(5)
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight"], ["c"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/act/Relu"),
        helper.make_node("AveragePool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("MaxPool", ["p"], ["q"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Constant", [], ["shape"],
                         value=numpy_helper.from_array(np.array([0, -1], np.int64))),
        helper.make_node("Reshape", ["q", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "fc.weight"], ["mm"]),
        helper.make_node("Add", ["mm", "fc.bias"], ["y"]),
    ]
    path = _model(nodes, {"conv.weight": w, "fc.weight": m, "fc.bias": b}, [2, 3, 8, 8],
                  [2, 5], tmp_path / "g.onnx")
    net = from_onnx(path)
    assert [n.kind for n in net.nodes] == ["Conv2d", "ReLU", "AvgPool", "MaxPool", "Flatten",
                                           "Linear"]
    assert net.nodes[1].name == "act"
    np.testing.assert_array_equal(net.matrix("fc"), m.astype(np.float32))
    np.testing.assert_array_equal(net.affine("fc").bias, b.astype(np.float32))
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    c = np.zeros((2, 4, 8, 8))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for i in range(8):  # direct convolution, one output pixel at a time
        for j in range(8):
            c[:, :, i, j] = np.einsum("ncij,ocij->no", xp[:, :, i:i + 3, j:j + 3], w)
    p = np.maximum(c, 0).reshape(2, 4, 4, 2, 4, 2).mean(axis=(3, 5))
    q = p.reshape(2, 4, 2, 2, 2, 2).max(axis=(3, 5))
    np.testing.assert_allclose(forward(net, x), q.reshape(2, -1) @ m + b, rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("keepdims", [0, 1])
def test_onnx_reduce_mean_as_global_pool(tmp_path, keepdims):
    nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=keepdims)]
    if keepdims:
        nodes.append(helper.make_node("Flatten", ["m"], ["f"]))
    nodes.append(helper.make_node("Gemm", ["f" if keepdims else "m", "fc.weight"], ["y"],
                                  transB=1, alpha=2.0))
    w = np.arange(12.0).reshape(4, 3)
    path = _model(nodes, {"fc.weight": w, "axes": np.array([-2, -1])}, [1, 3, 4, 4], [1, 4],
                  tmp_path / "m.onnx")
    net = from_onnx(path)
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(forward(net, x), 2 * x.mean(axis=(2, 3)) @ w.T, rtol=1e-5)


def test_unsupported_onnx_operator(tmp_path):
    nodes = [helper.make_node("Sigmoid", ["x"], ["y"], name="/act/Sigmoid")]
    path = _model(nodes, {}, [1, 4], [1, 4], tmp_path / "s.onnx")
    with pytest.raises(WorkloadError, match="unsupported operator Sigmoid at '/act/Sigmoid'") \
            as info:
        from_onnx(path)
    assert str(path) in str(info.value)
    assert all(op in str(info.value) for op in ONNX_OPS)


@pytest.mark.parametrize("node, message", [
    (helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1], pads=[0, 0, 1, 1]),
     "Conv with asymmetric"),
    (helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1], group=2),
     "Conv with groups"),
    (helper.make_node("Add", ["x", "w"], ["y"]), "Add with a constant that is not the bias"),
])
def test_unsupported_onnx_attributes(tmp_path, node, message):
    path = _model([node], {"w": np.ones((2, 2, 1, 1))}, [1, 2, 4, 4], [1, 2, 4, 4],
                  tmp_path / "a.onnx")
    with pytest.raises(WorkloadError, match=message):
        from_onnx(path)


def test_onnx_bad_file(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x08\x07 this is not a protobuf \xff\xff")
    with pytest.raises(WorkloadError, match="cannot read an ONNX model"):
        from_onnx(path)
    with pytest.raises(WorkloadError, match="missing.onnx: cannot read the ONNX model: No such "
                       "file"):
        from_onnx(tmp_path / "missing.onnx")


class _Recurrent(torch.nn.Module):
    """An embedding (optional), one batch-first LSTM and a linear read-out per step."""

    def __init__(self, vocab=None, features=8, hidden=16, out=5, bias=True):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, features) if vocab else None
        self.lstm = torch.nn.LSTM(features, hidden, batch_first=True, bias=bias)
        self.fc = torch.nn.Linear(hidden, out)

    def forward(self, x):
        return self.fc(self.lstm(self.embed(x) if self.embed is not None else x)[0])


@pytest.mark.parametrize("vocab, bias", [(None, True), (20, True), (None, False)],
                         ids=["lstm-linear", "embedding-lstm-linear", "no-bias"])
def test_onnx_lstm_imports_as_the_torch_lstm(tmp_path, vocab, bias):
    """An exported nn.LSTM maps exactly like the same network imported from PyTorch."""
    torch.manual_seed(0)
    net = _Recurrent(vocab, bias=bias).eval()
    rng = np.random.default_rng(1)
    x = (rng.integers(0, vocab, (3, 12)) if vocab
         else rng.standard_normal((3, 12, 8)).astype(np.float32))
    path = _export(net, torch.from_numpy(x[:1]), tmp_path / "rnn.onnx")
    assert "LSTM" in {n.op_type for n in onnx.load(path).graph.node}
    via_torch, via_onnx = from_torch(net, torch.from_numpy(x[:1])), from_onnx(path)
    assert [n.name for n in via_onnx.nodes] == [n.name for n in via_torch.nodes]
    assert via_onnx.lowered() == via_torch.lowered()
    for layer in via_torch.lowered():
        np.testing.assert_array_equal(via_onnx.matrix(layer.name), via_torch.matrix(layer.name))
    np.testing.assert_array_equal(forward(via_onnx, x), forward(via_torch, x))
    with torch.no_grad():
        np.testing.assert_allclose(forward(via_onnx, x), net(torch.from_numpy(x)).numpy(), **TOL)
    chip = hermes()
    assert (map_workload(via_onnx.lowered(), chip, workload_name="rnn")
            == map_workload(via_torch.lowered(), chip, workload_name="rnn"))


def _lstm_graph(tmp_path, **changes):
    """A hand-built LSTM graph: x (1, T, 4) → Transpose → LSTM(H = 3) → Squeeze → Transpose."""
    rng = np.random.default_rng(0)
    inputs = changes.pop("inputs", ["x", "W", "R", "B"])
    inits = {"W": rng.standard_normal((1, 12, 4)), "R": rng.standard_normal((1, 12, 3)),
             "B": rng.standard_normal((1, 24)), "h0": changes.pop("h0", np.zeros((1, 1, 3))),
             "axes": np.array([1])}
    attrs = {"hidden_size": 3, **changes}
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("LSTM", ["xt", *inputs[1:]], ["Y", "Yh"], name="/rnn/LSTM",
                              **attrs),
             helper.make_node("Squeeze", ["Y", "axes"], ["s"]),
             helper.make_node("Transpose", ["s"], ["y"], perm=[1, 0, 2])]
    return _model(nodes, inits, [1, 5, 4], [1, 5, 3], tmp_path / "l.onnx")


def test_onnx_lstm_gates_in_onnx_order(tmp_path):
    """ONNX's (i, o, f, c) gate blocks become the chip's interleaved (i, c, f, o) columns."""
    net = from_onnx(_lstm_graph(tmp_path))
    x = np.random.default_rng(2).standard_normal((2, 5, 4)).astype(np.float32)
    inits = onnx.load(tmp_path / "l.onnx").graph.initializer
    w, r, b = (numpy_helper.to_array(t) for t in inits[:3])
    h, c, want = np.zeros((2, 3)), np.zeros((2, 3)), []
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(5):
        z = x[:, t] @ w[0].T + h @ r[0].T + b[0, :12] + b[0, 12:]
        i, o, f, g = sig(z[:, :3]), sig(z[:, 3:6]), sig(z[:, 6:9]), np.tanh(z[:, 9:])
        c = f * c + i * g
        h = o * np.tanh(c)
        want.append(h)
    np.testing.assert_allclose(forward(net, x), np.stack(want, 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("changes, message", [
    ({"direction": "bidirectional"}, "LSTM with a direction, clip"),
    ({"clip": 3.0}, "LSTM with a direction, clip"),
    ({"h0": np.ones((1, 1, 3)), "inputs": ["x", "W", "R", "B", "", "h0"]},
     "LSTM with a non-zero initial state"),
    ({"layout": 1}, "LSTM with an input that is not a time-first sequence"),
], ids=["bidirectional", "clip", "initial-state", "layout"])
def test_unsupported_onnx_lstm(tmp_path, changes, message):
    with pytest.raises(WorkloadError, match=message):
        from_onnx(_lstm_graph(tmp_path, **changes))


def test_onnx_gru_is_an_unsupported_operator(tmp_path):
    torch.manual_seed(0)

    class Gru(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(4, 3, batch_first=True)

        def forward(self, x):
            return self.gru(x)[0]

    path = _export(Gru().eval(), torch.zeros(1, 5, 4), tmp_path / "gru.onnx")
    with pytest.raises(WorkloadError, match=r"unsupported operator GRU at '/gru/GRU'; "
                                            r"supported: .*LSTM"):
        from_onnx(path)
