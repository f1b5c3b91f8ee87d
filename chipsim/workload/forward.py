"""Float32 NumPy reference forward of a :class:`~chipsim.workload.graph.Workload`.

Every weight layer runs as its lowered matrix: ``y = (x @ W) * scale + bias`` with ``W`` =
:meth:`Workload.matrix` and ``(scale, bias)`` = :meth:`Workload.affine`, convolutions through
:func:`im2col`. This is the oracle the chip executor is compared against, so it is written
for clarity; everything is vectorised over the batch and the pixels.

Activations keep the PyTorch layout ``(N, C, H, W)`` (``(N, T, F)`` for sequences). A weight
layer's activation is its output after the affine, so it already includes a folded BatchNorm;
the BatchNorm node then passes it on unchanged.

A Transformer's digital operators (:func:`layer_norm`, :func:`gelu`, :func:`self_attention`,
and the position table's sum) take a ``rounding`` applied to the result of every operation:
none here, FP16 in the chip executor, which runs them through these same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import erf

from .errors import WorkloadError
from .graph import Workload
from .nodes import (
    DIGITAL_TYPES,
    GELU,
    GELU_APPROXIMATIONS,
    INPUT,
    LSTM,
    LSTM_GATES,
    Add,
    AvgPool,
    BatchNorm,
    ChannelPad,
    Conv2d,
    Embedding,
    Flatten,
    GlobalAvgPool,
    LayerNorm,
    Linear,
    MaxPool,
    Node,
    PositionEmbedding,
    ReLU,
    SelfAttention,
)

__all__ = ["forward", "activations", "apply_op", "im2col", "lstm_cell", "layer_norm", "gelu",
           "self_attention", "Rounding"]

Rounding = Callable[[np.ndarray], np.ndarray]
"""What a digital operator applies to the result of each of its operations (float32 arrays in,
float32 arrays out), e.g. :func:`~chipsim.kernels.fp16_round` for an FP16 unit."""


def forward(workload: Workload, x: np.ndarray) -> np.ndarray:
    """Run ``workload`` on a batch ``x`` and return the output of its last layer.

    Parameters
    ----------
    workload
        The network.
    x
        Batch of inputs, shape ``(N, *workload.input_shape)``: float images ``(N, C, H, W)``,
        or integer token ids ``(N, T)`` for a network that starts with an Embedding.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(N, *workload.output_shape)`` (``None`` = ``T``).

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.workload import build
    >>> net = build("resnet9", rng=np.random.default_rng(0))
    >>> forward(net, np.zeros((2, 3, 32, 32), np.float32)).shape
    (2, 10)
    """
    return activations(workload, x, keep=False)[workload.nodes[-1].name]


def activations(workload: Workload, x: np.ndarray,
                products: dict[str, np.ndarray] | None = None, *,
                keep: bool | Collection[str] = True) -> dict[str, np.ndarray]:
    """Like :func:`forward`, but return every node's output (and ``"input"``) by name; with
    ``products``, also fill it with each convolution's and linear layer's matrix product
    before its affine (bias, folded batch norm): ``(vectors, outputs)``, the vectors of a
    convolution image by image.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.workload import build
    >>> net = build("lstm-ptb", vocab=20, embed=8, hidden=16)
    >>> acts = activations(net, np.zeros((1, 5), np.int64))
    >>> acts["lstm"].shape, acts["fc"].shape
    ((1, 5, 16), (1, 5, 20))

    ``keep`` False (or the names of the outputs to keep) drops every other output once its
    last consumer has run (the last node's stays): a large batch then holds a few
    activations at a time, not all of them.
    """
    values = {INPUT: _check_input(workload, x)}
    last_use = {}
    if keep is not True:
        kept = set(keep or ()) | {workload.nodes[-1].name}
        last_use = {i: k for k, node in enumerate(workload.nodes) for i in node.inputs
                    if i not in kept}
    for k, node in enumerate(workload.nodes):
        args = [values[i] for i in node.inputs]
        for i in set(node.inputs):
            if last_use.get(i) == k:
                del values[i]
        if products is not None and isinstance(node, Conv2d | Linear):
            raw: list[np.ndarray] = []
            values[node.name] = (_conv(workload, node, *args, raw=raw)
                                 if isinstance(node, Conv2d)
                                 else _affine_matmul(workload, node.name, *args, raw=raw))
            products[node.name] = raw[0] if len(raw) == 1 else np.concatenate(raw)
        else:
            values[node.name] = _OPS[type(node)](workload, node, *args)
    return values


def apply_op(workload: Workload, node: Node, *args: np.ndarray,
             rounding: Rounding | None = None) -> np.ndarray:
    """The float output of one ``node`` of ``workload`` for its input arrays ``args``; a
    digital operator of a Transformer (:data:`~chipsim.workload.nodes.DIGITAL_TYPES`) with
    each operation's result passed through ``rounding``, if given."""
    if rounding is not None and isinstance(node, DIGITAL_TYPES):
        return _OPS[type(node)](workload, node, *args, rounding=rounding)
    return _OPS[type(node)](workload, node, *args)


def im2col(x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int] = (1, 1),
           padding: tuple[int, int] = (0, 0), *, pixel_major: bool = False,
           channels_last: bool = False) -> np.ndarray:
    """The input vectors of a convolution: one row of ``kh*kw*C`` values per output pixel.

    Parameters
    ----------
    x
        Images ``(N, C, H, W)``.
    kernel_size, stride, padding
        ``(kh, kw)``, ``(sh, sw)``, ``(ph, pw)``; zero padding.
    pixel_major
        Return ``(Ho*Wo, N, kh*kw*C)``: the vectors of one output pixel of every image
        together (those a replica computing a band of pixels takes).
    channels_last
        ``x`` is ``(H, W, N, C)`` (then the result is pixel-major): the layout of the chip
        executor's convolution outputs, whose windows copy runs of ``C`` values.

    Returns
    -------
    numpy.ndarray
        ``(N, Ho*Wo, kh*kw*C)``, output pixels in row-major ``(ho, wo)`` order; entry
        ``(i*kw + j)*C + c`` of a vector is channel ``c`` at kernel position ``(i, j)`` — the
        row order of :meth:`Workload.matrix` for convolutions.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(2 * 3 * 3, dtype=np.float32).reshape(1, 2, 3, 3)
    >>> cols = im2col(x, (2, 2))
    >>> cols.shape
    (1, 4, 8)
    >>> cols[0, 0].tolist()  # pixel (0, 0): (i, j) = (0,0), (0,1), (1,0), (1,1); c = 0, 1
    [0.0, 9.0, 1.0, 10.0, 3.0, 12.0, 4.0, 13.0]
    >>> bool((im2col(x, (2, 2), pixel_major=True) == cols.transpose(1, 0, 2)).all())
    True
    >>> hwnc = x.transpose(2, 3, 0, 1)
    >>> bool((im2col(hwnc, (2, 2), channels_last=True) == cols.transpose(1, 0, 2)).all())
    True
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    if channels_last:
        n, c = x.shape[2:]
        if ph or pw:
            x = np.pad(x, ((ph, ph), (pw, pw), (0, 0), (0, 0)))
        win = sliding_window_view(x, (kh, kw), axis=(0, 1))[::sh, ::sw]  # Ho,Wo,N,C,kh,kw
        ho, wo = win.shape[:2]
        return win.transpose(0, 1, 2, 4, 5, 3).reshape(ho * wo, n, kh * kw * c)
    n, c = x.shape[:2]
    if pixel_major:
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # N,C,Ho,Wo,kh,kw
        ho, wo = win.shape[2:4]
        return win.transpose(2, 3, 0, 4, 5, 1).reshape(ho * wo, n, kh * kw * c)
    # (N, H, W, C) first, in the padding copy (one pass over the input): the windows then
    # copy runs of C values instead of single values 4·H·W bytes apart (ResNet-9's float
    # convolutions: 30 % faster)
    x = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]  # N,Ho,Wo,C,kh,kw
    ho, wo = win.shape[1:3]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n, ho * wo, kh * kw * c)


def lstm_cell(gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM cell update from the interleaved gate pre-activations.

    Parameters
    ----------
    gates
        ``(N, 4H)``, column ``4*h + k`` = gate ``LSTM_GATES[k]`` ("IAFO") of unit ``h``.
    c
        Previous cell state ``(N, H)``.

    Returns
    -------
    (h, c)
        New hidden and cell states, ``(N, H)`` each: ``c = σ(F)·c + σ(I)·tanh(A)``,
        ``h = σ(O)·tanh(c)``.

    Examples
    --------
    >>> import numpy as np
    >>> h, c = lstm_cell(np.zeros((1, 4), np.float32), np.ones((1, 1), np.float32))
    >>> float(c[0, 0]), round(float(h[0, 0]), 4)  # c = 0.5·1 + 0.5·0; h = 0.5·tanh(0.5)
    (0.5, 0.2311)
    """
    g = gates.reshape(*gates.shape[:-1], -1, 4)
    i, a, f, o = (g[..., LSTM_GATES.index(k)] for k in "IAFO")
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(a)
    return _sigmoid(o) * np.tanh(c), c


