"""Import an ONNX model (``onnx.load`` + ``onnx.numpy_helper``).

Weight layers and BatchNorms are named after their weight initializers without the
``.weight`` suffix (``layer1.0.conv1.weight`` → ``layer1.0.conv1``), so a model exported from
PyTorch gets the same layer names as :func:`~chipsim.workload.from_torch` gives it; other
operators take their node names (leading ``/`` dropped, ``/`` → ``.``).

Recurrent networks: a one-layer forward ``LSTM`` (as ``torch.onnx.export`` writes an
``nn.LSTM``: the transposes between batch-first and time-first layouts around it, the
squeeze of its direction axis, its zero initial state built from ``Shape``/``Expand``) maps to
the same :class:`~chipsim.workload.nodes.LSTM` as the PyTorch importer gives, and ``Gather``
from a weight table to an :class:`~chipsim.workload.nodes.Embedding`. Operators whose inputs
are all constants (shape arithmetic) are evaluated at import with ONNX's reference
implementation. ``GRU`` and ``RNN`` have no counterpart in the IR: unsupported operators.

Transformers (as ``torch.onnx.export(dynamo=False)`` writes ``nn.TransformerEncoder``,
``nn.TransformerEncoderLayer`` and ``nn.MultiheadAttention``, ``batch_first=True``): the
nodes between an in-projection (a ``MatMul`` of a ``d × 3d`` weight, its bias ``Add``) and the
one value they hand on (the out-projection's input), made of :data:`ATTENTION_OPS` and holding
one ``Softmax``, become one :class:`~chipsim.workload.nodes.SelfAttention`: the subgraph is
evaluated on random queries, keys and values with ONNX's reference implementation, and the
head count and mask (none or causal) that give the same output are its ``heads`` and
``causal``; anything else there is an unsupported operator. The in-projection is named
``<scope>.in_proj`` and the attention ``<scope>`` after the Softmax's node name
(``/layer/self_attn/Softmax`` → ``layer.self_attn``), as the PyTorch importer names them.
``LayerNormalization`` (or its decomposition before opset 17) is a
:class:`~chipsim.workload.nodes.LayerNorm`, ``Gelu`` (or, before opset 20, the element-wise
operators around an ``Erf`` or ``Tanh`` that compute GELU or its tanh form, checked by
evaluating them) a :class:`~chipsim.workload.nodes.GELU`, a constant ``(1, T, d)`` added to
a sequence a :class:`~chipsim.workload.nodes.PositionEmbedding`. Residual sums and
activations keep the exporter's node names (``layer``, ``layer_1``), not the PyTorch
importer's (``layer.add1``).

Note that ``torch.onnx.export`` folds BatchNorm into the convolution weights unless it is
called with ``do_constant_folding=False``: the network is the same, but the matrices then
hold the folded weights and the affines no BatchNorm.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ...errors import brief
from ...inputs import FileKind, open_file
from ..errors import WorkloadError
from ..graph import Workload, check_node_count
from ..nodes import (
    GELU,
    INPUT,
    LSTM,
    Add,
    AvgPool,
    BatchNorm,
    Conv2d,
    Embedding,
    Flatten,
    GlobalAvgPool,
    LayerNorm,
    Linear,
    MaxPool,
    PositionEmbedding,
    ReLU,
    SelfAttention,
    interleave_gates,
)
from ._common import Collector, require, unsupported

__all__ = ["from_onnx", "ONNX_OPS"]

_ONNX_FILE = FileKind("ONNX model", error=WorkloadError)

ONNX_OPS = ("Conv", "Gemm", "MatMul", "Add", "BatchNormalization", "Relu", "MaxPool",
            "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Identity",
            "Dropout", "Constant", "LSTM", "Gather", "Transpose", "Squeeze", "Shape",
            "LayerNormalization", "Gelu", "Softmax")
"""Operators :func:`from_onnx` understands (``Add`` of a constant only as the bias of a
``MatMul`` or ``Conv``, or as a position table ``(1, T, d)`` or ``(T, d)`` added to a
sequence; ``Softmax`` only inside a self-attention (:data:`ATTENTION_OPS`);
``LayerNormalization`` over the last axis; ``ReduceMean`` only over the spatial axes;
``Reshape`` only as a flatten to ``(N, -1)`` or back from a sequence's tokens to the
sequence; ``LSTM`` one forward layer with a zero initial state; ``Gather`` as an
embedding lookup; ``Transpose`` only between the batch-first and time-first layouts of a
sequence; ``Squeeze`` only of an LSTM's direction axis). Any operator of :data:`FOLDED` whose
inputs are all constants is evaluated at import."""

FOLDED = ("Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Expand", "ConstantOfShape",
          "Slice", "Cast", "Transpose", "Reshape", "Add", "Sub", "Mul", "Div", "Range",
          "Identity", "Mod", "Sqrt", "Trilu", "Equal", "Where", "Neg")
"""Operators evaluated at import when all their inputs are constants (the shape arithmetic
exporters write, e.g. for an LSTM's zero initial state)."""

_ELEMENTWISE = ("Mul", "Add", "Sub", "Div", "Pow", "Erf", "Tanh", "Sqrt", "Neg")
"""Operators a GELU's decomposition is made of."""

ATTENTION_OPS = ("Softmax", "MatMul", "Transpose", "Reshape", "Unsqueeze", "Squeeze", "Gather",
                 "Split", "Slice", "Concat", "Shape", "Cast", "Sqrt", "Mul", "Div", "Add",
                 "Sub", "Mod", "Expand", "Trilu", "Equal", "Where", "ConstantOfShape", "Range",
                 "Identity", "Dropout", "Neg", "Less", "Greater", "Not")
"""Operators a self-attention may be made of between its in-projection and its
out-projection (the part :class:`~chipsim.workload.nodes.SelfAttention` stands for): what
``torch.onnx.export`` writes for ``nn.MultiheadAttention`` — splitting the projection into
heads, the scaling by ``1/√dh``, the products between activations, the causal mask built from
shapes, ``Softmax``."""

ONNX_GATE_ORDER = "IOFA"
"""ONNX's LSTM gate blocks ``(i, o, f, c)`` as letters of
:data:`~chipsim.workload.nodes.LSTM_GATES` (c = A, the cell candidate)."""


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
        If onnx is missing; the file is missing, not a regular file or larger than
        :mod:`chipsim.inputs` allows (4096 MB); it is not an ONNX model or a weight does not
        hold the values its shape declares; or the model uses an unsupported operator or
        attribute (the message names it and lists the supported ones).

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
residual_sources=(), per_step=False, whole_sequence=False, geometry=None, digital=(), \
attention=None, digital_after=())
    """
    onnx = require("onnx", "onnx", "onnx>=1.16", (1, 16), " (older versions follow "
                   "external-data paths out of the model's folder: CVE-2024-27318, -27319)")
    name = name or os.path.splitext(os.path.basename(os.fspath(path)))[0]
    with open_file(path, _ONNX_FILE) as fh:
        data = fh.read()
    try:
        model = onnx.load_model_from_string(data)
        # onnx >= 1.16 refuses external data outside the model's folder, links and non-files
        onnx.external_data_helper.load_external_data_for_model(
            model, os.path.dirname(os.path.abspath(path)))
    except Exception as exc:  # protobuf decode errors and the like
        raise WorkloadError(f"{path}: cannot read an ONNX model ({exc})") from None
    if not model.graph.node:  # an empty or foreign file can parse as an empty model
        raise WorkloadError(f"{path}: not an ONNX model (no graph nodes: empty, truncated or "
                            "another format)")
    check_node_count(len(model.graph.node), f"{name} ({path})")  # before any is imported
    return _Importer(onnx, model.graph, f"{name} ({path})", name, model.opset_import).run()


class _Importer:
    def __init__(self, onnx: Any, graph: Any, source: str, name: str, opsets: Any = ()):
        self.onnx, self.graph, self.source, self.name = onnx, graph, source, name
        self.opsets = list(opsets)
        self.consts: dict[str, np.ndarray] = {t.name: self._array(t, f"initializer {brief(t.name)}")
                                              for t in graph.initializer}
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
        # the layout of a sequence value: "NT" batch first (N, T, F), "TN" time first
        # (T, N, F), "TDN" an LSTM's output (T, directions, N, H); per sample all are (T, F)
        self.layout: dict[str, str] = {}
        # the output of a self-attention -> its scope (``layer.self_attn``), to name the
        # out-projection that reads it when the weight's name does not
        self.attention_scope: dict[str, str] = {}

    def run(self) -> Workload:
        regions = self._attention_regions()
        fused = self._decompositions()
        for node in self.graph.node:
            region = regions.get(id(node))
            if region is not None:  # a self-attention's node: the whole is one IR node
                if region.exit in node.output:
                    self._attention(region)
                continue
            if id(node) in fused:  # a LayerNorm's or GELU's node: read at its last one
                if fused[id(node)] is not None:
                    fused[id(node)]()
                continue
            if self._folded(node):
                continue
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
    def _array(self, tensor: Any, label: str) -> np.ndarray:
        """The values of the ONNX tensor ``label``; one that holds fewer values than its shape
        declares (or data of another type) is a :class:`WorkloadError` naming it."""
        try:
            return self.onnx.numpy_helper.to_array(tensor)
        except Exception as exc:  # ValueError: cannot reshape, TypeError, ...
            raise WorkloadError(f"{self.source}: {label} of shape {tuple(tensor.dims)} cannot "
                                f"be read ({exc})") from None

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
        if node.op_type in ("MatMul", "Gemm") and node.input[0] in self.attention_scope:
            return self.out.unique(f"{self.attention_scope[node.input[0]]}.out_proj")
        base = node.name.rsplit(f"/{node.op_type}", 1)[0] if node.name else ""
        return self.out.unique(base or f"{node.op_type.lower()}_{len(self.out.nodes)}")

    def _emit(self, node: Any, ir: str, layout: str | None = None) -> None:
        """``node``'s output is IR node ``ir``; a sequence keeps its input's layout."""
        self.env[node.output[0]] = ir
        layout = layout or self.layout.get(node.input[0])
        if layout:
            self.layout[node.output[0]] = layout

    def _folded(self, node: Any) -> bool:
        """Evaluate ``node`` if it is of :data:`FOLDED` and all its inputs are constants."""
        given = [v for v in node.input if v]
        if node.op_type not in FOLDED or node.domain not in ("", "ai.onnx") or not all(
                v in self.consts for v in given):
            return False
        from onnx.reference import ReferenceEvaluator

        try:
            outs = ReferenceEvaluator(node).run(None, {v: self.consts[v] for v in given})
        except Exception as exc:  # noqa: BLE001 - any failure of the reference op
            raise self._fail(node, f"constant inputs it cannot evaluate ({exc})") from None
        self.consts.update(zip(node.output, (np.asarray(o) for o in outs), strict=False))
        return True

    def _sequence_layout(self, value: str) -> str | None:
        """The layout of a data value that is a sequence (per sample ``(T, F)``), else None."""
        if value in self.layout:
            return self.layout[value]
        return "NT" if len(self.out.shapes[self.env[value]]) == 2 else None

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
        out = node.output[0]
        self.consts[out] = self._array(attrs["value"], f"Constant {brief(out)}")

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
            layouts = {self._sequence_layout(v) for v in node.input}
            if len(layouts) > 1:
                raise self._fail(node, f"inputs in different layouts {sorted(map(str, layouts))}"
                                 " (sequences batch first and time first)")
            self._emit(node, self.out.add(Add(self._name(node), srcs)))
            return
        other = next((v for v in node.input if v not in self.consts), None)
        ir = self.env.get(other) if other else None
        if ir not in self.no_bias or self.no_bias[ir] != other or self.users.get(other) != 1:
            if ir is None or len(consts) != 1 or len(self.out.shapes[ir]) != 2:
                raise self._fail(node, "a constant that is not the bias of a MatMul or Conv")
            self._emit(node, self._position(node, other, consts[0]))
            return
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
        self._emit(node, ir, self.layout.get(other))  # the layout of the data, not the bias

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
        layout = self.layout.get(node.input[0])
        if layout in ("(NT)", "(TN)"):  # tokens of a flattened sequence back to a sequence
            t, f = self.out.shapes[src]
            n = self.batch or 1
            wants = {"NT": [n, t, f], "TN": [t, n, f]}
            # with one sample per batch the two flattened orders are the same
            fits = [k for k, want in wants.items() if (n == 1 or f"({k})" == layout)
                    and len(target) == 3
                    and all(a in (b, -1) for a, b in zip(target, want, strict=True))]
            if not fits:
                raise self._fail(node, f"shape {target} of a sequence flattened to tokens "
                                 f"(only back to {wants[layout.strip('()')]})")
            self._emit(node, src, fits[0])
            return
        size = int(np.prod([d or 0 for d in self.out.shapes[src]]))
        batch = (0, -1, self.batch) if len(target) == 2 and target[1] == size else (0, self.batch)
        if len(target) != 2 or target[1] not in (-1, size) or target[0] not in batch:
            raise self._fail(node, f"shape {target} (only a flatten to (N, -1))")
        self._emit(node, self.out.add(Flatten(self._name(node), src)))

    # ------------------------------------------------------------------ sequences
    def _op_Shape(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        sample = self.out.shapes[self._data(node, src)]
        if any(d is None for d in sample):
            raise self._fail(node, f"an input of unknown shape {sample}")
        batch = self.batch or 1
        layout = self.layout.get(src)
        full = ([sample[0], batch, *sample[1:]] if layout == "TN" else
                [sample[0] * batch, *sample[1:]] if layout in ("(NT)", "(TN)") else
                [sample[0], 1, batch, *sample[1:]] if layout == "TDN" else [batch, *sample])
        start, end = attrs.get("start", 0), attrs.get("end")
        self.consts[node.output[0]] = np.array(full[start:end], dtype=np.int64)

    def _op_Transpose(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        layout = self._sequence_layout(src) if src in self.env else None
        perm = list(attrs.get("perm", []))
        if layout not in ("NT", "TN") or perm != [1, 0, 2]:
            raise self._fail(node, f"perm {perm} (only swapping the batch and time axes of a "
                             "sequence)")
        self._emit(node, self._data(node, src), "TN" if layout == "NT" else "NT")

    def _op_Squeeze(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        axes = attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self._const(node, node.input[1]).ravel().tolist()
        if self.layout.get(src) != "TDN" or list(axes or ()) != [1]:
            raise self._fail(node, f"axes {axes} (only the direction axis 1 of an LSTM's "
                             "output)")
        self._emit(node, self._data(node, src), "TN")

    def _op_Gather(self, node: Any, attrs: dict[str, Any]) -> None:
        table = self._const(node, node.input[0])
        src = self._data(node, node.input[1])
        if attrs.get("axis", 0) != 0 or table.ndim != 2:
            raise self._fail(node, "a lookup other than rows of a 2-D table (an embedding)")
        self._emit(node, self.out.add(
            Embedding(self._name(node, node.input[0]), src, *table.shape), {"weight": table}),
            "NT")

    def _op_LSTM(self, node: Any, attrs: dict[str, Any]) -> None:
        x = node.input[0]
        src = self._data(node, x)
        if attrs.get("layout", 0) or self._sequence_layout(x) != "TN":
            raise self._fail(node, "an input that is not a time-first sequence (T, N, F)")
        direction = attrs.get("direction", b"forward")
        if direction not in (b"forward", "forward") or attrs.get("clip") is not None \
                or attrs.get("input_forget", 0) or "activations" in attrs:
            raise self._fail(node, "a direction, clip, coupled gates or activations other than "
                             "one forward layer with sigmoid/tanh")
        inputs = list(node.input) + [""] * (8 - len(node.input))
        w, r = self._const(node, inputs[1]), self._const(node, inputs[2])
        if inputs[4] or inputs[7]:
            raise self._fail(node, "sequence lengths or peepholes")
        for state in inputs[5:7]:
            if state and np.any(self._const(node, state)):
                raise self._fail(node, "a non-zero initial state")
        if any(self.users.get(v) for v in node.output[1:] if v):
            raise self._fail(node, "its final state outputs used (only the sequence output)")
        hidden = r.shape[-1]
        if w.shape[0] != 1 or w.shape[1] != 4 * hidden:
            raise self._fail(node, f"weights of shape {w.shape} (one direction of 4 × "
                             f"{hidden} gates)")
        weights = {"weight_ih": interleave_gates(w[0], ONNX_GATE_ORDER),
                   "weight_hh": interleave_gates(r[0], ONNX_GATE_ORDER)}
        if inputs[3]:
            b = self._const(node, inputs[3])[0]
            weights["bias"] = interleave_gates(b[:4 * hidden] + b[4 * hidden:],
                                               ONNX_GATE_ORDER)
        ir = self.out.add(LSTM(self._name(node), src, w.shape[2], hidden, "bias" in weights),
                          weights)
        self._emit(node, ir, "TDN")

    # ------------------------------------------------------------------ Transformers
    def _op_LayerNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        src = self._data(node, node.input[0])
        shape = self.out.shapes[src]
        gamma = self._const(node, node.input[1])
        has_beta = len(node.input) > 2 and bool(node.input[2])
        beta = self._const(node, node.input[2]) if has_beta else np.zeros_like(gamma)
        axis = attrs.get("axis", -1)
        if axis not in (-1, len(shape)) or gamma.shape != (shape[-1],) \
                or beta.shape != gamma.shape or len(node.output) > 1 and any(
                    self.users.get(v) for v in node.output[1:] if v):
            raise self._fail(node, f"axis {axis} or a scale of shape {gamma.shape} (only over "
                             "the last dimension, the mean and deviation outputs unused)")
        eps = float(str(np.float32(attrs.get("epsilon", 1e-5))))  # 1e-05, not 9.99999974e-06
        self._emit(node, self.out.add(LayerNorm(self._name(node, node.input[1]), src,
                                                shape[-1], eps),
                                      {"weight": gamma, "bias": beta}))

    def _op_Gelu(self, node: Any, attrs: dict[str, Any]) -> None:
        approximate = attrs.get("approximate", "none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        self._emit(node, self.out.add(GELU(self._name(node), self._data(node, node.input[0]),
                                           approximate)))

    def _decompositions(self) -> dict[int, Any]:
        """LayerNorm and GELU as exporters write them before ``LayerNormalization`` (opset 17)
        and ``Gelu`` (opset 20): ``ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div`` (then
        ``Mul`` by γ, ``Add`` of β), and element-wise operators around an ``Erf`` or
        ``Tanh`` on one value. Returns ``id(node)`` → None for the nodes they consist of,
        except the last one's: the function that reads the whole (its constants checked
        then, when they are known)."""
        static = self._static()
        producer = {v: n for n in self.graph.node for v in n.output if v}
        users: dict[str, list[Any]] = {}
        for n in self.graph.node:
            for v in set(n.input):
                users.setdefault(v, []).append(n)
        outputs = {v.name for v in self.graph.output}

        def only(value: str, op: str) -> Any:
            """The one user of ``value``, if it is an ``op`` and the value no output."""
            found = users.get(value, [])
            ok = len(found) == 1 and found[0].op_type == op and value not in outputs
            return found[0] if ok else None

        def other(node: Any, value: str) -> str | None:
            """The input of the binary ``node`` that is not ``value``."""
            rest = [v for v in node.input if v != value]
            return rest[0] if len(node.input) == 2 and len(rest) == 1 else None

        fused: dict[int, Any] = {}

        def claim(chain: list[Any], read: Any) -> None:
            if any(id(n) in fused for n in chain):
                return
            fused.update((id(n), None) for n in chain[:-1])
            fused[id(chain[-1])] = read

        for node in self.graph.node:
            if node.op_type == "ReduceMean" and node.input[0] not in static:
                x = node.input[0]
                sub = only(node.output[0], "Sub")
                if not sub or list(sub.input) != [x, node.output[0]]:
                    continue
                dev = sub.output[0]
                ops = sorted(n.op_type for n in users.get(dev, []))
                if ops != ["Div", "Pow"] or dev in outputs:
                    continue
                power = next(n for n in users[dev] if n.op_type == "Pow")
                var = only(power.output[0], "ReduceMean")
                eps = var and only(var.output[0], "Add")
                root = eps and only(eps.output[0], "Sqrt")
                div = root and only(root.output[0], "Div")
                if not div or list(div.input) != [dev, root.output[0]]:
                    continue
                chain = [node, sub, power, var, eps, root, div]
                scale = only(div.output[0], "Mul")
                if scale and other(scale, div.output[0]) in static:
                    chain.append(scale)
                    shift = only(scale.output[0], "Add")
                    if shift and other(shift, scale.output[0]) in static:
                        chain.append(shift)
                claim(chain, lambda c=tuple(chain), x=x: self._decomposed_norm(c, x))
        for node in self.graph.node:  # after the LayerNorms: a GELU may follow one
            if node.op_type in ("Erf", "Tanh") and id(node) not in fused:
                self._elementwise_gelu(node, static, producer, users, outputs, claim, fused)
        return fused

    def _elementwise_gelu(self, node: Any, static: set[str], producer: dict[str, Any],
                          users: dict[str, list[Any]], outputs: set[str], claim: Any,
                          fused: dict[int, Any]) -> None:
        """Claim the element-wise nodes around ``node`` (an ``Erf`` or ``Tanh``) if they
        compute on one value and hand on one: GELU's decompositions, checked when read."""
        def boundary(value: str) -> bool:  # a value the GELU cannot be made of
            p = producer.get(value)
            if p is None or p.op_type not in _ELEMENTWISE or id(p) in fused:
                return True
            data = [v for v in p.input if v and v not in static]
            return p.op_type == "Add" and len(data) == 1 and data[0] in producer and \
                producer[data[0]].op_type in ("MatMul", "Gemm", "Conv")  # a bias

        sources, seen = set(), set()
        stack = [v for v in node.input if v and v not in static]
        while stack:
            value = stack.pop()
            if value not in seen:
                seen.add(value)
                if boundary(value):
                    sources.add(value)
                else:
                    stack.extend(v for v in producer[value].input if v and v not in static)
        if len(sources) != 1:
            return
        x = sources.pop()
        members: list[Any] = []
        made: set[str] = set()
        for n in self.graph.node:  # the element-wise nodes computing on x only
            data = [v for v in n.input if v and v not in static]
            if n.op_type in _ELEMENTWISE and id(n) not in fused and data and all(
                    v == x or v in made for v in data):
                members.append(n)
                made.update(v for v in n.output if v)
        exits = [v for v in made if v in outputs or any(
            u not in members for u in users.get(v, []))]
        if len(exits) != 1 or node not in members:
            return
        chain = [n for n in members if exits[0] not in n.output]
        chain.append(next(n for n in members if exits[0] in n.output))
        claim(chain, lambda c=tuple(members), x=x, y=exits[0], e=node: self._gelu(c, x, y, e))

    def _scalar(self, value: str | None) -> float | None:
        """The value of a one-element constant, else None."""
        a = self.consts.get(value or "")
        return float(np.asarray(a).ravel()[0]) if a is not None and np.size(a) == 1 else None

    def _gelu(self, nodes: tuple[Any, ...], x: str, y: str, erf: Any) -> None:
        """Read ``nodes`` (from ``x`` to ``y``) as a GELU: evaluate them on values from −6 to 6
        and compare with both of PyTorch's forms."""
        from onnx import TensorProto, helper
        from onnx.reference import ReferenceEvaluator

        from ..forward import gelu

        src = self._data(erf, x)
        made = {v for n in nodes for v in n.output}
        consts = sorted({v for n in nodes for v in n.input if v and v != x and v not in made})
        missing = [v for v in consts if v not in self.consts]
        if missing:
            raise self._fail(erf, f"an input '{missing[0]}' that is not a constant")
        graph = helper.make_graph(
            list(nodes), "gelu", [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)],
            [self.onnx.numpy_helper.from_array(np.asarray(self.consts[v]), v) for v in consts])
        probe = np.linspace(-6, 6, 241, dtype=np.float32)
        try:
            got = ReferenceEvaluator(helper.make_model(graph, opset_imports=self.opsets)).run(
                None, {x: probe})[0]
        except Exception as exc:  # noqa: BLE001 - any failure of the reference ops
            raise self._fail(erf, f"element-wise operators that cannot be evaluated ({exc})") \
                from None
        found = [a for a in ("none", "tanh") if np.shape(got) == probe.shape
                 and np.allclose(got, gelu(probe, a), rtol=1e-5, atol=1e-6)]
        if not found:
            raise self._fail(erf, "element-wise operators around it that are not GELU (x · Φ(x) "
                             "or its tanh approximation)")
        self.env[y] = self.out.add(GELU(self._name(erf), src, found[0]))
        if x in self.layout:
            self.layout[y] = self.layout[x]

    def _decomposed_norm(self, chain: tuple[Any, ...], x: str) -> None:
        mean, sub, power, var, eps_add, root, div = chain[:7]
        src = self._data(mean, x)
        shape = self.out.shapes[src]
        last = {-1, len(shape)}  # axis -1 of (N, ..., F)
        for reduce in (mean, var):
            attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in reduce.attribute}
            axes = attrs.get("axes")
            if axes is None and len(reduce.input) > 1 and reduce.input[1]:
                axes = self._const(reduce, reduce.input[1]).ravel().tolist()
            if len(axes or ()) != 1 or axes[0] not in last or not attrs.get("keepdims", 1):
                raise self._fail(reduce, f"axes {axes} in a LayerNorm (only the last axis)")
        eps = self._scalar(next(v for v in eps_add.input if v != var.output[0]))
        if self._scalar(power.input[1]) != 2 or eps is None or not eps > 0:
            raise self._fail(mean, "constants other than a LayerNorm's (x − mean) / √(mean "
                             "of (x − mean)² + eps), eps > 0")
        d = shape[-1]
        weights = {"weight": np.ones(d, np.float32), "bias": np.zeros(d, np.float32)}
        gamma = None
        for prev, node, key in zip(chain[6:], chain[7:], ("weight", "bias"), strict=False):
            value = next(v for v in node.input if v != prev.output[0])
            a = np.asarray(self.consts[value])
            if a.shape not in ((d,), (1, d), (1, 1, d)):
                raise self._fail(node, f"a LayerNorm {key} of shape {a.shape} for {d} features")
            weights[key] = a.reshape(d)
            gamma = gamma or value
        ir = self.out.add(LayerNorm(self._name(mean, gamma), src, d,
                                    float(str(np.float32(eps)))), weights)
        self.env[chain[-1].output[0]] = ir
        if x in self.layout:
            self.layout[chain[-1].output[0]] = self.layout[x]

    def _op_Softmax(self, node: Any, attrs: dict[str, Any]) -> None:
        raise self._fail(node, "an input that comes from no in-projection (only inside a "
                               "self-attention)")

    def _position(self, node: Any, data: str, value: str) -> str:
        """A constant ``value`` added to the sequence ``data``: a position table."""
        table = self.consts[value]
        src = self.env[data]
        shape = self.out.shapes[src]
        if table.ndim == 3 and table.shape[0] == 1:
            table = table[0]
        if len(shape) != 2 or shape[0] is None or table.shape != shape \
                or self._sequence_layout(data) != "NT":
            raise self._fail(node, f"a constant of shape {self.consts[value].shape} that is "
                             "not the bias of a MatMul or Conv, nor a position table (1, T, "
                             "d) or (T, d) added to a batch-first sequence (T, d)")
        weight = value if value in {t.name for t in self.graph.initializer} \
            and not value.startswith("onnx::") else None  # not the exporter's made-up names
        name = self.out.unique(weight) if weight else self._name(node)
        return self.out.add(PositionEmbedding(name, src, *shape), {"weight": table})

    def _rename(self, old: str, new: str) -> str:
        """Rename the IR node ``old`` (read by no IR node yet) to ``new`` (made unique)."""
        shape = self.out.shapes.pop(old)
        new = self.out.unique(new)
        i = next(i for i, n in enumerate(self.out.nodes) if n.name == old)
        self.out.nodes[i] = dataclasses.replace(self.out.nodes[i], name=new)
        self.out.shapes[new] = shape
        if old in self.out.weights:
            self.out.weights[new] = self.out.weights.pop(old)
        if old in self.no_bias:
            self.no_bias[new] = self.no_bias.pop(old)
        for value, ir in self.env.items():
            if ir == old:
                self.env[value] = new
        return new

    def _static(self, shapes: bool = False) -> set[str]:
        """The values computed from constants only (initializers, Constant nodes and what
        follows from them); with ``shapes``, from constants and ``Shape`` outputs."""
        static = set(self.consts)
        for node in self.graph.node:
            if (node.op_type == "Shape" and shapes) or all(v in static for v in node.input
                                                           if v):
                static.update(v for v in node.output if v)
        return static

    def _attention_regions(self) -> dict[int, _Region]:
        """Each ``Softmax``'s self-attention: the nodes reachable from its in-projection's
        output without passing a weight layer (keyed by ``id(node)``)."""
        softmaxes = [n for n in self.graph.node if n.op_type == "Softmax"]
        if not softmaxes:
            return {}
        static, sizes = self._static(), self._static(shapes=True)
        producer = {v: n for n in self.graph.node for v in n.output if v}
        users: dict[str, list[Any]] = {}
        for n in self.graph.node:
            for v in set(n.input):
                users.setdefault(v, []).append(n)

        def weight_op(n: Any) -> bool:
            return n.op_type in ("MatMul", "Gemm") and len(n.input) > 1 and \
                n.input[1] in static and n.input[0] not in static

        def projection(value: str) -> bool:
            n = producer.get(value)
            if n is None:
                return False
            if n.op_type == "Add" and len(n.input) == 2:
                data = [v for v in n.input if v not in static]
                return len(data) == 1 and data[0] in producer and weight_op(producer[data[0]])
            return weight_op(n)

        regions: dict[int, _Region] = {}
        outputs = {v.name for v in self.graph.output}
        order = {id(n): i for i, n in enumerate(self.graph.node)}
        for softmax in softmaxes:
            if id(softmax) in regions:
                continue
            entries, seen = set(), set()
            stack = [v for v in softmax.input if v and v not in sizes]
            while stack:  # back to the data it computes on, not to the sizes it reads
                value = stack.pop()
                if value in seen:
                    continue
                seen.add(value)
                if projection(value) or value not in producer:
                    entries.add(value)
                else:
                    stack.extend(v for v in producer[value].input if v and v not in sizes)
            if len(entries) != 1 or not projection(next(iter(entries))):
                continue  # not an attention: _op_Softmax says so, in order
            entry = entries.pop()
            members: list[Any] = []
            member_ids: set[int] = set()
            frontier = [entry]
            while frontier:
                for n in users.get(frontier.pop(), []):
                    if id(n) in member_ids or weight_op(n):
                        continue
                    member_ids.add(id(n))
                    members.append(n)
                    frontier.extend(v for v in n.output if v)
            members.sort(key=lambda n: order[id(n)])
            made = {v for n in members for v in n.output if v}
            where = softmax.name or softmax.output[0]
            for n in members:
                if n.op_type not in ATTENTION_OPS or n.domain not in ("", "ai.onnx"):
                    raise unsupported(self.source, f"{n.op_type} inside the self-attention "
                                      f"at '{where}'", n.name or n.output[0], ONNX_OPS)
                other = [v for v in n.input if v and v not in sizes and v != entry
                         and v not in made]
                if other:
                    raise self._fail(softmax, f"a self-attention that also reads '{other[0]}' "
                                     "(only self-attention of one in-projection's output)")
            exits = sorted({v for n in members for v in n.output if v and (v in outputs or any(
                id(u) not in member_ids for u in users.get(v, [])))})
            count = sum(n.op_type == "Softmax" for n in members)
            if len(exits) != 1 or count != 1:
                raise self._fail(softmax, f"a self-attention with {count} Softmax and "
                                 f"{len(exits)} outputs {exits} (only one of each, into the "
                                 "out-projection)")
            region = _Region(entry, exits[0], tuple(members), softmax)
            regions.update((id(n), region) for n in members)
        return regions

    def _attention(self, region: _Region) -> None:
        """Read ``region`` as one :class:`SelfAttention`: evaluate it on random queries, keys
        and values and find the heads and the causal mask that give the same output."""
        from onnx import TensorProto, helper
        from onnx.reference import ReferenceEvaluator

        from ..forward import self_attention

        softmax, entry = region.softmax, region.entry
        src = self._data(softmax, entry)
        shape = self.out.shapes[src]
        layout = self._sequence_layout(entry)
        if len(shape) != 2 or None in shape or shape[1] % 3 or layout is None:
            raise self._fail(softmax, f"a self-attention of an input of shape {shape} (only of "
                             "a sequence (T, 3·d) of fixed length: queries, keys and values)")
        t, d, n = shape[0], shape[1] // 3, self.batch or 1  # the batch Shape reads
        qkv = np.random.default_rng(0).standard_normal((n, t, 3 * d)).astype(np.float32)
        # the nodes the exit depends on, with the constants they read
        needed, wanted = [], {region.exit}
        for node in reversed(region.nodes):
            if wanted & set(node.output):
                needed.insert(0, node)
                wanted.update(v for v in node.input if v)
        made = {v for node in needed for v in node.output}
        consts = sorted(v for v in wanted if v not in made and v != entry)
        missing = [v for v in consts if v not in self.consts]
        if missing:
            raise self._fail(softmax, f"a self-attention that reads '{missing[0]}', not a "
                             "constant")
        graph = helper.make_graph(
            needed, "attention",
            [helper.make_tensor_value_info(entry, TensorProto.FLOAT, None)],
            [helper.make_tensor_value_info(region.exit, TensorProto.FLOAT, None)],
            [self.onnx.numpy_helper.from_array(np.asarray(self.consts[v]), v) for v in consts])
        try:
            got = ReferenceEvaluator(helper.make_model(graph, opset_imports=self.opsets)).run(
                None, {entry: _to_layout(qkv, layout)})[0]
        except Exception as exc:  # noqa: BLE001 - any failure of the reference ops
            raise self._fail(softmax, f"a self-attention that cannot be evaluated ({exc})") \
                from None
        found = [(heads, causal, out) for out in _LAYOUTS
                 if (y := _from_layout(np.asarray(got), out, n, t, d)) is not None
                 for heads in range(1, d + 1) if d % heads == 0 for causal in (False, True)
                 if np.allclose(y, self_attention(qkv, heads, causal), rtol=1e-3, atol=1e-4)]
        if not found:
            raise self._fail(softmax, "a subgraph between projections that is not multi-head "
                             "self-attention of the in-projection's queries, keys and values "
                             "(in this order, scaled by 1/√dh, with no mask or the causal one)")
        heads, causal, out = found[0]
        scope = (softmax.name.rsplit("/Softmax", 1)[0] if softmax.name else "").strip("/")
        scope = scope.replace("/", ".") or "self_attn"
        if isinstance(next(x for x in self.out.nodes if x.name == src), Linear) \
                and src != f"{scope}.in_proj":
            src = self._rename(src, f"{scope}.in_proj")
        ir = self.out.add(SelfAttention(self.out.unique(scope), src, d, heads, causal))
        self.env[region.exit] = ir
        self.layout[region.exit] = out
        self.attention_scope[region.exit] = scope


