"""Import a PyTorch ``nn.Module`` by tracing it with ``torch.fx``.

Weight modules and BatchNorms keep their qualified module names (``layer1.0.conv1``), other
operators take the fx node names (``relu``, ``add_1``). PyTorch's LSTM gate blocks
``(i, f, g, o)`` are reordered to the chip's interleaved ``I, A, F, O`` columns
(:data:`TORCH_GATE_ORDER`, :func:`~chipsim.workload.nodes.interleave_gates`); its two biases
are summed. Eval-mode semantics are used (BatchNorm running statistics, no dropout).

Transformers: ``nn.MultiheadAttention`` at ``q`` (self-attention, ``batch_first=True``) becomes
``q.in_proj`` (a :class:`~chipsim.workload.nodes.Linear` ``d → 3d``), ``q`` (a
:class:`~chipsim.workload.nodes.SelfAttention`) and ``q.out_proj`` (``d → d``). An
``nn.TransformerEncoderLayer`` at ``q`` becomes its ``q.self_attn`` as above, ``q.linear1``,
``q.activation`` (ReLU or GELU), ``q.linear2``, the residual sums ``q.add1``, ``q.add2`` and
the LayerNorms ``q.norm1``, ``q.norm2``, in PyTorch's order for ``norm_first`` False and True;
an ``nn.TransformerEncoder`` at ``e`` its layers ``e.layers.<i>`` and its ``e.norm``, if any.
A causal mask (``generate_square_subsequent_mask``, or its boolean form) makes the attention
causal. A learned position table is a parameter added to the sequence, ``x + self.pos`` or
``x + self.pos[:, :T]`` (``T`` a number or ``x.size(1)``/``x.shape[1]``), the table of shape
``(1, T, d)`` or ``(T, d)``: a :class:`~chipsim.workload.nodes.PositionEmbedding` named after
the parameter.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any

import numpy as np

from ..errors import WorkloadError
from ..graph import Workload
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

__all__ = ["from_torch", "TORCH_MODULES", "TORCH_FUNCTIONS", "TORCH_GATE_ORDER"]

TORCH_GATE_ORDER = "IFAO"
"""PyTorch's LSTM gate blocks ``(i, f, g, o)`` as letters of ``LSTM_GATES`` (g = A)."""

TORCH_MODULES = ("Conv2d", "Linear", "BatchNorm1d", "BatchNorm2d", "ReLU", "MaxPool2d",
                 "AvgPool2d", "AdaptiveAvgPool2d((1, 1))", "Flatten", "LSTM", "Embedding",
                 "Identity", "Dropout", "LayerNorm", "GELU",
                 "TransformerEncoderLayer(batch_first=True)", "TransformerEncoder",
                 "MultiheadAttention(batch_first=True)")
"""Module types :func:`from_torch` understands."""

TORCH_FUNCTIONS = ("x + y / torch.add / x.add", "relu (torch, F, method)", "F.gelu",
                   "flatten(x, 1) (torch, method)", "lstm_output[0]",
                   "self-attention attn(x, x, x)[0]", "a causal mask",
                   "x + self.pos[:, :T] (a position table)")
"""Functions and methods :func:`from_torch` understands."""

_SUPPORTED = tuple(f"nn.{m}" for m in TORCH_MODULES) + TORCH_FUNCTIONS