def _exact(x: np.ndarray) -> np.ndarray:
    return x


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float,
               rounding: Rounding = _exact) -> np.ndarray:
    """Layer normalization over the last axis, as PyTorch's ``nn.LayerNorm``.

    ``y = (x − mean) · (var + eps)^(−1/2) · weight + bias``, with the mean and the biased
    variance of each vector. With a ``rounding``, the input, the mean, the centred values,
    the inverse deviation, the scaled values and the result are each rounded; the sums over
    the features are float32 (an FP16 unit's wider accumulator).

    Examples
    --------
    >>> import numpy as np
    >>> y = layer_norm(np.array([[1.0, 3.0]], np.float32), np.ones(2), np.zeros(2), 0.0)
    >>> y.tolist()
    [[-1.0, 1.0]]
    """
    r = rounding
    x = r(np.asarray(x, np.float32))
    if np.shape(weight) != x.shape[-1:] or np.shape(bias) != x.shape[-1:]:
        raise ValueError(f"layer_norm: weight and bias must have shape {x.shape[-1:]}, got "
                         f"{np.shape(weight)} and {np.shape(bias)}")
    mean = r(x.mean(axis=-1, keepdims=True, dtype=np.float32))
    centred = r(x - mean)
    var = np.mean(centred * centred, axis=-1, keepdims=True, dtype=np.float32)
    inv = r((1.0 / np.sqrt(var + np.float32(eps))).astype(np.float32))
    return r(r(r(centred * inv) * r(weight.astype(np.float32))) + r(bias.astype(np.float32)))


