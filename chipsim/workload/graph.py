"""The :class:`Workload`: a validated layer graph with its weights, and its lowering.

Lowering turns each weight layer into one matrix (rows = inputs, cols = outputs) and a count
of input vectors per inference (:class:`~chipsim.workload.lowered.LoweredLayer`):

- :class:`~chipsim.workload.nodes.Conv2d`: ``(kh*kw*cin) × cout``; row ``(i*kw + j)*cin + c``
  holds the weight of input channel ``c`` at kernel position ``(i, j)``, so the rows run in
  ``(kh, kw, cin)`` order with the channel fastest, the order of
  :func:`chipsim.workload.forward.im2col`. Vectors: output pixels ``Ho*Wo``.
- :class:`~chipsim.workload.nodes.Linear`: ``in × out`` (the transposed PyTorch weight).
  Vectors: 1 on a vector; on a sequence, 1 per time step in a network with an LSTM, else one
  per token of a fixed length ``T`` (a Transformer's projections and feed-forward layers).
- :class:`~chipsim.workload.nodes.LSTM` named ``n``: ``n.input`` (``in × 4H``) and ``n.hidden``
  (``H × 4H``), gate columns interleaved as in :data:`~chipsim.workload.nodes.LSTM_GATES`.
  Vectors: 1 per time step each. ``n.hidden`` reads the previous step's hidden state, which
  comes from its own gates: its ``sources`` is ``("n.hidden",)`` (a self-loop: the recurrence)
  and its ``residual_sources`` is ``("n.input",)`` (the input part of the gate sums).

Each matrix comes with a per-column affine ``y = (x @ W) * scale + bias`` (:meth:`Workload.affine`):
the layer's bias and, folded in, a directly following BatchNorm. An LSTM's bias belongs to
``n.input``.

``sources`` and ``residual_sources`` name weight layers: an operator without weights passes on
the producer of its input; a residual :class:`~chipsim.workload.nodes.Add` belongs to the
input whose producer runs last (the "main" branch, e.g. ``conv3`` in ResNet-9), and the other
inputs' producers become that layer's ``residual_sources``. The network input and the off-chip
embedding produce nothing on chip, so layers fed by them have empty ``sources``.

A Transformer's digital operators (:data:`~chipsim.workload.nodes.DIGITAL_TYPES`) pass on the
producer of their input like any other, and the layers after them name them:
:attr:`~chipsim.workload.lowered.LoweredLayer.digital` and, after a SelfAttention,
:attr:`~chipsim.workload.lowered.LoweredLayer.attention`.
"""

from __future__ import annotations

import graphlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import WorkloadError
from .lowered import LoweredLayer
from .nodes import (
    DIGITAL_TYPES,
    GELU,
    INPUT,
    LSTM,
    WEIGHT_TYPES,
    Add,
    BatchNorm,
    Conv2d,
    Embedding,
    LayerNorm,
    Linear,
    Node,
    PositionEmbedding,
    ReLU,
    SelfAttention,
    Shape,
)

__all__ = ["Affine", "Workload", "MAX_NODES", "check_node_count"]


class Affine(NamedTuple):
    """Per-column affine of a lowered layer: ``y = (x @ W) * scale + bias`` (float32)."""

    scale: np.ndarray
    bias: np.ndarray


#: The most operators (nodes) a workload may have. Every weight layer needs a core of its own
#: and no chip has more than 4,096 cores (:data:`chipsim.spec.chip.MAX_CORES`), so this leaves
#: 16 operators per weight layer of the largest network any chip maps; a larger graph is
#: refused before it is checked or imported (an ONNX file's nodes are counted first).
MAX_NODES = 65_536


def check_node_count(count: int, source: str) -> None:
    """Refuse a graph of more than :data:`MAX_NODES` operators (``source`` names it)."""
    if count > MAX_NODES:
        raise WorkloadError(f"{source}: {count:,} operators, more than a workload may have "
                            f"({MAX_NODES:,}: chipsim.workload.graph.MAX_NODES; no chip maps "
                            "more than 4,096 weight layers)")