def from_torch(module: Any, example_input: Any, name: str | None = None) -> Workload:
    """Import ``module`` (a ``torch.nn.Module``) as a :class:`Workload`.

    Parameters
    ----------
    module
        The network; traced with ``torch.fx.symbolic_trace``, so its ``forward`` must be
        free of data-dependent control flow. A bare ``nn.TransformerEncoder``,
        ``nn.TransformerEncoderLayer`` or ``nn.MultiheadAttention`` (self-attention of the
        input) is imported as it is, its layers named as in its ``state_dict``.
    example_input
        A batch of inputs (``torch.Tensor``): its shape after the batch dimension becomes the
        workload's input shape; an integer ``(N, T)`` tensor means token ids of any length,
        or of length ``T`` in a network with attention (every token attends to the whole
        sequence).
    name
        Workload name (default: the module's class name).

    Raises
    ------
    WorkloadError
        If torch is missing, tracing fails, or the module uses an unsupported operator or
        option (the message names it and lists the supported ones).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8),
    ...                           torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(288, 4))
    >>> workload = from_torch(net, torch.zeros(1, 3, 8, 8))
    >>> [(layer.name, layer.rows, layer.cols) for layer in workload.lowered()]
    [('0', 27, 8), ('4', 288, 4)]
    >>> encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
    ...     16, 2, 32, batch_first=True), 1, enable_nested_tensor=False)
    >>> [layer.name for layer in from_torch(encoder, torch.zeros(1, 8, 16)).lowered()]
    ['layers.0.self_attn.in_proj', 'layers.0.self_attn.out_proj', 'layers.0.linear1', \
'layers.0.linear2']
    """
    torch = require("torch", "train", "torch==2.13.0")
    name = name or type(module).__name__
    nn = torch.nn
    bare = isinstance(module, nn.TransformerEncoder | nn.TransformerEncoderLayer
                      | nn.MultiheadAttention)
    if bare:  # fx traces the root's forward, not into it: the module as a leaf of a root
        module = _bare_root(torch, module)
    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as exc:  # fx raises many kinds of errors on untraceable code
        raise WorkloadError(f"{name}: cannot trace the module with torch.fx ({exc})") from None
    gm.graph.eliminate_dead_code()
    return _Importer(torch, module, name, example_input, bare).run(gm.graph)


_ROOT = "root"
"""The attribute that holds a bare Transformer module in the root traced around it."""


