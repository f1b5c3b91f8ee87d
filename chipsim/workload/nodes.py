"""The operators of the layer-graph IR: frozen dataclasses, each naming its inputs.

Every node has a unique ``name`` and the names of the nodes it reads (``inputs``; the network
input is :data:`INPUT`). A node knows its output shape from its input shapes and the shapes of
its parameter arrays; the numerics live in :mod:`chipsim.workload.forward`.

Shapes exclude the batch dimension: ``(C, H, W)`` for images, ``(T, F)`` for sequences,
``(F,)`` for vectors, ``(T,)`` for token ids. A ``None`` entry is a length not fixed by the
network (the sequence length of a language model).

Parameter layouts (float32, stored per node in :attr:`Workload.weights`):

- :class:`Conv2d`: ``weight`` ``(cout, cin, kh, kw)`` (PyTorch/ONNX layout), ``bias`` ``(cout,)``.
- :class:`Linear`: ``weight`` ``(out, in)``, ``bias`` ``(out,)``.
- :class:`LSTM`: ``weight_ih`` ``(4H, in)``, ``weight_hh`` ``(4H, H)``, ``bias`` ``(4H,)`` (the
  sum of PyTorch's two biases), rows in the chip's interleaved gate order: row ``4*h + k`` is
  gate ``LSTM_GATES[k]`` of hidden unit ``h`` (see :data:`LSTM_GATES`).
- :class:`Embedding`: ``weight`` ``(num_embeddings, embedding_dim)``.
- :class:`BatchNorm`: ``weight`` (γ), ``bias`` (β), ``running_mean``, ``running_var``, each
  ``(C,)``.
- :class:`LayerNorm`: ``weight`` (γ), ``bias`` (β), each ``(features,)``.
- :class:`PositionEmbedding`: ``weight`` ``(max_len, dim)``, row ``t`` added to token ``t``.

A Transformer is made of these operators: its projections and feed-forward layers are
:class:`Linear` layers on ``(T, F)`` sequences (analog weight layers, one input vector per
token), its residual connections :class:`Add`, and :data:`DIGITAL_TYPES` (:class:`SelfAttention`,
:class:`LayerNorm`, :class:`GELU`, :class:`PositionEmbedding`) the digital work between them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import WorkloadError

__all__ = [
    "INPUT", "LSTM_GATES", "Shape", "Node", "Conv2d", "Linear", "LSTM", "Embedding",
    "BatchNorm", "ReLU", "Add", "MaxPool", "AvgPool", "GlobalAvgPool", "Flatten", "ChannelPad",
    "LayerNorm", "GELU", "SelfAttention", "PositionEmbedding", "NODE_TYPES", "WEIGHT_TYPES",
    "DIGITAL_TYPES", "GELU_APPROXIMATIONS", "interleave_gates", "node_to_dict", "node_from_dict",
]

INPUT = "input"
"""The reserved name of the network input in a node's ``inputs``."""

LSTM_GATES = "IAFO"
"""Gate order of the interleaved LSTM columns: column ``4*h + k`` is gate ``LSTM_GATES[k]``
of hidden unit ``h``. I = input gate (sigmoid), A = cell candidate (tanh; PyTorch's ``g``),
F = forget gate (sigmoid), O = output gate (sigmoid). With four adjacent columns per hidden
unit, a block of 252 columns holds all gates of 63 hidden units, so one GDPU slice computes
them from one core's outputs ([LG] §III)."""

Shape = tuple[int | None, ...]


def _is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), true and false not counted."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _pair(value: Any, what: str, owner: str) -> tuple[int, int]:
    """``value`` as a pair of ints (an int is used for both)."""
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise WorkloadError(f"layer '{owner}': {what} must be an int or a pair of ints, "
                            f"got {value!r}")
    return int(pair[0]), int(pair[1])


