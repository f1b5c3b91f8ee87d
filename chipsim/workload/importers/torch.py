"""Import a PyTorch ``nn.Module`` by tracing it with ``torch.fx``.

Weight modules and BatchNorms keep their qualified module names (``layer1.0.conv1``), other
operators take the fx node names (``relu``, ``add_1``). PyTorch's LSTM gate blocks
``(i, f, g, o)`` are reordered to the chip's interleaved ``I, A, F, O`` columns
(:data:`TORCH_GATE_ORDER`, :func:`~chipsim.workload.nodes.interleave_gates`); its two biases
are summed. Eval-mode semantics are used (BatchNorm running statistics, no dropout).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..errors import WorkloadError
from ..graph import Workload
from ..nodes import (
    INPUT,
    LSTM,
    Add,
    AvgPool,
    BatchNorm,
    Conv2d,
    Embedding,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool,
    ReLU,
    interleave_gates,
)
from ._common import Collector, require, unsupported

__all__ = ["from_torch", "TORCH_MODULES", "TORCH_FUNCTIONS", "TORCH_GATE_ORDER"]

TORCH_GATE_ORDER = "IFAO"
"""PyTorch's LSTM gate blocks ``(i, f, g, o)`` as letters of ``LSTM_GATES`` (g = A)."""

TORCH_MODULES = ("Conv2d", "Linear", "BatchNorm1d", "BatchNorm2d", "ReLU", "MaxPool2d",
                 "AvgPool2d", "AdaptiveAvgPool2d((1, 1))", "Flatten", "LSTM", "Embedding",
                 "Identity", "Dropout")
"""Module types :func:`from_torch` understands."""

TORCH_FUNCTIONS = ("x + y / torch.add / x.add", "relu (torch, F, method)",
                   "flatten(x, 1) (torch, method)", "lstm_output[0]")
"""Functions and methods :func:`from_torch` understands."""

_SUPPORTED = tuple(f"nn.{m}" for m in TORCH_MODULES) + TORCH_FUNCTIONS


def from_torch(module: Any, example_input: Any, name: str | None = None) -> Workload:
    """Import ``module`` (a ``torch.nn.Module``) as a :class:`Workload`.

    Parameters
    ----------
    module
        The network; traced with ``torch.fx.symbolic_trace``, so its ``forward`` must be
        free of data-dependent control flow.
    example_input
        A batch of inputs (``torch.Tensor``): its shape after the batch dimension becomes the
        workload's input shape; an integer ``(N, T)`` tensor means token ids of any length.
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
    """
    torch = require("torch", "train", "torch==2.13.0")
    name = name or type(module).__name__
    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as exc:  # fx raises many kinds of errors on untraceable code
        raise WorkloadError(f"{name}: cannot trace the module with torch.fx ({exc})") from None
    gm.graph.eliminate_dead_code()
    return _Importer(torch, module, name, example_input).run(gm.graph)


def _np(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float32)


class _Importer:
    def __init__(self, torch: Any, module: Any, name: str, example: Any):
        self.torch = torch
        self.name = name
        self.modules = dict(module.named_modules())
        if not isinstance(example, torch.Tensor):
            raise WorkloadError(f"{name}: example_input must be a torch.Tensor")
        if example.dtype.is_floating_point:
            shape = tuple(example.shape[1:])
        elif example.ndim == 2:
            shape = (None,)
        else:
            raise WorkloadError(f"{name}: integer example_input must be token ids (N, T), "
                                f"got shape {tuple(example.shape)}")
        self.out = Collector(name, shape)
        self.env: dict[Any, str] = {}  # fx node -> IR node name
        self.lstm_tuples: dict[Any, str] = {}  # fx node of an LSTM call -> IR name

    def run(self, graph: Any) -> Workload:
        output = None
        for node in graph.nodes:
            if node.op == "placeholder":
                if INPUT in self.env.values():
                    raise WorkloadError(f"{self.name}: only one input is supported")
                self.env[node] = INPUT
            elif node.op == "call_module":
                self._module(node)
            elif node.op in ("call_function", "call_method"):
                self._function(node)
            elif node.op == "output":
                output = node.args[0]
            else:
                self._fail(node, f"{node.op} {node.target}")
        if output in self.lstm_tuples or not hasattr(output, "op"):
            self._fail(output, "a network output that is not one tensor")
        return self.out.workload(self.name, self.env[output])

    # ------------------------------------------------------------------ helpers
    def _fail(self, node: Any, what: str) -> None:
        where = node.target if getattr(node, "op", "") == "call_module" else \
            getattr(node, "name", str(node))
        raise unsupported(self.name, what, where, _SUPPORTED)

    def _arg(self, node: Any, value: Any) -> str:
        if value in self.lstm_tuples:
            self._fail(node, "use of an LSTM's (h, c) state (only output [0] is supported)")
        if value not in self.env:
            self._fail(node, f"{node.target} with a constant argument {value!r}")
        return self.env[value]

    def _check(self, node: Any, ok: bool, what: str) -> None:
        if not ok:
            self._fail(node, what)

    # ------------------------------------------------------------------ modules
    def _module(self, node: Any) -> None:
        nn = self.torch.nn
        m = self.modules[node.target]
        kind = type(m).__name__
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
            w = {"weight": _np(m.weight)} | ({"bias": _np(m.bias)} if m.bias is not None else {})
            ir = add(Linear(qual, src, m.in_features, m.out_features, m.bias is not None), w)
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
            self.lstm_tuples[node] = add(LSTM(qual, src, m.input_size, m.hidden_size,
                                              bool(m.bias)), w)
            return
        elif isinstance(m, nn.Embedding):
            self._check(node, m.max_norm is None, "nn.Embedding with max_norm")
            ir = add(Embedding(qual, src, m.num_embeddings, m.embedding_dim),
                     {"weight": _np(m.weight)})
        elif isinstance(m, nn.ReLU):
            ir = add(ReLU(local, src))
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

    # ------------------------------------------------------------------ functions
    def _function(self, node: Any) -> None:
        torch, target = self.torch, node.target
        fn = target if node.op == "call_method" else getattr(target, "__name__", str(target))
        args = node.args
        if target is operator.getitem and args[0] in self.lstm_tuples:
            self._check(node, args[1] == 0, f"LSTM output [{args[1]}] (only [0])")
            self.env[node] = self.lstm_tuples[args[0]]
        elif target in (operator.add, operator.iadd, torch.add) or (
                node.op == "call_method" and fn == "add"):
            self._check(node, len(args) == 2 and not node.kwargs, f"{fn} with options")
            srcs = tuple(self._arg(node, a) for a in args)
            self.env[node] = self.out.add(Add(self.out.unique(node.name), srcs))
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
