"""Import an ONNX model (``onnx.load`` + ``onnx.numpy_helper``).

Weight layers and BatchNorms are named after their weight initializers without the
``.weight`` suffix (``layer1.0.conv1.weight`` → ``layer1.0.conv1``), so a model exported from
PyTorch gets the same layer names as :func:`~chipsim.workload.from_torch` gives it; other
operators take their node names (leading ``/`` dropped, ``/`` → ``.``).

Note that ``torch.onnx.export`` folds BatchNorm into the convolution weights unless it is
called with ``do_constant_folding=False``: the network is the same, but the matrices then
hold the folded weights and the affines no BatchNorm.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import WorkloadError
from ..graph import Workload, check_node_count
from ..nodes import (
    INPUT,
    Add,
    AvgPool,
    BatchNorm,
    Conv2d,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool,
    ReLU,
)
from ._common import Collector, require, unsupported

__all__ = ["from_onnx", "ONNX_OPS"]

ONNX_OPS = ("Conv", "Gemm", "MatMul", "Add", "BatchNormalization", "Relu", "MaxPool",
            "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Identity",
            "Dropout", "Constant")
"""Operators :func:`from_onnx` understands (``Add`` of a constant only as the bias of a
``MatMul`` or ``Conv``; ``ReduceMean`` only over the spatial axes; ``Reshape`` only as a
flatten to ``(N, -1)``)."""


def from_onnx(path: str | os.PathLike[str], name: str | None = None) -> Workload:
    """Import the ONNX model at ``path`` as a :class:`Workload`.

    Parameters
    ----------
    path
        The ``.onnx`` file: one input (``(N, C, H, W)`` or ``(N, F)``), one output, opset
        semantics of the standard operators listed in :data:`ONNX_OPS`.
    name
        Workload name (default: the file name without suffix).

    Raises
    ------
    WorkloadError
        If onnx is missing, the file cannot be read, or the model uses an unsupported
        operator or attribute (the message names it and lists the supported ones).

    Examples
    --------
    >>> import onnx, tempfile, pathlib, numpy as np
    >>> from onnx import helper, numpy_helper, TensorProto
    >>> w = numpy_helper.from_array(np.ones((4, 3), np.float32), "fc.weight")
    >>> graph = helper.make_graph(
    ...     [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], transB=1)], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "fc.onnx"
    ...     onnx.save(helper.make_model(graph), path)
    ...     from_onnx(path).lowered()[0]
    LoweredLayer(name='fc', kind='linear', rows=3, cols=4, vectors=1, sources=(), \
residual_sources=(), per_step=False, whole_sequence=False, geometry=None)
    """
    onnx = require("onnx", "onnx", "onnx>=1.16", (1, 16), " (older versions follow "
                   "external-data paths out of the model's folder: CVE-2024-27318, -27319)")
    name = name or os.path.splitext(os.path.basename(os.fspath(path)))[0]
    try:
        model = onnx.load(os.fspath(path))
    except FileNotFoundError:
        raise
    except Exception as exc:  # protobuf decode errors and the like
        raise WorkloadError(f"{path}: cannot read an ONNX model ({exc})") from None
    if not model.graph.node:  # an empty or foreign file can parse as an empty model
        raise WorkloadError(f"{path}: not an ONNX model (no graph nodes: empty, truncated or "
                            "another format)")
    check_node_count(len(model.graph.node), f"{name} ({path})")  # before any is imported
    return _Importer(onnx, model.graph, f"{name} ({path})", name).run()


class _Importer:
    def __init__(self, onnx: Any, graph: Any, source: str, name: str):
        self.onnx, self.graph, self.source, self.name = onnx, graph, source, name
        to_array = onnx.numpy_helper.to_array
        self.consts: dict[str, np.ndarray] = {t.name: to_array(t) for t in graph.initializer}
        data = [v for v in graph.input if v.name not in self.consts]
        if len(data) != 1 or len(graph.output) != 1:
            raise WorkloadError(f"{source}: the model must have one input and one output, "
                                f"has {len(data)} and {len(graph.output)}")
        dims = data[0].type.tensor_type.shape.dim
        shape = tuple(d.dim_value if d.dim_value > 0 else None for d in dims[1:])
        self.batch = dims[0].dim_value if dims and dims[0].dim_value > 0 else None
        self.out = Collector(source, shape)
        self.env: dict[str, str] = {data[0].name: INPUT}  # ONNX value -> IR node name
        self.users: dict[str, int] = {}
        for node in graph.node:
            for value in node.input:
                self.users[value] = self.users.get(value, 0) + 1
        for value in graph.output:
            self.users[value.name] = self.users.get(value.name, 0) + 1
        self.no_bias: dict[str, str] = {}  # IR name of a bias-free MatMul/Conv -> its output

    def run(self) -> Workload:
        for node in self.graph.node:
            handler = getattr(self, f"_op_{node.op_type}", None)
            if handler is None or node.domain not in ("", "ai.onnx"):
                raise unsupported(self.source, node.op_type, node.name or node.output[0],
                                  ONNX_OPS)
            handler(node, {a.name: self.onnx.helper.get_attribute_value(a)
                           for a in node.attribute})
        output = self.graph.output[0].name
        if output not in self.env:
            raise WorkloadError(f"{self.source}: the output '{output}' is not computed from "
                                "the input")
        return self.out.workload(self.name, self.env[output])

    # ------------------------------------------------------------------ helpers
    def _fail(self, node: Any, what: str) -> WorkloadError:
        return unsupported(self.source, f"{node.op_type} with {what}",
                           node.name or node.output[0], ONNX_OPS)

    def _data(self, node: Any, value: str) -> str:
        if value not in self.env:
            raise self._fail(node, f"a constant or unknown input '{value}'")
        return self.env[value]

    def _const(self, node: Any, value: str) -> np.ndarray:
        if value not in self.consts:
            raise self._fail(node, f"a computed weight '{value}' (weights must be "
                             "initializers or constants)")
        return self.consts[value]

    def _name(self, node: Any, weight: str | None = None) -> str:
        if weight and weight.endswith(".weight"):
            return self.out.unique(weight[: -len(".weight")])
        base = node.name.rsplit(f"/{node.op_type}", 1)[0] if node.name else ""
        return self.out.unique(base or f"{node.op_type.lower()}_{len(self.out.nodes)}")

    def _emit(self, node: Any, ir: str) -> None:
        self.env[node.output[0]] = ir

    @staticmethod
    def _pads(node: Any, attrs: dict[str, Any], fail: Any) -> tuple[int, int]:
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise fail(node, "auto_pad")
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4 or pads[:2] != pads[2:]:
            raise fail(node, f"asymmetric or non-2-D pads {pads}")
        return pads[0], pads[1]

    # ------------------------------------------------------------------ operators
    def _op_Constant(self, node: Any, attrs: dict[str, Any]) -> None:
        if "value" not in attrs:
            raise self._fail(node, "a value other than a tensor")
        self.consts[node.output[0]] = self.onnx.numpy_helper.to_array(attrs["value"])

    def _op_Identity(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        if src in self.consts:
            self.consts[node.output[0]] = self.consts[src]
        else:
            self._emit(node, self._data(node, src))

    def _op_Dropout(self, node: Any, attrs: dict[str, Any]) -> None:
        if len(node.output) > 1 and self.users.get(node.output[1]):
            raise self._fail(node, "its mask output used")
        self._emit(node, self._data(node, node.input[0]))

    def _op_Conv(self, node: Any, attrs: dict[str, Any]) -> None:
        src = self._data(node, node.input[0])
        w = self._const(node, node.input[1])
        if w.ndim != 4 or attrs.get("group", 1) != 1 or any(
                d != 1 for d in attrs.get("dilations", [1, 1])):
            raise self._fail(node, "groups, dilation or a non-2-D kernel")
        stride = tuple(attrs.get("strides", [1, 1]))
        has_bias = len(node.input) > 2 and bool(node.input[2])
        weights = {"weight": w} | ({"bias": self._const(node, node.input[2])} if has_bias else {})
        ir = self.out.add(Conv2d(self._name(node, node.input[1]), src, w.shape[1], w.shape[0],
                                 w.shape[2:], stride, self._pads(node, attrs, self._fail),
                                 has_bias), weights)
        if not has_bias:
            self.no_bias[ir] = node.output[0]
        self._emit(node, ir)

    def _op_Gemm(self, node: Any, attrs: dict[str, Any]) -> None:
        src = self._data(node, node.input[0])
        b = self._const(node, node.input[1])
        if attrs.get("transA", 0):
            raise self._fail(node, "transA=1")
        w = attrs.get("alpha", 1.0) * (b if attrs.get("transB", 0) else b.T)
        weights = {"weight": w}
        if len(node.input) > 2 and node.input[2]:
            c = self._const(node, node.input[2])
            weights["bias"] = attrs.get("beta", 1.0) * np.broadcast_to(c, (1, w.shape[0]))[0]
        self._emit(node, self.out.add(Linear(self._name(node, node.input[1]), src, w.shape[1],
                                             w.shape[0], "bias" in weights), weights))

    def _op_MatMul(self, node: Any, attrs: dict[str, Any]) -> None:
        src = self._data(node, node.input[0])
        b = self._const(node, node.input[1])
        if b.ndim != 2:
            raise self._fail(node, f"a {b.ndim}-D weight")
        ir = self.out.add(Linear(self._name(node, node.input[1]), src, b.shape[0], b.shape[1],
                                 False), {"weight": b.T})
        self.no_bias[ir] = node.output[0]
        self._emit(node, ir)

    def _op_Add(self, node: Any, attrs: dict[str, Any]) -> None:
        consts = [v for v in node.input if v in self.consts]
        if not consts:
            srcs = tuple(self._data(node, v) for v in node.input)
            self._emit(node, self.out.add(Add(self._name(node), srcs)))
            return
        other = next((v for v in node.input if v not in self.consts), None)
        ir = self.env.get(other) if other else None
        if ir not in self.no_bias or self.no_bias[ir] != other or self.users.get(other) != 1:
            raise self._fail(node, "a constant that is not the bias of a MatMul or Conv")
        layer = next(n for n in self.out.nodes if n.name == ir)
        bias = np.asarray(self.consts[consts[0]])
        if isinstance(layer, Linear):  # broadcasts against (N, out)
            cols, fits = layer.out_features, bias.ndim <= 2 and bias.size in (1, bias.shape[-1])
        else:  # broadcasts against (N, C, H, W)
            cols, fits = layer.out_channels, bias.ndim >= 3 and bias.size == bias.shape[-3]
        if not fits or bias.size not in (1, cols):
            raise self._fail(node, f"a bias of shape {bias.shape} for {cols} outputs")
        self.out.replace(ir, bias=True)
        self.out.weights[ir]["bias"] = np.broadcast_to(bias.ravel(), (cols,)).astype(np.float32)
        del self.no_bias[ir]
        self._emit(node, ir)

    def _op_BatchNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        if attrs.get("training_mode", 0):
            raise self._fail(node, "training_mode=1")
        src = self._data(node, node.input[0])
        gamma, beta, mean, var = (self._const(node, v) for v in node.input[1:5])
        self._emit(node, self.out.add(
            BatchNorm(self._name(node, node.input[1]), src, gamma.shape[0],
                      float(attrs.get("epsilon", 1e-5))),
            {"weight": gamma, "bias": beta, "running_mean": mean, "running_var": var}))

    def _op_Relu(self, node: Any, attrs: dict[str, Any]) -> None:
        self._emit(node, self.out.add(ReLU(self._name(node), self._data(node, node.input[0]))))

    def _op_MaxPool(self, node: Any, attrs: dict[str, Any]) -> None:
        if attrs.get("ceil_mode", 0) or any(d != 1 for d in attrs.get("dilations", [1, 1])) \
                or attrs.get("storage_order", 0) or len(node.output) > 1:
            raise self._fail(node, "ceil_mode, dilations, storage_order or indices")
        self._emit(node, self.out.add(MaxPool(
            self._name(node), self._data(node, node.input[0]), tuple(attrs["kernel_shape"]),
            tuple(attrs.get("strides", [1, 1])), self._pads(node, attrs, self._fail))))

    def _op_AveragePool(self, node: Any, attrs: dict[str, Any]) -> None:
        if attrs.get("ceil_mode", 0) or self._pads(node, attrs, self._fail) != (0, 0):
            raise self._fail(node, "ceil_mode or padding")
        self._emit(node, self.out.add(AvgPool(
            self._name(node), self._data(node, node.input[0]), tuple(attrs["kernel_shape"]),
            tuple(attrs.get("strides", [1, 1])))))

    def _op_GlobalAveragePool(self, node: Any, attrs: dict[str, Any]) -> None:
        self._emit(node, self.out.add(GlobalAvgPool(self._name(node),
                                                    self._data(node, node.input[0]))))

    def _op_ReduceMean(self, node: Any, attrs: dict[str, Any]) -> None:
        src = self._data(node, node.input[0])
        axes = attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self._const(node, node.input[1]).ravel().tolist()
        if sorted(a % 4 for a in axes or ()) != [2, 3] or len(self.out.shapes[src]) != 3:
            raise self._fail(node, f"axes {axes} (only the spatial axes (2, 3) of an image)")
        ir = self.out.add(GlobalAvgPool(self._name(node), src))
        if not attrs.get("keepdims", 1):
            ir = self.out.add(Flatten(self.out.unique(f"{ir}.flatten"), ir))
        self._emit(node, ir)

    def _op_Flatten(self, node: Any, attrs: dict[str, Any]) -> None:
        if attrs.get("axis", 1) != 1:
            raise self._fail(node, f"axis={attrs['axis']} (only 1)")
        self._emit(node, self.out.add(Flatten(self._name(node), self._data(node, node.input[0]))))

    def _op_Reshape(self, node: Any, attrs: dict[str, Any]) -> None:
        src = self._data(node, node.input[0])
        target = [int(d) for d in self._const(node, node.input[1]).ravel()]
        size = int(np.prod([d or 0 for d in self.out.shapes[src]]))
        batch = (0, -1, self.batch) if len(target) == 2 and target[1] == size else (0, self.batch)
        if len(target) != 2 or target[1] not in (-1, size) or target[0] not in batch:
            raise self._fail(node, f"shape {target} (only a flatten to (N, -1))")
        self._emit(node, self.out.add(Flatten(self._name(node), src)))