@dataclass(frozen=True, slots=True)
class Node:
    """Base of all operators: a unique ``name`` and the names of its ``inputs``."""

    name: str
    inputs: tuple[str, ...]

    arity: ClassVar[int | None] = 1
    """Number of inputs (``None``: two or more)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise WorkloadError(f"a {type(self).__name__} node needs a non-empty name, "
                                f"got {self.name!r}")
        inputs = (self.inputs,) if isinstance(self.inputs, str) else tuple(self.inputs)
        if not all(isinstance(i, str) for i in inputs):
            raise WorkloadError(f"layer '{self.name}': inputs must be names, got {inputs!r}")
        object.__setattr__(self, "inputs", inputs)
        arity = type(self).arity
        if (arity is None and len(inputs) < 2) or (arity is not None and len(inputs) != arity):
            want = "two or more inputs" if arity is None else f"{arity} input(s)"
            raise WorkloadError(f"layer '{self.name}' ({type(self).__name__}) takes {want}, "
                                f"got {len(inputs)}")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type == "int" and (not _is_int(value) or value < 1):
                raise WorkloadError(f"layer '{self.name}': {field.name} must be a positive "
                                    f"int, got {value!r}")
            if field.type == "int":
                object.__setattr__(self, field.name, int(value))
            if field.type == "bool" and not isinstance(value, bool | np.bool_):
                raise WorkloadError(f"layer '{self.name}': {field.name} must be true or false, "
                                    f"got {value!r}")
            if field.type == "bool":
                object.__setattr__(self, field.name, bool(value))

    @property
    def kind(self) -> str:
        """The operator's name (the class name)."""
        return type(self).__name__

    def error(self, message: str) -> WorkloadError:
        """A :class:`WorkloadError` whose message names this layer."""
        return WorkloadError(f"layer '{self.name}' ({self.kind}): {message}")

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        """Output shape (without batch) from the shapes of the inputs."""
        raise NotImplementedError  # pragma: no cover - every operator overrides it

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name → shape of each parameter array the node needs (empty: none)."""
        return {}

    # shape helpers shared by the subclasses
    def _image(self, shape: Shape, channels: int | None = None) -> tuple[int, int, int]:
        if len(shape) != 3 or any(d is None for d in shape):
            raise self.error(f"needs an image input (C, H, W), got shape {_fmt(shape)}")
        if channels is not None and shape[0] != channels:
            raise self.error(f"expects {channels} input channels, its input "
                             f"'{self.inputs[0]}' has {shape[0]} (shape {_fmt(shape)})")
        return shape  # type: ignore[return-value]

    def _window(self, size: int, kernel: int, stride: int, pad: int, axis: str) -> int:
        out = (size + 2 * pad - kernel) // stride + 1
        if out < 1:
            raise self.error(f"kernel {kernel} with padding {pad} does not fit the input "
                             f"{axis} {size}")
        return out


def _check_eps(node: BatchNorm | LayerNorm) -> None:
    if isinstance(node.eps, bool) or not (isinstance(node.eps, int | float)
                                          and math.isfinite(node.eps) and node.eps >= 0):
        raise node.error(f"eps must be a finite number ≥ 0, got {node.eps!r}")
    object.__setattr__(node, "eps", float(node.eps))


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join("T" if d is None else str(d) for d in shape) + ")"


@dataclass(frozen=True, slots=True)
class Conv2d(Node):
    """2-D convolution, lowered to a ``(kh*kw*cin) × cout`` matrix, one input vector per
    output pixel.

    Examples
    --------
    >>> Conv2d("conv0", ("input",), 3, 56, 3, padding=1, bias=False).kernel_size
    (3, 3)
    """

    in_channels: int
    out_channels: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    bias: bool = True

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        for name in ("kernel_size", "stride"):
            pair = _pair(getattr(self, name), name, self.name)
            if min(pair) < 1:
                raise self.error(f"{name} must be positive, got {pair}")
            object.__setattr__(self, name, pair)
        padding = _pair(self.padding, "padding", self.name)
        if min(padding) < 0:
            raise self.error(f"padding must be ≥ 0, got {padding}")
        object.__setattr__(self, "padding", padding)
        object.__setattr__(self, "bias", bool(self.bias))

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        _, h, w = self._image(shapes[0], self.in_channels)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (self.out_channels, self._window(h, kh, sh, ph, "height"),
                self._window(w, kw, sw, pw, "width"))

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"weight": (self.out_channels, self.in_channels, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes


@dataclass(frozen=True, slots=True)
class Linear(Node):
    """Dense layer ``y = x Wᵀ + b`` over the last dimension, lowered to ``in × out``.

    Examples
    --------
    >>> Linear("fc", ("flatten",), 224, 10).param_shapes()
    {'weight': (10, 224), 'bias': (10,)}
    """

    in_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        object.__setattr__(self, "bias", bool(self.bias))

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        shape = shapes[0]
        if not shape or shape[-1] != self.in_features:
            raise self.error(f"expects {self.in_features} input features, its input "
                             f"'{self.inputs[0]}' has shape {_fmt(shape)}")
        return (*shape[:-1], self.out_features)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"weight": (self.out_features, self.in_features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes


@dataclass(frozen=True, slots=True)
class LSTM(Node):
    """One LSTM layer over a ``(T, input_size)`` sequence, zero initial state, returning the
    hidden states ``(T, hidden_size)``.

    It lowers to two matrices, ``<name>.input`` (``input_size × 4H``) and ``<name>.hidden``
    (``H × 4H``), with the gate columns interleaved as in :data:`LSTM_GATES`.

    Examples
    --------
    >>> LSTM("lstm", ("embed",), 128, 504).param_shapes()["weight_hh"]
    (2016, 504)
    """

    input_size: int
    hidden_size: int
    bias: bool = True

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        object.__setattr__(self, "bias", bool(self.bias))

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        shape = shapes[0]
        if len(shape) != 2 or shape[1] != self.input_size:
            raise self.error(f"expects a sequence (T, {self.input_size}), its input "
                             f"'{self.inputs[0]}' has shape {_fmt(shape)}")
        return (shape[0], self.hidden_size)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        gates = 4 * self.hidden_size
        shapes = {"weight_ih": (gates, self.input_size), "weight_hh": (gates, self.hidden_size)}
        if self.bias:
            shapes["bias"] = (gates,)
        return shapes


@dataclass(frozen=True, slots=True)
class Embedding(Node):
    """Table lookup of integer token ids (done off-chip, [LG] §V): ``(T,)`` → ``(T, dim)``."""

    num_embeddings: int
    embedding_dim: int

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        return (*shapes[0], self.embedding_dim)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.num_embeddings, self.embedding_dim)}


@dataclass(frozen=True, slots=True)
class BatchNorm(Node):
    """Inference batch normalization over the channel (first) dimension.

    It must directly follow a :class:`Conv2d` or :class:`Linear` that feeds nothing else: it
    is folded into that layer's per-column affine (:meth:`Workload.affine`).
    """

    num_features: int
    eps: float = 1e-5

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        _check_eps(self)

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        shape = shapes[0]
        if len(shape) not in (1, 3) or shape[0] != self.num_features:
            raise self.error(f"normalizes {self.num_features} channels, its input "
                             f"'{self.inputs[0]}' has shape {_fmt(shape)}")
        return shape

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        c = (self.num_features,)
        return {"weight": c, "bias": c, "running_mean": c, "running_var": c}


@dataclass(frozen=True, slots=True)
class ReLU(Node):
    """``max(x, 0)``, element-wise."""

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        return shapes[0]


@dataclass(frozen=True, slots=True)
class Add(Node):
    """Element-wise sum of two or more inputs of equal shape (residual connection)."""

    arity: ClassVar[int | None] = None

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        for name, shape in zip(self.inputs[1:], shapes[1:], strict=True):
            if shape != shapes[0]:
                raise self.error(f"adds inputs of different shapes: '{self.inputs[0]}' "
                                 f"{_fmt(shapes[0])} and '{name}' {_fmt(shape)}")
        return shapes[0]


@dataclass(frozen=True, slots=True)
class MaxPool(Node):
    """2-D max pooling (``stride`` defaults to ``kernel_size``; padding counts as −∞)."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        _pool_init(self)
        padding = _pair(self.padding, "padding", self.name)
        if min(padding) < 0 or padding[0] * 2 > self.kernel_size[0] \
                or padding[1] * 2 > self.kernel_size[1]:
            raise self.error(f"padding must be ≥ 0 and at most half the kernel, got {padding}")
        object.__setattr__(self, "padding", padding)

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        return _pool_shape(self, shapes[0], self.padding)