def _bare_root(torch: Any, module: Any) -> Any:
    """A root module whose forward calls ``module`` on its input (as self-attention, for an
    ``nn.MultiheadAttention``)."""
    attention = isinstance(module, torch.nn.MultiheadAttention)

    class Root(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            leaf = getattr(self, _ROOT)
            return leaf(x, x, x, need_weights=False)[0] if attention else leaf(x)

    root = Root()
    root.add_module(_ROOT, module)
    return root


def _join(qual: str, name: str) -> str:
    """The name ``name`` inside the module ``qual`` (``""``: the network itself)."""
    return f"{qual}.{name}" if qual else name


def _np(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float32)


class _Importer:
    def __init__(self, torch: Any, module: Any, name: str, example: Any, bare: bool = False):
        self.torch = torch
        self.name = name
        self.bare = bare
        self.root = module
        self.modules = dict(module.named_modules())
        if not isinstance(example, torch.Tensor):
            raise WorkloadError(f"{name}: example_input must be a torch.Tensor")
        attention = (torch.nn.MultiheadAttention, torch.nn.TransformerEncoderLayer)
        if example.dtype.is_floating_point:
            shape = tuple(example.shape[1:])
        elif example.ndim == 2:
            fixed = any(isinstance(m, attention) for m in self.modules.values())
            shape = (int(example.shape[1]) if fixed else None,)
        else:
            raise WorkloadError(f"{name}: integer example_input must be token ids (N, T), "
                                f"got shape {tuple(example.shape)}")
        self.out = Collector(name, shape)
        self.env: dict[Any, str] = {}  # fx node -> IR node name
        # fx node of an LSTM or attention call -> (IR name of its output [0], "LSTM" or
        # "MultiheadAttention")
        self.tuples: dict[Any, tuple[str, str]] = {}
        # fx node -> (value, name) of a constant: a parameter or buffer (and slices of it),
        # the size of an axis, a shape
        self.consts: dict[Any, tuple[Any, str]] = {}

    def run(self, graph: Any) -> Workload:
        output = None
        for node in graph.nodes:
            if node.op == "placeholder":
                if INPUT in self.env.values():
                    raise WorkloadError(f"{self.name}: only one input is supported")
                self.env[node] = INPUT
            elif node.op == "get_attr":
                value = operator.attrgetter(node.target)(self.root)
                self.consts[node] = (value.detach() if hasattr(value, "detach") else value,
                                     node.target)
            elif node.op == "call_module":
                self._module(node)
            elif node.op in ("call_function", "call_method"):
                self._function(node)
            elif node.op == "output":
                output = node.args[0]
            else:
                self._fail(node, f"{node.op} {node.target}")
        if output in self.tuples or output in self.consts or not hasattr(output, "op"):
            self._fail(output, "a network output that is not one tensor")
        return self.out.workload(self.name, self.env[output])

    # ------------------------------------------------------------------ helpers
    def _qual(self, target: str) -> str:
        """The qualified name of a module in the network as given (``""``: a bare
        Transformer module itself)."""
        if not self.bare:
            return target
        return "" if target == _ROOT else target.removeprefix(f"{_ROOT}.")

    def _fail(self, node: Any, what: str) -> None:
        where = node.target if getattr(node, "op", "") == "call_module" else \
            getattr(node, "name", str(node))
        raise unsupported(self.name, what, where, _SUPPORTED)

    def _arg(self, node: Any, value: Any) -> str:
        if value in self.tuples:
            what = {"LSTM": "an LSTM's (h, c) state",
                    "MultiheadAttention": "a MultiheadAttention's weights"}[self.tuples[value][1]]
            self._fail(node, f"use of {what} (only output [0] is supported)")
        if value not in self.env:
            self._fail(node, f"{node.target} with a constant argument {value!r}")
        return self.env[value]

    def _const(self, node: Any, value: Any) -> Any:
        """The value of a constant argument (fx nodes of constants replaced by their
        values, inside tuples and slices too)."""
        if isinstance(value, tuple | list):
            return type(value)(self._const(node, v) for v in value)
        if isinstance(value, slice):
            return slice(*(self._const(node, v) for v in (value.start, value.stop,
                                                          value.step)))
        if hasattr(value, "op"):  # an fx node
            if value not in self.consts:
                self._fail(node, f"{node.target} of a tensor computed from the input")
            return self.consts[value][0]
        return value

    def _size(self, node: Any, tensor: Any, dim: int) -> int:
        """Axis ``dim`` (counting the batch) of the input's size, if fixed."""
        shape = (None, *self.out.shapes[self._arg(node, tensor)])
        size = shape[dim] if -len(shape) <= dim < len(shape) else None
        self._check(node, isinstance(size, int),
                    f"size of axis {dim} (the batch, or a free sequence length)")
        return size

    def _check(self, node: Any, ok: bool, what: str) -> None:
        if not ok:
            self._fail(node, what)

    # ------------------------------------------------------------------ modules
    def _module(self, node: Any) -> None:
        nn = self.torch.nn
        m = self.modules[node.target]
        kind = type(m).__name__
        if isinstance(m, nn.TransformerEncoder | nn.TransformerEncoderLayer
                      | nn.MultiheadAttention):
            self._transformer(node, m)
            return
        if len(node.args) != 1 or node.kwargs:
            self._fail(node, f"nn.{kind} called with {len(node.args)} arguments")
        src = self._arg(node, node.args[0])
        add, qual, local = self.out.add, self.out.unique(node.target), self.out.unique(node.name)
        if isinstance(m, nn.Conv2d):
            self._check(node, m.groups == 1 and tuple(m.dilation) == (1, 1)
                        and m.padding_mode == "zeros" and not isinstance(m.padding, str),
                        "nn.Conv2d with groups, dilation, string or non-zero padding")
            w = {"weight": _np(m.weight)} | ({"bias": _np(m.bias)} if m.bias is not None else {})
            ir = add(Conv2d(qual, src, m.in_channels, m.out_channels, tuple(m.kernel_size),
                            tuple(m.stride), tuple(m.padding), m.bias is not None), w)
        elif isinstance(m, nn.Linear):
            ir = self._linear(qual, m, src)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            self._check(node, m.running_mean is not None, f"nn.{kind} without running stats")
            c = m.num_features
            ir = add(BatchNorm(qual, src, c, m.eps), {
                "weight": _np(m.weight) if m.affine else np.ones(c),
                "bias": _np(m.bias) if m.affine else np.zeros(c),
                "running_mean": _np(m.running_mean), "running_var": _np(m.running_var)})
        elif isinstance(m, nn.LSTM):
            self._check(node, m.num_layers == 1 and not m.bidirectional and m.batch_first
                        and m.proj_size == 0,
                        "nn.LSTM other than one layer, unidirectional, batch_first=True")
            w = {"weight_ih": interleave_gates(_np(m.weight_ih_l0), TORCH_GATE_ORDER),
                 "weight_hh": interleave_gates(_np(m.weight_hh_l0), TORCH_GATE_ORDER)}
            if m.bias:
                w["bias"] = interleave_gates(_np(m.bias_ih_l0) + _np(m.bias_hh_l0),
                                             TORCH_GATE_ORDER)
            self.tuples[node] = (add(LSTM(qual, src, m.input_size, m.hidden_size, bool(m.bias)),
                                     w), "LSTM")
            return
        elif isinstance(m, nn.Embedding):
            self._check(node, m.max_norm is None, "nn.Embedding with max_norm")
            ir = add(Embedding(qual, src, m.num_embeddings, m.embedding_dim),
                     {"weight": _np(m.weight)})
        elif isinstance(m, nn.ReLU):
            ir = add(ReLU(local, src))
        elif isinstance(m, nn.LayerNorm):
            ir = self._layer_norm(node, qual, m, src)
        elif isinstance(m, nn.GELU):
            ir = add(GELU(local, src, m.approximate))
        elif isinstance(m, nn.MaxPool2d):
            self._check(node, not m.ceil_mode and m.dilation in (1, (1, 1))
                        and not m.return_indices, "nn.MaxPool2d with ceil_mode or dilation")
            ir = add(MaxPool(local, src, m.kernel_size, m.stride, m.padding))
        elif isinstance(m, nn.AvgPool2d):
            self._check(node, m.padding in (0, (0, 0)) and not m.ceil_mode
                        and m.divisor_override is None,
                        "nn.AvgPool2d with padding, ceil_mode or divisor_override")
            ir = add(AvgPool(local, src, m.kernel_size, m.stride))
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            self._check(node, m.output_size in (1, (1, 1)),
                        f"nn.AdaptiveAvgPool2d({m.output_size}) (only (1, 1))")
            ir = add(GlobalAvgPool(local, src))
        elif isinstance(m, nn.Flatten):
            self._check(node, m.start_dim == 1 and m.end_dim == -1,
                        "nn.Flatten other than start_dim=1, end_dim=-1")
            ir = add(Flatten(local, src))
        elif isinstance(m, nn.Identity | nn.Dropout):
            ir = src
        else:
            self._fail(node, f"nn.{kind}")
        self.env[node] = ir

    # ------------------------------------------------------------------ Transformers
    def _linear(self, name: str, m: Any, src: str) -> str:
        w = {"weight": _np(m.weight)} | ({"bias": _np(m.bias)} if m.bias is not None else {})
        return self.out.add(Linear(self.out.unique(name), src, m.in_features, m.out_features,
                                   m.bias is not None), w)

    def _layer_norm(self, node: Any, name: str, m: Any, src: str) -> str:
        self._check(node, len(m.normalized_shape) == 1,
                    f"nn.LayerNorm{tuple(m.normalized_shape)} (only over the last dimension)")
        c = m.normalized_shape[0]
        return self.out.add(LayerNorm(self.out.unique(name), src, c, m.eps), {
            "weight": np.ones(c) if m.weight is None else _np(m.weight),
            "bias": np.zeros(c) if m.bias is None else _np(m.bias)})

    def _transformer(self, node: Any, m: Any) -> None:
        """An encoder, encoder layer or self-attention module, expanded into IR nodes."""
        nn = self.torch.nn
        kind = type(m).__name__
        try:
            args = inspect.signature(m.forward).bind(*node.args, **node.kwargs).arguments
        except TypeError as exc:
            self._fail(node, f"nn.{kind} called with other arguments ({exc})")
        padding = "key_padding_mask" if isinstance(m, nn.MultiheadAttention) else \
            "src_key_padding_mask"
        self._check(node, args.get(padding) is None, f"nn.{kind} with {padding}")
        if isinstance(m, nn.MultiheadAttention):
            q = args["query"]
            self._check(node, q is args["key"] is args["value"],
                        "nn.MultiheadAttention other than self-attention (query, key and value "
                        "the same tensor)")
            src = self._arg(node, q)
            causal = self._causal(node, args.get("attn_mask"), args.get("is_causal"), src)
            self.tuples[node] = (self._attention(node, self._qual(node.target), m, src,
                                                 causal), "MultiheadAttention")
            return
        src = self._arg(node, args["src"])
        mask = args.get("mask" if isinstance(m, nn.TransformerEncoder) else "src_mask")
        causal = self._causal(node, mask, args.get("is_causal"), src)
        if isinstance(m, nn.TransformerEncoderLayer):
            self.env[node] = self._encoder_layer(node, self._qual(node.target), m, src, causal)
            return
        for i, layer in enumerate(m.layers):
            src = self._encoder_layer(node, _join(self._qual(node.target), f"layers.{i}"),
                                      layer, src, causal)
        if m.norm is not None:
            self._check(node, isinstance(m.norm, nn.LayerNorm),
                        f"nn.TransformerEncoder with norm nn.{type(m.norm).__name__}")
            src = self._layer_norm(node, _join(self._qual(node.target), "norm"), m.norm, src)
        self.env[node] = src

    def _causal(self, node: Any, mask: Any, is_causal: Any, src: str) -> bool:
        """Whether an attention mask is PyTorch's causal mask (None: no mask, not causal)."""
        if mask is None:
            self._check(node, not is_causal, "is_causal=True without its causal mask "
                        "(PyTorch needs both)")
            return False
        mask = self._const(node, mask)
        t = self.out.shapes[src][0]
        ok = hasattr(mask, "shape") and t is not None and tuple(mask.shape) == (t, t)
        if ok:
            upper = self.torch.ones(t, t, dtype=self.torch.bool).triu(1)
            if mask.dtype == self.torch.bool:
                ok = bool((mask == upper).all())
            else:
                ok = bool((mask[upper] == -float("inf")).all() and (mask[~upper] == 0).all())
        self._check(node, ok, "an attention mask other than the causal mask of the sequence "
                              "(generate_square_subsequent_mask)")
        return True

    def _attention(self, node: Any, qual: str, m: Any, src: str, causal: bool) -> str:
        """``m`` (nn.MultiheadAttention) on ``src`` as in-projection, SelfAttention and
        out-projection; returns the out-projection's name."""
        self._check(node, m.batch_first, "nn.MultiheadAttention without batch_first=True")
        self._check(node, m._qkv_same_embed_dim, "nn.MultiheadAttention with kdim or vdim")
        self._check(node, m.bias_k is None and not m.add_zero_attn,
                    "nn.MultiheadAttention with add_bias_kv or add_zero_attn")
        add, unique, d = self.out.add, self.out.unique, m.embed_dim
        w = {"weight": _np(m.in_proj_weight)}
        if m.in_proj_bias is not None:
            w["bias"] = _np(m.in_proj_bias)
        qkv = add(Linear(unique(_join(qual, "in_proj")), src, d, 3 * d, "bias" in w), w)
        att = add(SelfAttention(unique(qual or "self_attn"), qkv, d, m.num_heads, causal))
        return self._linear(_join(qual, "out_proj"), m.out_proj, att)

    def _encoder_layer(self, node: Any, q: str, m: Any, src: str, causal: bool) -> str:
        """``m`` (nn.TransformerEncoderLayer) on ``src``; returns its output's name."""
        nn, F = self.torch.nn, self.torch.nn.functional
        add, unique = self.out.add, self.out.unique
        self._check(node, isinstance(m, nn.TransformerEncoderLayer),
                    f"nn.TransformerEncoder of nn.{type(m).__name__}")
        self._check(node, m.self_attn.batch_first,
                    "nn.TransformerEncoderLayer without batch_first=True")
        act = m.activation
        gelu = act is F.gelu or isinstance(act, nn.GELU)
        self._check(node, gelu or act is F.relu or isinstance(act, nn.ReLU),
                    f"nn.TransformerEncoderLayer with activation {act!r} (only relu or gelu)")

        def norm(i: int, x: str) -> str:
            return self._layer_norm(node, _join(q, f"norm{i}"), getattr(m, f"norm{i}"), x)

        def residual(i: int, x: str, y: str) -> str:
            return add(Add(unique(_join(q, f"add{i}")), (x, y)))

        def attention(x: str) -> str:
            return self._attention(node, _join(q, "self_attn"), m.self_attn, x, causal)

        def feed_forward(x: str) -> str:
            hidden = self._linear(_join(q, "linear1"), m.linear1, x)
            name = unique(_join(q, "activation"))
            hidden = add(GELU(name, hidden, getattr(act, "approximate", "none")) if gelu
                         else ReLU(name, hidden))
            return self._linear(_join(q, "linear2"), m.linear2, hidden)

        if m.norm_first:
            x = residual(1, src, attention(norm(1, src)))
            return residual(2, x, feed_forward(norm(2, x)))
        x = norm(1, residual(1, src, attention(src)))
        return norm(2, residual(2, x, feed_forward(x)))

    def _position(self, node: Any, src: str, table: Any, name: str) -> str:
        """A parameter ``table`` added to the sequence ``src``: a position table."""
        t, d = (self.out.shapes[src] + (None,))[:2]
        if getattr(table, "ndim", 0) == 3 and table.shape[0] == 1:
            table = table[0]
        ok = len(self.out.shapes[src]) == 2 and t is not None and tuple(
            getattr(table, "shape", ())) == (t, d)
        self._check(node, ok, f"adding a constant of shape {tuple(getattr(table, 'shape', ()))}"
                              f" (only a position table (1, T, d) or (T, d) to a sequence (T, "
                              "d) of fixed length)")
        return self.out.add(PositionEmbedding(self.out.unique(name), src, t, d),
                            {"weight": _np(table)})

    # ------------------------------------------------------------------ functions
    def _function(self, node: Any) -> None:
        torch, target = self.torch, node.target
        fn = target if node.op == "call_method" else getattr(target, "__name__", str(target))
        args = node.args
        if target is operator.getitem and args[0] in self.tuples:
            self._check(node, args[1] == 0,
                        f"{self.tuples[args[0]][1]} output [{args[1]}] (only [0])")
            self.env[node] = self.tuples[args[0]][0]
        elif target is operator.getitem and args[0] in self.consts:
            value, name = self.consts[args[0]]
            index = self._const(node, args[1])
            try:
                self.consts[node] = (value[index], name)
            except (IndexError, TypeError, ValueError, RuntimeError) as exc:
                self._fail(node, f"indexing {name} with {index!r} ({exc})")
        elif fn == "size" and node.op == "call_method":
            self._check(node, len(args) == 2 and not node.kwargs, "size() of all axes")
            self.consts[node] = (self._size(node, args[0], self._const(node, args[1])),
                                 node.name)
        elif target is getattr and args[1] == "shape":
            self._arg(node, args[0])
            self.consts[node] = (_Shape(self, node, args[0]), node.name)
        elif target in (operator.add, operator.iadd, torch.add) or (
                node.op == "call_method" and fn == "add"):
            self._check(node, len(args) == 2 and not node.kwargs, f"{fn} with options")
            const = [a for a in args if a in self.consts]
            if const and len(const) == 1:
                table, name = self.consts[const[0]]
                src = self._arg(node, next(a for a in args if a is not const[0]))
                self.env[node] = self._position(node, src, table, name)
                return
            srcs = tuple(self._arg(node, a) for a in args)
            self.env[node] = self.out.add(Add(self.out.unique(node.name), srcs))
        elif target is torch.nn.functional.gelu:
            self.env[node] = self.out.add(GELU(self.out.unique(node.name),
                                               self._arg(node, args[0]),
                                               node.kwargs.get("approximate", "none")))
        elif fn == "relu" and (node.op == "call_method" or target in (
                torch.relu, torch.nn.functional.relu)):
            self.env[node] = self.out.add(ReLU(self.out.unique(node.name),
                                               self._arg(node, args[0])))
        elif fn == "flatten" and (node.op == "call_method" or target is torch.flatten):
            start = args[1] if len(args) > 1 else node.kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else node.kwargs.get("end_dim", -1)
            self._check(node, start == 1 and end == -1, "flatten other than flatten(x, 1)")
            self.env[node] = self.out.add(Flatten(self.out.unique(node.name),
                                                  self._arg(node, args[0])))
        else:
            self._fail(node, f"{node.op.replace('call_', '')} {fn}")


class _Shape:
    """``x.shape`` of a traced tensor: indexing it gives an axis' size, if fixed."""

    def __init__(self, importer: _Importer, node: Any, tensor: Any):
        self.importer, self.node, self.tensor = importer, node, tensor

    def __getitem__(self, dim: int) -> int:
        return self.importer._size(self.node, self.tensor, dim)