@dataclass(frozen=True, eq=False, repr=False)
class Workload:
    """A network: the ordered layer graph, its weights and where it came from.

    Parameters
    ----------
    name
        Display name (e.g. ``"resnet9"``).
    input_shape
        Shape of one input without the batch: ``(C, H, W)`` for images, ``(None,)`` for a
        token sequence of any length.
    nodes
        The operators in execution order; each names its inputs (``"input"`` is the network
        input). The last node is the output. At most :data:`MAX_NODES`.
    weights
        Layer name → parameter name → array (layouts in :mod:`chipsim.workload.nodes`). The
        arrays are copied to read-only float32.
    architecture, params
        The model-zoo name and builder parameters this workload was built with, if any.

    Raises
    ------
    WorkloadError
        On more than :data:`MAX_NODES` nodes, duplicate or unknown names, cycles, nodes out
        of execution order, shape mismatches, missing or misshapen weights, or a BatchNorm
        that cannot be folded; the message names the layer.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.workload import Conv2d, ReLU
    >>> w = Workload("tiny", (3, 8, 8), (Conv2d("conv", "input", 3, 4, 3, padding=1),
    ...                                   ReLU("relu", "conv")),
    ...              {"conv": {"weight": np.ones((4, 3, 3, 3)), "bias": np.zeros(4)}})
    >>> w.lowered()[0]
    LoweredLayer(name='conv', kind='conv', rows=27, cols=4, vectors=64, sources=(), \
residual_sources=(), per_step=False, whole_sequence=False, geometry=(3, 3, 1, 1, 1, 1, 8, 8), \
digital=(), attention=None, digital_after=())
    >>> w.matrix("conv").shape
    (27, 4)
    """

    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    weights: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict, repr=False)
    architecture: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    _index: dict[str, Node] = field(init=False, repr=False)
    _shapes: dict[str, Shape] = field(init=False, repr=False)
    _consumers: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _lowered: tuple[LoweredLayer, ...] = field(init=False, repr=False)
    _affine: dict[str, Affine] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name:
            raise WorkloadError(f"a workload needs a non-empty name, got {self.name!r}")
        set_(self, "input_shape", _check_input_shape(self.input_shape))
        set_(self, "nodes", tuple(self.nodes))
        check_node_count(len(self.nodes), self.name)
        set_(self, "params", dict(self.params))
        set_(self, "_index", _index_nodes(self.nodes))
        set_(self, "_consumers", _check_order(self.nodes))
        set_(self, "_shapes", self._infer_shapes())
        set_(self, "weights", self._check_weights())
        self._check_folds()
        set_(self, "_lowered", self._lower())
        set_(self, "_affine", self._fold())

    def __repr__(self) -> str:
        shape = tuple("T" if d is None else d for d in self.input_shape)
        return (f"Workload({self.name!r}, input_shape={shape}, {len(self.nodes)} nodes, "
                f"{len(self._lowered)} weight layers, {self.num_weights:,} weights)")

    # ------------------------------------------------------------------ public queries
    def node(self, name: str) -> Node:
        """The node called ``name``."""
        try:
            return self._index[name]
        except KeyError:
            raise WorkloadError(f"{self.name}: no layer '{name}'") from None

    def shape(self, name: str) -> Shape:
        """Output shape (without batch) of node ``name``; ``"input"`` gives the input shape."""
        if name == INPUT:
            return self.input_shape
        self.node(name)
        return self._shapes[name]

    @property
    def output_shape(self) -> Shape:
        """Shape (without batch) of the network output."""
        return self._shapes[self.nodes[-1].name]

    def consumers(self, name: str) -> tuple[str, ...]:
        """Names of the nodes that read node ``name`` (or ``"input"``)."""
        return self._consumers.get(name, ())

    def lowered(self) -> tuple[LoweredLayer, ...]:
        """The weight layers as matrices, in execution order.

        Examples
        --------
        >>> from chipsim.workload import build
        >>> [(layer.name, layer.rows, layer.cols) for layer in build("lstm-ptb").lowered()]
        [('lstm.input', 128, 2016), ('lstm.hidden', 504, 2016), ('fc', 504, 50)]
        """
        return self._lowered

    @property
    def num_weights(self) -> int:
        """Matrix entries of all lowered layers (biases and affines not counted)."""
        return sum(layer.weights for layer in self._lowered)

    def matrix(self, name: str) -> np.ndarray:
        """The lowered weight matrix of layer ``name`` (rows = inputs, cols = outputs).

        Returns a new float32 C-contiguous array; the row order of a convolution is
        ``(kh, kw, cin)``, the column order of an LSTM matrix interleaves the gates
        (module docstring).

        Examples
        --------
        >>> from chipsim.workload import build
        >>> build("resnet9").matrix("conv1").shape
        (504, 112)
        """
        node, part = self._lowered_node(name)
        w = self.weights[node.name]
        if isinstance(node, Conv2d):
            kh, kw = node.kernel_size
            mat = w["weight"].transpose(2, 3, 1, 0).reshape(kh * kw * node.in_channels, -1)
        elif isinstance(node, LSTM):
            mat = w["weight_ih" if part == "input" else "weight_hh"].T
        else:
            mat = w["weight"].T
        return np.ascontiguousarray(mat, dtype=np.float32).copy()

    def affine(self, name: str) -> Affine:
        """The per-column ``(scale, bias)`` of layer ``name``, BatchNorm folded in.

        Examples
        --------
        >>> from chipsim.workload import build
        >>> scale, bias = build("resnet9").affine("conv0")
        >>> scale.shape, bias.shape
        ((56,), (56,))
        """
        self._lowered_node(name)
        scale, bias = self._affine[name]
        return Affine(scale.copy(), bias.copy())

    # ------------------------------------------------------------------ construction
    def _lowered_node(self, name: str) -> tuple[Node, str]:
        base, _, part = name.rpartition(".")
        node = self._index.get(base) if part in ("input", "hidden") else None
        if isinstance(node, LSTM):
            return node, part
        node = self._index.get(name)
        if not isinstance(node, Conv2d | Linear):
            known = ", ".join(layer.name for layer in self._lowered)
            raise WorkloadError(f"{self.name}: no weight layer '{name}'; lowered layers: {known}")
        return node, ""

    def _infer_shapes(self) -> dict[str, Shape]:
        shapes: dict[str, Shape] = {INPUT: self.input_shape}
        for node in self.nodes:
            if isinstance(node, Embedding) and (node.inputs[0] != INPUT
                                                 or len(self.input_shape) != 1):
                raise node.error("must read the network input, a sequence of token ids "
                                 "(input_shape (T,))")
            shapes[node.name] = tuple(node.out_shape(tuple(shapes[i] for i in node.inputs)))
        del shapes[INPUT]
        return shapes

    def _check_weights(self) -> dict[str, dict[str, np.ndarray]]:
        given = dict(self.weights)
        checked: dict[str, dict[str, np.ndarray]] = {}
        for node in self.nodes:
            want = node.param_shapes()
            if not want:
                continue
            arrays = dict(given.pop(node.name, None) or {})
            missing = [p for p in want if p not in arrays]
            extra = [p for p in arrays if p not in want]
            if missing or extra:
                what = f"missing {', '.join(missing)}" if missing else \
                    f"unexpected {', '.join(extra)}"
                raise node.error(f"weights: {what} (needs {', '.join(want)})")
            checked[node.name] = {}
            for param, shape in want.items():
                arr = np.asarray(arrays[param])
                if arr.shape != shape:
                    raise node.error(f"{param} has shape {arr.shape}, expected {shape}")
                if (not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr)
                        or not np.all(np.isfinite(arr))):
                    raise node.error(f"{param} must hold finite real numbers (no NaN or Inf)")
                with np.errstate(over="ignore"):
                    arr = np.array(arr, dtype=np.float32, order="C")
                if not np.all(np.isfinite(arr)):
                    raise node.error(f"{param} must hold numbers within float32's range "
                                     "(|w| < 3.4e38)")
                arr.flags.writeable = False
                checked[node.name][param] = arr
        if given:
            raise WorkloadError(f"{self.name}: weights for unknown or weightless layer(s) "
                                f"{', '.join(map(repr, given))}")
        for node in self.nodes:
            if isinstance(node, BatchNorm):
                var = checked[node.name]["running_var"]
                if np.any(var.astype(np.float64) + node.eps <= 0):
                    raise node.error("running_var + eps must be positive")
        return checked

    def _check_folds(self) -> None:
        for node in self.nodes:
            if not isinstance(node, BatchNorm):
                continue
            src = node.inputs[0]
            prev = self._index.get(src)
            if not isinstance(prev, Conv2d | Linear):
                what = "the network input" if prev is None else f"{prev.kind} '{src}'"
                raise node.error(f"cannot be folded: it must directly follow a Conv2d or "
                                 f"Linear layer, not {what}")
            others = [c for c in self._consumers[src] if c != node.name]
            if others:
                raise node.error(f"cannot be folded into '{src}': that layer also feeds "
                                 f"{', '.join(map(repr, others))}")

    def _lower(self) -> tuple[LoweredLayer, ...]:
        producer: dict[str, str | None] = {INPUT: None}
        rank: dict[str, int] = {}
        layers: list[dict[str, Any]] = []
        residual: dict[str, list[str]] = {}

        # In a network with an LSTM, one inference of the lowered layers is one time step: the
        # network input's first axis is time. A tensor is *timed* while its first axis is
        # still time (element-wise operators and Linear, which acts on the last axis, keep
        # it); any other operator on a timed tensor mixes the steps, and what follows reads
        # the whole sequence at once.
        timed = {INPUT: any(isinstance(node, LSTM) for node in self.nodes)}
        whole = {INPUT: False}
        # the digital operators each value went through since its producer, on the owner's
        # path through residual adds (LoweredLayer.digital), and, per layer, those on the
        # way of a residual added to its output or after it at the network output
        path: dict[str, tuple[str, ...]] = {INPUT: ()}
        off_path: dict[str, list[str]] = {}

        def add_layer(name: str, kind: str, rows: int, cols: int, vectors: int,
                      sources: tuple[str, ...], per_step: bool = False,
                      whole_sequence: bool = False, geometry: tuple | None = None,
                      digital: tuple[str, ...] = ()) -> None:
            rank[name] = len(layers)
            residual[name] = []
            off_path[name] = []
            layers.append(dict(name=name, kind=kind, rows=rows, cols=cols, vectors=vectors,
                               sources=sources, per_step=per_step,
                               whole_sequence=whole_sequence, geometry=geometry,
                               digital=digital))

        for node in self.nodes:
            src = [producer[i] for i in node.inputs]
            first = (src[0],) if src[0] else ()
            out = self._shapes[node.name]
            step = timed[node.inputs[0]]
            seq = any(whole[i] for i in node.inputs)
            keeps = isinstance(node, Linear | LSTM | Embedding | ReLU | Add | BatchNorm
                               | LayerNorm | GELU | PositionEmbedding)
            timed[node.name] = step and keeps
            whole[node.name] = seq or (step and not keeps)
            into = path[node.inputs[0]]  # the digital operators this node's input went through
            path[node.name] = ((*into, node.name) if isinstance(node, DIGITAL_TYPES) else
                               () if isinstance(node, WEIGHT_TYPES) else into)
            if isinstance(node, Conv2d):
                kh, kw = node.kernel_size
                h_in, w_in = self.shape(node.inputs[0])[-2:]
                geometry = (kh, kw, *node.stride, *node.padding, h_in, w_in)
                add_layer(node.name, "conv", kh * kw * node.in_channels, node.out_channels,
                          out[1] * out[2], first, whole_sequence=whole[node.name],
                          geometry=geometry, digital=into)
                producer[node.name] = node.name
            elif isinstance(node, Linear):
                lead = out[1:-1] if step else out[:-1]  # per time step: without the time axis
                vectors = math.prod(d for d in lead if d is not None)
                add_layer(node.name, "linear", node.in_features, node.out_features, vectors,
                          first, per_step=step, whole_sequence=seq, digital=into)
                producer[node.name] = node.name
            elif isinstance(node, LSTM):
                gates = 4 * node.hidden_size
                inp, hid = f"{node.name}.input", f"{node.name}.hidden"
                add_layer(inp, "lstm_input", node.input_size, gates, 1, first, per_step=True,
                          digital=into)
                add_layer(hid, "lstm_hidden", node.hidden_size, gates, 1, (hid,),
                          per_step=True)
                residual[hid].append(inp)
                producer[node.name] = hid
            elif len(src) > 1:  # residual Add
                present = [p for p in src if p]
                owner = max(present, key=rank.__getitem__) if present else None
                for p in present:
                    if p != owner and p not in residual[owner]:  # type: ignore[index]
                        residual[owner].append(p)  # type: ignore[index]
                producer[node.name] = owner
                main = src.index(owner)  # the owner's path (the first input if no owner)
                path[node.name] = path[node.inputs[main]]
                others = [n for i, name in enumerate(node.inputs) if i != main
                          for n in path[name]]
                if owner is None:  # no layer owns the sum: the other paths are its own too
                    path[node.name] = tuple(dict.fromkeys((*path[node.name], *others)))
                else:
                    off_path[owner].extend(others)
            else:
                producer[node.name] = src[0]
        counts = Counter(layer["name"] for layer in layers)
        clash = {n for n, k in counts.items() if k > 1} | \
            {n for n in counts if n in self._index and not isinstance(self._index[n], Conv2d
                                                                       | Linear)}
        if clash:
            raise WorkloadError(f"{self.name}: lowered layer name(s) {sorted(clash)} clash "
                                "with other layers")
        last = self.nodes[-1].name
        if producer[last]:  # the operators after the last weight layer
            off_path[producer[last]].extend(path[last])
        on_path = {n for layer in layers for n in layer["digital"]}
        for layer in layers:
            extra = [n for n in dict.fromkeys(off_path[layer["name"]]) if n not in on_path]
            layer.update(self._digital(layer["name"], layer["digital"], tuple(extra)))
        return tuple(LoweredLayer(**layer, residual_sources=tuple(residual[layer["name"]]))
                     for layer in layers)

    def _digital(self, layer: str, on_path: tuple[str, ...], extra: tuple[str, ...]
                 ) -> dict[str, Any]:
        """``digital`` and ``attention`` of lowered ``layer`` from the names of the digital
        operators on its input's path and of those no layer's input passes through that
        take its output."""
        attention = [self._index[n] for n in on_path
                     if isinstance(self._index[n], SelfAttention)]
        if len(attention) > 1:
            raise WorkloadError(f"{self.name}: the input of layer '{layer}' passes through "
                                f"{len(attention)} SelfAttention operators with no weight layer "
                                "between them; the lowering describes one")
        att = attention[0] if attention else None
        return {"digital": tuple(self._index[n].kind for n in on_path),
                "attention": None if att is None else (att.heads, att.d_model, att.causal),
                "digital_after": tuple(self._index[n].kind for n in extra)}

    def _fold(self) -> dict[str, Affine]:
        affine: dict[str, Affine] = {}
        for node in self.nodes:
            if not isinstance(node, WEIGHT_TYPES):
                continue
            w = self.weights[node.name]
            cols = w["weight_ih"].shape[0] if isinstance(node, LSTM) else w["weight"].shape[0]
            bias = w["bias"].astype(np.float64) if "bias" in w else np.zeros(cols)
            scale = np.ones(cols)
            if isinstance(node, LSTM):
                affine[f"{node.name}.hidden"] = Affine(np.ones(cols, np.float32),
                                                       np.zeros(cols, np.float32))
                name = f"{node.name}.input"
            else:
                name = node.name
                bn = [self._index[c] for c in self._consumers.get(node.name, ())
                      if isinstance(self._index[c], BatchNorm)]
                if bn:
                    p = {k: v.astype(np.float64) for k, v in self.weights[bn[0].name].items()}
                    scale = p["weight"] / np.sqrt(p["running_var"] + bn[0].eps)
                    bias = (bias - p["running_mean"]) * scale + p["bias"]
            affine[name] = Affine(scale.astype(np.float32), bias.astype(np.float32))
        return affine