@dataclass(frozen=True, slots=True)
class AvgPool(Node):
    """2-D average pooling without padding (``stride`` defaults to ``kernel_size``)."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        _pool_init(self)

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        return _pool_shape(self, shapes[0], (0, 0))


def _pool_init(node: MaxPool | AvgPool) -> None:
    kernel = _pair(node.kernel_size, "kernel_size", node.name)
    stride = kernel if node.stride is None else _pair(node.stride, "stride", node.name)
    if min(kernel) < 1 or min(stride) < 1:
        raise node.error(f"kernel_size and stride must be positive, got {kernel}, {stride}")
    object.__setattr__(node, "kernel_size", kernel)
    object.__setattr__(node, "stride", stride)


def _pool_shape(node: MaxPool | AvgPool, shape: Shape, padding: tuple[int, int]) -> Shape:
    c, h, w = node._image(shape)
    (kh, kw), (sh, sw) = node.kernel_size, node.stride
    return (c, node._window(h, kh, sh, padding[0], "height"),
            node._window(w, kw, sw, padding[1], "width"))


@dataclass(frozen=True, slots=True)
class GlobalAvgPool(Node):
    """Mean over the spatial dimensions: ``(C, H, W)`` → ``(C, 1, 1)``."""

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        return (self._image(shapes[0])[0], 1, 1)


@dataclass(frozen=True, slots=True)
class Flatten(Node):
    """All dimensions (after the batch) into one, in C-order (``c*H*W + h*W + w``)."""

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        if any(d is None for d in shapes[0]):
            raise self.error(f"cannot flatten a variable-length input {_fmt(shapes[0])}")
        return (math.prod(shapes[0]),)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ChannelPad(Node):
    """The parameter-free "option A" ResNet shortcut (He et al. 2016, CIFAR): keep every
    ``stride``-th pixel (``x[:, ::s, ::s]``) and zero-pad the channels from ``in_channels`` to
    ``out_channels``, ``(out - in) // 2`` zero channels before and the rest after.
    """

    in_channels: int
    out_channels: int
    stride: int = 1

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        if self.out_channels < self.in_channels:
            raise self.error(f"out_channels {self.out_channels} < in_channels "
                             f"{self.in_channels}")

    @property
    def pad_before(self) -> int:
        """Zero channels put before the input's channels."""
        return (self.out_channels - self.in_channels) // 2

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        _, h, w = self._image(shapes[0], self.in_channels)
        s = self.stride
        return (self.out_channels, -(-h // s), -(-w // s))


@dataclass(frozen=True, slots=True)
class LayerNorm(Node):
    """Layer normalization over the last dimension (PyTorch's ``nn.LayerNorm(features)``):
    ``(x − mean) / sqrt(var + eps) · weight + bias``, the mean and the biased variance taken
    over the ``features`` values of each token. Digital (the chip executor: FP16).

    Examples
    --------
    >>> LayerNorm("norm1", ("add1",), 16).out_shape(((8, 16),))
    (8, 16)
    """

    features: int
    eps: float = 1e-5

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        _check_eps(self)

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        shape = shapes[0]
        if not shape or shape[-1] != self.features:
            raise self.error(f"normalizes {self.features} features, its input "
                             f"'{self.inputs[0]}' has shape {_fmt(shape)}")
        return shape

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.features,), "bias": (self.features,)}