def gelu(x: np.ndarray, approximate: str = "none", rounding: Rounding = _exact) -> np.ndarray:
    """``x · Φ(x)`` (``approximate="tanh"``: PyTorch's tanh form), element-wise; with a
    ``rounding``, of the rounded input and once on the result (a lookup table's value).

    Examples
    --------
    >>> import numpy as np
    >>> [round(float(v), 4) for v in gelu(np.array([-1.0, 0.0, 1.0], np.float32))]
    [-0.1587, 0.0, 0.8413]
    """
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {', '.join(GELU_APPROXIMATIONS)}, "
                         f"got {approximate!r}")
    x = rounding(np.asarray(x, np.float32))
    if approximate == "tanh":
        inner = np.float32(np.sqrt(2 / np.pi)) * (x + np.float32(0.044715) * x * x * x)
        y = np.float32(0.5) * x * (np.float32(1) + np.tanh(inner))
    else:
        y = np.float32(0.5) * x * (np.float32(1) + erf(x * np.float32(np.sqrt(0.5))))
    return rounding(y.astype(np.float32))


def self_attention(qkv: np.ndarray, heads: int, causal: bool = False,
                   rounding: Rounding = _exact) -> np.ndarray:
    """Multi-head scaled dot-product self-attention of :class:`SelfAttention`.

    Parameters
    ----------
    qkv
        ``(N, T, 3·d)``: each token's query, key and value (PyTorch's ``in_proj`` order).
    heads
        Heads; ``d / heads`` features each.
    causal
        Token ``t`` attends to tokens ``0..t`` only.
    rounding
        Applied to the queries (already divided by ``√dh``), keys and values, to the scores
        ``q·kᵀ``, their exponentials (after subtracting each row's maximum), the sums of
        these, the attention weights and the outputs; the sums inside the products are
        float32 (an FP16 unit's wider accumulator).

    Returns
    -------
    numpy.ndarray
        ``(N, T, d)``, the heads side by side.

    Examples
    --------
    >>> import numpy as np
    >>> qkv = np.zeros((1, 2, 6), np.float32)
    >>> qkv[0, :, 4:] = [[1, 2], [3, 4]]  # values; equal scores: the mean of the values
    >>> self_attention(qkv, heads=1).tolist()
    [[[2.0, 3.0], [2.0, 3.0]]]
    >>> self_attention(qkv, heads=1, causal=True)[0, 0].tolist()  # token 0 sees itself only
    [1.0, 2.0]
    """
    r = rounding
    if np.ndim(qkv) != 3 or qkv.shape[-1] % (3 * heads):
        raise ValueError(f"self_attention: qkv must be (N, T, 3·d) with d a multiple of heads "
                         f"{heads}, got shape {np.shape(qkv)}")
    n, t, width = qkv.shape
    d = width // 3
    dh = d // heads

    def split(a: np.ndarray) -> np.ndarray:  # (N, T, d) -> (N, heads, T, dh)
        return a.reshape(n, t, heads, dh).transpose(0, 2, 1, 3)

    q = split(r(qkv[..., :d] * np.float32(1 / np.sqrt(dh))))
    k, v = split(r(qkv[..., d:2 * d])), split(r(qkv[..., 2 * d:]))
    scores = r(q @ k.transpose(0, 1, 3, 2))
    if causal:
        scores = np.where(np.tri(t, dtype=bool), scores, np.float32(-np.inf))
    e = r(np.exp(scores - scores.max(axis=-1, keepdims=True)))
    weights = r(e / r(e.sum(axis=-1, keepdims=True)))
    return r(weights @ v).transpose(0, 2, 1, 3).reshape(n, t, d)