_LAYOUTS = ("NT", "TN", "(NT)", "(TN)")
"""Layouts of a sequence value: batch first ``(N, T, F)``, time first ``(T, N, F)``, and the
two flattened to ``(N·T, F)`` (row ``n·T + t``) and ``(T·N, F)`` (row ``t·N + n``)."""


def _to_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """``a`` ``(N, T, F)`` in ``layout``."""
    n, t, f = a.shape
    return {"NT": a, "TN": a.transpose(1, 0, 2), "(NT)": a.reshape(n * t, f),
            "(TN)": a.transpose(1, 0, 2).reshape(t * n, f)}[layout]


def _from_layout(a: np.ndarray, layout: str, n: int, t: int, f: int) -> np.ndarray | None:
    """``a`` in ``layout`` as ``(N, T, F)``, or None if its shape is not that layout's."""
    want = {"NT": (n, t, f), "TN": (t, n, f), "(NT)": (n * t, f), "(TN)": (t * n, f)}[layout]
    if a.shape != want:
        return None
    return {"NT": a, "TN": a.transpose(1, 0, 2) if a.ndim == 3 else a,
            "(NT)": a.reshape(n, t, f), "(TN)": a.reshape(t, n, f).transpose(1, 0, 2)}[layout]


@dataclasses.dataclass(frozen=True)
class _Region:
    """A self-attention in the graph: its in-projection's output, the one value it hands on,
    its nodes in graph order and its Softmax."""

    entry: str
    exit: str
    nodes: tuple[Any, ...]
    softmax: Any