GELU_APPROXIMATIONS = ("none", "tanh")
"""The values of :attr:`GELU.approximate` (PyTorch's)."""


@dataclass(frozen=True, slots=True)
class GELU(Node):
    """``x · Φ(x)``, element-wise (Φ the standard normal CDF); ``approximate="tanh"`` is
    PyTorch's ``0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))``. Digital (the chip executor: FP16).

    Examples
    --------
    >>> GELU("act", ("linear1",), "tanh").approximate
    'tanh'
    """

    approximate: str = "none"

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        if self.approximate not in GELU_APPROXIMATIONS:
            raise self.error(f"approximate must be one of {', '.join(GELU_APPROXIMATIONS)}, "
                             f"got {self.approximate!r}")

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        return shapes[0]


@dataclass(frozen=True, slots=True)
class SelfAttention(Node):
    """Multi-head scaled dot-product self-attention over a sequence, without weights: the
    part of PyTorch's ``nn.MultiheadAttention`` between its input and output projections
    (which are :class:`Linear` layers).

    Its input ``(T, 3·d_model)`` holds each token's query, key and value (PyTorch's
    ``in_proj`` order: columns ``[0, d)`` q, ``[d, 2d)`` k, ``[2d, 3d)`` v); head ``h`` uses
    columns ``[h·dh, (h+1)·dh)`` of each, ``dh = d_model / heads``. Its output ``(T,
    d_model)`` is the heads' outputs side by side, ``softmax(q·kᵀ / √dh) · v`` per head, the
    softmax over the keys (with ``causal``, over keys ``0..t`` for token ``t`` only). The
    sequence length ``T`` must be fixed: every token attends to the whole sequence, so one
    inference is one sequence. Digital (the chip executor: FP16).

    Examples
    --------
    >>> SelfAttention("attn", ("in_proj",), 32, 4).out_shape(((8, 96),))
    (8, 32)
    """

    d_model: int
    heads: int
    causal: bool = False

    def __post_init__(self) -> None:
        Node.__post_init__(self)
        if self.d_model % self.heads:
            raise self.error(f"d_model {self.d_model} is not a multiple of heads {self.heads}")

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        shape = shapes[0]
        if len(shape) != 2 or shape[1] != 3 * self.d_model:
            raise self.error(f"expects a sequence (T, {3 * self.d_model}) of queries, keys and "
                             f"values, its input '{self.inputs[0]}' has shape {_fmt(shape)}")
        if shape[0] is None:
            raise self.error("needs a sequence of fixed length T (its input has a free "
                             "length): give the workload a fixed input length")
        return (shape[0], self.d_model)