def _position_embedding(workload: Workload, node: PositionEmbedding, x: np.ndarray,
                        rounding: Rounding = _exact) -> np.ndarray:
    t = x.shape[1]
    if t > node.max_len:
        raise node.error(f"the sequence has {t} tokens, the position table {node.max_len}")
    table = workload.weights[node.name]["weight"][:t]
    return rounding(rounding(x) + rounding(table))


def _layer_norm(workload: Workload, node: LayerNorm, x: np.ndarray,
                rounding: Rounding = _exact) -> np.ndarray:
    w = workload.weights[node.name]
    return layer_norm(x, w["weight"], w["bias"], node.eps, rounding)


# ---------------------------------------------------------------------- private helpers
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(x.dtype, copy=False)


def _check_input(workload: Workload, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    want = workload.input_shape
    if x.ndim != len(want) + 1 or any(d is not None and d != s
                                      for d, s in zip(want, x.shape[1:], strict=True)):
        shown = tuple("T" if d is None else d for d in want)
        raise WorkloadError(f"{workload.name}: input must have shape (N, "
                            f"{', '.join(map(str, shown))}), got {x.shape}")
    if isinstance(workload.node(workload.consumers(INPUT)[0]), Embedding):
        if not np.issubdtype(x.dtype, np.integer):
            raise WorkloadError(f"{workload.name}: input must be integer token ids, got "
                                f"{x.dtype}")
        return x
    return x.astype(np.float32, copy=False)


def _affine_matmul(workload: Workload, name: str, x: np.ndarray,
                   raw: list[np.ndarray] | None = None) -> np.ndarray:
    scale, bias = workload.affine(name)
    mat = workload.matrix(name)
    y = x.reshape(-1, mat.shape[0]) @ mat  # one GEMM over all vectors of the batch
    if raw is not None:
        raw.append(y.copy())
    y *= scale
    y += bias
    return y.reshape(*x.shape[:-1], mat.shape[1])


#: largest im2col buffer of a float convolution (bytes): larger batches are convolved a few
#: images at a time, so the buffer is reused from cache instead of a new mapping faulted in
#: page by page (a 100-image 64-channel 32 × 32 layer: 0.11 s instead of 0.15 s)
CONV_BUFFER_BYTES = 16 << 20


def _conv(workload: Workload, node: Conv2d, x: np.ndarray,
          raw: list[np.ndarray] | None = None) -> np.ndarray:
    cout, ho, wo = workload.shape(node.name)
    kh, kw = node.kernel_size
    per_image = ho * wo * kh * kw * x.shape[1] * 4
    step = max(1, CONV_BUFFER_BYTES // per_image)
    out = np.empty((len(x), cout, ho, wo), dtype=np.result_type(x.dtype, np.float32))
    for a in range(0, len(x), step):  # each output row depends on its own vector alone
        cols = im2col(x[a:a + step], node.kernel_size, node.stride, node.padding)
        y = _affine_matmul(workload, node.name, cols, raw)  # n, Ho*Wo, Cout
        out[a:a + step] = y.reshape(-1, ho, wo, cout).transpose(0, 3, 1, 2)
    return out


def _lstm(workload: Workload, node: LSTM, x: np.ndarray) -> np.ndarray:
    n, steps, _ = x.shape
    hidden = node.hidden_size
    xin = _affine_matmul(workload, f"{node.name}.input", x)  # N, T, 4H, bias included
    w_hh = workload.matrix(f"{node.name}.hidden")
    h = np.zeros((n, hidden), np.float32)
    c = np.zeros((n, hidden), np.float32)
    out = np.empty((n, steps, hidden), np.float32)
    for t in range(steps):
        h, c = lstm_cell(xin[:, t] + h @ w_hh, c)
        out[:, t] = h
    return out


def _embedding(workload: Workload, node: Embedding, ids: np.ndarray) -> np.ndarray:
    if ids.size and (ids.min() < 0 or ids.max() >= node.num_embeddings):
        raise node.error(f"token ids must be in [0, {node.num_embeddings}), got "
                         f"[{ids.min()}, {ids.max()}]")
    return workload.weights[node.name]["weight"][ids]


def pools_in_tiles(node: MaxPool | AvgPool, padding: tuple[int, int], h: int, w: int) -> bool:
    """``node`` pools an ``h × w`` grid in whole tiles: no padding, stride = kernel."""
    (kh, kw), (ph, pw) = node.kernel_size, padding
    return tuple(node.stride) == (kh, kw) and not (ph or pw or h % kh or w % kw)


def tile_max(x: np.ndarray, kernel_size: tuple[int, int],
             axes: tuple[int, int] = (2, 3)) -> np.ndarray:
    """Max pooling in whole tiles over the spatial ``axes`` of ``x``: the element-wise maxima
    of the strided taps (exact, and much faster than windows)."""
    (kh, kw), (ah, aw) = kernel_size, axes
    taps = []
    for i in range(kh):
        for j in range(kw):
            tap = [slice(None)] * x.ndim
            tap[ah], tap[aw] = slice(i, None, kh), slice(j, None, kw)
            taps.append(x[tuple(tap)])
    return np.maximum.reduce(taps)


def _pool(x: np.ndarray, node: MaxPool | AvgPool, reduce: Callable, pad_value: float,
          padding: tuple[int, int]) -> np.ndarray:
    (ph, pw), (sh, sw), (kh, kw) = padding, node.stride, node.kernel_size
    n, c, h, w = x.shape
    if pools_in_tiles(node, padding, h, w):  # tiles: no window copy
        if reduce is np.max:
            return tile_max(x, node.kernel_size)
        return reduce(x.reshape(n, c, h // kh, kh, w // kw, kw), axis=(3, 5))
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    win = sliding_window_view(x, node.kernel_size, axis=(2, 3))[:, :, ::sh, ::sw]
    return reduce(win, axis=(-2, -1))


def _channel_pad(workload: Workload, node: ChannelPad, x: np.ndarray) -> np.ndarray:
    s, before = node.stride, node.pad_before
    after = node.out_channels - node.in_channels - before
    return np.pad(x[:, :, ::s, ::s], ((0, 0), (before, after), (0, 0), (0, 0)))


_OPS: dict[type[Node], Callable[..., np.ndarray]] = {
    Conv2d: _conv,
    Linear: lambda wl, node, x: _affine_matmul(wl, node.name, x),
    LSTM: _lstm,
    Embedding: _embedding,
    BatchNorm: lambda wl, node, x: x,  # folded into the preceding layer's affine
    ReLU: lambda wl, node, x: np.maximum(x, np.float32(0)),
    Add: lambda wl, node, *xs: sum(xs[1:], start=xs[0]),
    MaxPool: lambda wl, node, x: _pool(x, node, np.max, -np.inf, node.padding),
    AvgPool: lambda wl, node, x: _pool(x, node, np.mean, 0.0, (0, 0)),
    GlobalAvgPool: lambda wl, node, x: x.mean(axis=(2, 3), keepdims=True),
    Flatten: lambda wl, node, x: x.reshape(len(x), -1),
    ChannelPad: _channel_pad,
    LayerNorm: _layer_norm,
    GELU: lambda wl, node, x, rounding=_exact: gelu(x, node.approximate, rounding),
    SelfAttention: lambda wl, node, x, rounding=_exact: self_attention(x, node.heads,
                                                                        node.causal, rounding),
    PositionEmbedding: _position_embedding,
}