def _check_input_shape(shape: Any) -> Shape:
    try:
        dims = tuple(shape)
    except TypeError:
        dims = (shape,)
    if not dims or not all(d is None or (isinstance(d, int | np.integer)
                                         and not isinstance(d, bool) and d > 0) for d in dims):
        raise WorkloadError(f"input_shape must be positive ints (None for a free length), "
                            f"got {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


def _index_nodes(nodes: tuple[Node, ...]) -> dict[str, Node]:
    if not nodes:
        raise WorkloadError("a workload needs at least one layer")
    index: dict[str, Node] = {}
    for node in nodes:
        if not isinstance(node, Node):
            raise WorkloadError(f"not a layer node: {node!r}")
        if node.name == INPUT:
            raise WorkloadError(f"layer name '{INPUT}' is reserved for the network input")
        if node.name in index:
            raise WorkloadError(f"duplicate layer name '{node.name}'")
        index[node.name] = node
    return index


def _check_order(nodes: tuple[Node, ...]) -> dict[str, tuple[str, ...]]:
    """Check references, cycles and execution order; return name → consumers."""
    names = {n.name for n in nodes} | {INPUT}
    for node in nodes:
        for i in node.inputs:
            if i not in names:
                raise node.error(f"unknown input '{i}'")
    sorter = graphlib.TopologicalSorter({n.name: [i for i in n.inputs if i != INPUT]
                                         for n in nodes})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]  # each layer feeds the next
        raise WorkloadError(f"layer '{cycle[0]}' is in a cycle: "
                            f"{' -> '.join(cycle)}") from None
    seen = {INPUT}
    consumers: dict[str, list[str]] = {}
    for node in nodes:
        for i in node.inputs:
            if i not in seen:
                raise node.error(f"reads '{i}', which comes later; list the layers in "
                                 "execution order")
            consumers.setdefault(i, []).append(node.name)
        seen.add(node.name)
    return {k: tuple(v) for k, v in consumers.items()}