@dataclass(frozen=True, slots=True)
class PositionEmbedding(Node):
    """A learned position table added to a sequence ``(T, dim)``: token ``t`` gets
    ``weight[t]`` (``T ≤ max_len``). Digital (the chip executor: FP16, as a residual sum).

    Examples
    --------
    >>> PositionEmbedding("pos", ("embed",), 64, 16).param_shapes()
    {'weight': (64, 16)}
    """

    max_len: int
    dim: int

    def out_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        shape = shapes[0]
        if len(shape) != 2 or shape[1] != self.dim or (shape[0] or 0) > self.max_len:
            raise self.error(f"expects a sequence (T, {self.dim}) with T ≤ {self.max_len}, its "
                             f"input '{self.inputs[0]}' has shape {_fmt(shape)}")
        return shape

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.max_len, self.dim)}


NODE_TYPES: dict[str, type[Node]] = {
    cls.__name__: cls for cls in (Conv2d, Linear, LSTM, Embedding, BatchNorm, ReLU, Add,
                                  MaxPool, AvgPool, GlobalAvgPool, Flatten, ChannelPad,
                                  LayerNorm, GELU, SelfAttention, PositionEmbedding)
}
"""Operator name → node class (the names used in weights-file headers)."""

WEIGHT_TYPES = (Conv2d, Linear, LSTM)
"""Node types that lower to on-chip weight matrices."""

DIGITAL_TYPES = (SelfAttention, LayerNorm, GELU, PositionEmbedding)
"""A Transformer's digital operators between its weight layers (the lowered layers name them:
:attr:`~chipsim.workload.lowered.LoweredLayer.digital`)."""


def interleave_gates(blocked: np.ndarray, order: str) -> np.ndarray:
    """Reorder LSTM gate rows from ``order``-blocked to the chip's interleaved order.

    Parameters
    ----------
    blocked
        Array of shape ``(4H, ...)`` made of four blocks of ``H`` rows, one per gate, in the
        order given by ``order``.
    order
        The gates of the four blocks as letters of :data:`LSTM_GATES`; PyTorch's
        ``(i, f, g, o)`` is ``"IFAO"``.

    Returns
    -------
    numpy.ndarray
        Same shape; row ``4*h + k`` is gate ``LSTM_GATES[k]`` of unit ``h``.

    Examples
    --------
    >>> w = np.repeat(np.arange(4), 2)  # H = 2: blocks i, i, f, f, g, g, o, o
    >>> interleave_gates(w, "IFAO").tolist()  # chip order I, A, F, O per unit
    [0, 2, 1, 3, 0, 2, 1, 3]
    """
    if sorted(order) != sorted(LSTM_GATES):
        raise WorkloadError(f"gate order must be a permutation of {LSTM_GATES!r}, got {order!r}")
    if blocked.shape[0] % 4:
        raise WorkloadError(f"gate rows must be a multiple of 4, got {blocked.shape[0]}")
    hidden = blocked.shape[0] // 4
    blocks = blocked.reshape(4, hidden, *blocked.shape[1:])
    chip = blocks[[order.index(g) for g in LSTM_GATES]]
    return np.ascontiguousarray(np.moveaxis(chip, 0, 1)).reshape(blocked.shape)


def node_to_dict(node: Node) -> dict[str, Any]:
    """A JSON-ready description of ``node`` (``op`` plus its fields).

    Examples
    --------
    >>> node_to_dict(ReLU("relu0", ("bn0",)))
    {'op': 'ReLU', 'name': 'relu0', 'inputs': ['bn0']}
    """
    out: dict[str, Any] = {"op": node.kind}
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        out[field.name] = list(value) if isinstance(value, tuple) else value
    return out


def node_from_dict(data: dict[str, Any]) -> Node:
    """The node described by ``data`` (inverse of :func:`node_to_dict`).

    Examples
    --------
    >>> node_from_dict({"op": "ReLU", "name": "relu0", "inputs": ["bn0"]})
    ReLU(name='relu0', inputs=('bn0',))
    """
    if not isinstance(data, dict) or data.get("op") not in NODE_TYPES:
        op = data.get("op") if isinstance(data, dict) else data
        raise WorkloadError(f"unknown operator {op!r}; known: {', '.join(NODE_TYPES)}")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "op"}
    try:
        return NODE_TYPES[data["op"]](**fields)
    except TypeError as exc:
        raise WorkloadError(f"layer {data.get('name')!r} ({data['op']}): {exc}") from None
