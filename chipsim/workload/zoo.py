"""Model zoo: the chip paper's networks (and ResNet-32) as :class:`Workload` builders, and
networks larger than one 64-core chip of 4.19 M weights, for systems of chips: ImageNet
ResNet-18 and -50, a BERT-base-sized encoder and an RNN-T-sized LSTM stack.

Every builder takes size parameters and a ``numpy.random.Generator`` and returns a workload
with He-initialized weights (:func:`init_weights`; the Transformers as GPT-2 and BERT
initialize theirs); trained weights are loaded with :func:`chipsim.workload.load_weights`.

Examples
--------
>>> import numpy as np
>>> net = build("resnet9", rng=np.random.default_rng(1))
>>> net.num_weights, len(net.lowered())
(1866536, 9)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import WorkloadError
from .graph import Workload
from .nodes import (
    GELU,
    INPUT,
    LSTM,
    Add,
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

__all__ = ["ZOO", "build", "init_weights", "resnet9", "resnet32", "lstm_ptb",
           "char_transformer", "resnet18", "resnet50", "bert_base", "speech_lstm"]


def init_weights(nodes: tuple[Node, ...] | list[Node],
                 rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Fresh float32 weights for ``nodes``.

    Matrices (Conv2d, Linear, both LSTM matrices) are He-normal, ``N(0, 2 / fan_in)`` with
    ``fan_in`` the number of matrix rows; biases are 0; BatchNorm and LayerNorm are the
    identity (γ = 1, β = 0, mean 0, variance 1); embeddings and position tables are
    ``N(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> w = init_weights([Linear("fc", "input", 4, 2)], np.random.default_rng(0))
    >>> w["fc"]["weight"].shape, w["fc"]["bias"].tolist()
    ((2, 4), [0.0, 0.0])
    """
    weights: dict[str, dict[str, np.ndarray]] = {}
    for node in nodes:
        arrays: dict[str, np.ndarray] = {}
        for param, shape in node.param_shapes().items():
            if isinstance(node, BatchNorm | LayerNorm):
                value = np.ones(shape) if param in ("weight", "running_var") else np.zeros(shape)
            elif param == "bias":
                value = np.zeros(shape)
            elif isinstance(node, Embedding | PositionEmbedding):
                value = rng.standard_normal(shape)
            else:  # (out, fan_in, ...) layouts: fan_in = prod(shape[1:])
                fan_in = int(np.prod(shape[1:]))
                value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
            arrays[param] = value.astype(np.float32)
        if arrays:
            weights[node.name] = arrays
    return weights


class _Graph:
    """Append-only node list used by the builders; ``last`` is the newest node's name."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.last = INPUT

    def add(self, node: Node) -> str:
        self.nodes.append(node)
        self.last = node.name
        return node.name

    def conv_bn_relu(self, name: str, src: str, cin: int, cout: int, stride: int = 1,
                     suffix: str = "", relu: bool = True) -> str:
        """3×3 convolution (padding 1, no bias) + BatchNorm (+ ReLU)."""
        self.add(Conv2d(f"{name}conv{suffix}", src, cin, cout, 3, stride, 1, bias=False))
        out = self.add(BatchNorm(f"{name}bn{suffix}", self.last, cout))
        return self.add(ReLU(f"{name}relu{suffix}", out)) if relu else out

    def workload(self, name: str, input_shape: tuple, rng: np.random.Generator | None,
                 params: dict[str, Any]) -> Workload:
        rng = np.random.default_rng(0) if rng is None else rng
        return Workload(name, input_shape, tuple(self.nodes), init_weights(self.nodes, rng),
                        architecture=name, params=params)


def resnet9(in_channels: int = 3, image_size: int = 32, num_classes: int = 10,
            rng: np.random.Generator | None = None) -> Workload:
    """The chip paper's ResNet-9 for CIFAR-10 ([LG]; hermes.md §4).

    Eight 3×3 convolutions ``conv0``..``conv7`` (padding 1, no bias) with 56, 112, 112, 112,
    224, 224, 224, 224 filters, each followed by BatchNorm (``bn<i>``, folded) and ReLU
    (``relu<i>``); 2×2 max-pools after conv1, conv4 and conv5 (``pool1``, ``pool4``,
    ``pool5``); residuals ``add3 = relu3 + pool1`` and ``add7 = relu7 + pool5``; a 4×4
    max-pool ``pool7`` after ``add7``; ``flatten``; the dense layer ``fc`` (with bias).

    Parameters
    ----------
    in_channels, image_size, num_classes
        Input channels, input height = width (a multiple of 32), classes.
    rng
        Source of the He-initialized weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> net = resnet9()
    >>> [layer.vectors for layer in net.lowered()]
    [1024, 1024, 256, 256, 256, 64, 16, 16, 1]
    """
    if image_size % 32:
        raise WorkloadError(f"resnet9: image_size must be a multiple of 32, got {image_size}")
    g = _Graph()
    cin = in_channels
    for i, cout in enumerate((56, 112, 112, 112, 224, 224, 224, 224)):
        g.conv_bn_relu("", g.last, cin, cout, suffix=str(i))
        if i in (3, 7):
            g.add(Add(f"add{i}", (g.last, "pool1" if i == 3 else "pool5")))
        if i in (1, 4, 5, 7):
            g.add(MaxPool(f"pool{i}", g.last, 4 if i == 7 else 2))
        cin = cout
    g.add(Flatten("flatten", g.last))
    g.add(Linear("fc", g.last, 224 * (image_size // 32) ** 2, num_classes))
    return g.workload("resnet9", (in_channels, image_size, image_size), rng,
                      dict(in_channels=in_channels, image_size=image_size,
                           num_classes=num_classes))


def resnet32(in_channels: int = 3, image_size: int = 32, num_classes: int = 10,
             rng: np.random.Generator | None = None) -> Workload:
    """The CIFAR ResNet-32 of He et al. (CVPR 2016, §4.2), option-A shortcuts.

    ``conv0`` (3×3, 16) + BN + ReLU; three stages of five basic blocks with 16, 32, 64
    filters, the first block of stages 2 and 3 with stride 2. A block ``stage<s>.block<b>``
    is ``conv1``-``bn1``-``relu1``-``conv2``-``bn2``, then ``add`` (+ shortcut) and ``relu2``.
    Where the shape changes, the shortcut is the parameter-free option A
    (:class:`~chipsim.workload.nodes.ChannelPad` ``stage<s>.block0.shortcut``: stride-2
    subsampling and zero channels), otherwise the identity. Then global average pooling,
    ``flatten`` and ``fc`` (64 → classes, with bias): 461,872 matrix weights (0.46 M).

    Parameters
    ----------
    in_channels, image_size, num_classes
        Input channels, input height = width (a multiple of 4), classes.
    rng
        Source of the He-initialized weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> resnet32().num_weights
    461872
    """
    if image_size % 4:
        raise WorkloadError(f"resnet32: image_size must be a multiple of 4, got {image_size}")
    g = _Graph()
    cin = 16
    g.conv_bn_relu("", INPUT, in_channels, cin, suffix="0")
    for stage, planes in enumerate((16, 32, 64), start=1):
        for block in range(5):
            stride = 2 if stage > 1 and block == 0 else 1
            prefix, x = f"stage{stage}.block{block}.", g.last
            g.conv_bn_relu(prefix, x, cin, planes, stride, suffix="1")
            main = g.conv_bn_relu(prefix, g.last, planes, planes, suffix="2", relu=False)
            if stride != 1 or cin != planes:
                x = g.add(ChannelPad(f"{prefix}shortcut", x, cin, planes, stride))
            g.add(Add(f"{prefix}add", (main, x)))
            g.add(ReLU(f"{prefix}relu2", g.last))
            cin = planes
    g.add(GlobalAvgPool("pool", g.last))
    g.add(Flatten("flatten", g.last))
    g.add(Linear("fc", g.last, cin, num_classes))
    return g.workload("resnet32", (in_channels, image_size, image_size), rng,
                      dict(in_channels=in_channels, image_size=image_size,
                           num_classes=num_classes))


#: He et al. (CVPR 2016), Table 1: blocks per stage of the ImageNet ResNets.
_RESNET_STAGES = {"resnet18": (2, 2, 2, 2), "resnet50": (3, 4, 6, 3)}


def _imagenet_resnet(arch: str, in_channels: int, image_size: int, num_classes: int,
                     rng: np.random.Generator | None) -> Workload:
    """torchvision's ImageNet ResNet ``arch`` (basic blocks for resnet18, v1.5 bottlenecks
    otherwise) as a workload; the docstrings of :func:`resnet18` and :func:`resnet50`."""
    if image_size % 32 or image_size < 32:
        raise WorkloadError(f"{arch}: image_size must be a positive multiple of 32, got "
                            f"{image_size}")
    bottleneck = arch != "resnet18"
    expansion = 4 if bottleneck else 1
    g = _Graph()
    g.add(Conv2d("conv1", INPUT, in_channels, 64, 7, 2, 3, bias=False))
    g.add(BatchNorm("bn1", g.last, 64))
    g.add(ReLU("relu", g.last))
    g.add(MaxPool("maxpool", g.last, 3, 2, 1))
    cin = 64
    for stage, (blocks, planes) in enumerate(zip(_RESNET_STAGES[arch], (64, 128, 256, 512),
                                                 strict=True), start=1):
        for block in range(blocks):
            stride = 2 if stage > 1 and block == 0 else 1
            prefix, x = f"layer{stage}.{block}.", g.last
            cout = planes * expansion
            if stride != 1 or cin != cout:  # projection shortcut, listed before the main
                # branch so that the main branch's last convolution owns the residual add
                g.add(Conv2d(f"{prefix}downsample.conv", x, cin, cout, 1, stride, bias=False))
                shortcut = g.add(BatchNorm(f"{prefix}downsample.bn", g.last, cout))
            else:
                shortcut = x
            if bottleneck:  # 1×1 reduce, 3×3 (stride here: torchvision's v1.5), 1×1 expand
                convs = ((cin, planes, 1, 1, 0), (planes, planes, 3, stride, 1),
                         (planes, cout, 1, 1, 0))
            else:
                convs = ((cin, planes, 3, stride, 1), (planes, planes, 3, 1, 1))
            main = x
            for i, (a, b, k, s, pad) in enumerate(convs, start=1):
                g.add(Conv2d(f"{prefix}conv{i}", main, a, b, k, s, pad, bias=False))
                main = g.add(BatchNorm(f"{prefix}bn{i}", g.last, b))
                if i < len(convs):
                    main = g.add(ReLU(f"{prefix}relu{i}", main))
            g.add(Add(f"{prefix}add", (main, shortcut)))
            g.add(ReLU(f"{prefix}relu", g.last))
            cin = cout
    g.add(GlobalAvgPool("avgpool", g.last))
    g.add(Flatten("flatten", g.last))
    g.add(Linear("fc", g.last, cin, num_classes))
    return g.workload(arch, (in_channels, image_size, image_size), rng,
                      dict(in_channels=in_channels, image_size=image_size,
                           num_classes=num_classes))


def resnet18(in_channels: int = 3, image_size: int = 224, num_classes: int = 1000,
             rng: np.random.Generator | None = None) -> Workload:
    """The ImageNet ResNet-18 of He et al. (CVPR 2016, Table 1), as torchvision builds it.

    The stem ``conv1`` (7×7, 64 filters, stride 2, padding 3, no bias) + ``bn1`` + ``relu``
    and ``maxpool`` (3×3, stride 2, padding 1); four stages ``layer1``..``layer4`` of two basic
    blocks with 64, 128, 256, 512 filters, the first block of stages 2-4 with stride 2. A block
    ``layer<s>.<b>.`` is ``conv1``-``bn1``-``relu1``-``conv2``-``bn2`` (3×3, padding 1, no
    bias), then ``add`` (+ shortcut) and ``relu``. Where the shape changes the shortcut is the
    projection ``downsample.conv`` (1×1, stride 2, no bias) + ``downsample.bn``, otherwise the
    identity. Then ``avgpool`` (global), ``flatten`` and ``fc`` (512 → classes, with bias).
    BatchNorms fold into the convolutions' per-column affines.

    At the default sizes: 21 weight layers, 11,678,912 matrix weights (11.7 M, 2.8 chips of
    4.19 M): torchvision's 11,689,512 parameters minus the 9,600 BatchNorm γ and β and the
    1,000 biases of ``fc``. The stem has 112 × 112 = 12,544 input vectors per image.

    Parameters
    ----------
    in_channels, image_size, num_classes
        Input channels, input height = width (a multiple of 32), classes.
    rng
        Source of the He-initialized weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> net = resnet18()
    >>> net.num_weights, len(net.lowered()), net.lowered()[0].vectors
    (11678912, 21, 12544)
    """
    return _imagenet_resnet("resnet18", in_channels, image_size, num_classes, rng)


def resnet50(in_channels: int = 3, image_size: int = 224, num_classes: int = 1000,
             rng: np.random.Generator | None = None) -> Workload:
    """The ImageNet ResNet-50 of He et al. (CVPR 2016, Table 1), as torchvision (v1.5) builds it.

    The stem as :func:`resnet18`'s; four stages ``layer1``..``layer4`` of 3, 4, 6, 3 bottleneck
    blocks of width 64, 128, 256, 512 and expansion 4 (outputs 256, 512, 1024, 2048). A block
    ``layer<s>.<b>.`` is ``conv1`` (1×1) - ``bn1`` - ``relu1`` - ``conv2`` (3×3, padding 1,
    with the stride: torchvision's v1.5) - ``bn2`` - ``relu2`` - ``conv3`` (1×1) - ``bn3``, no
    biases, then ``add`` (+ shortcut) and ``relu``. The first block of every stage has the
    projection shortcut ``downsample.conv`` (1×1, stride 2 in stages 2-4, no bias) +
    ``downsample.bn``; the others the identity. Then ``avgpool`` (global), ``flatten`` and
    ``fc`` (2048 → classes, with bias). BatchNorms fold into the convolutions' affines.

    At the default sizes: 54 weight layers, 25,502,912 matrix weights (25.5 M, 6.1 chips of
    4.19 M): torchvision's 25,557,032 parameters minus the 53,120 BatchNorm γ and β and the
    1,000 biases of ``fc``.

    Parameters
    ----------
    in_channels, image_size, num_classes
        Input channels, input height = width (a multiple of 32), classes.
    rng
        Source of the He-initialized weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> net = resnet50()
    >>> net.num_weights, len(net.lowered())
    (25502912, 54)
    >>> [(ly.name, ly.rows, ly.cols, ly.vectors) for ly in net.lowered()[-2:]]
    [('layer4.2.conv3', 512, 2048, 49), ('fc', 2048, 1000, 1)]
    """
    return _imagenet_resnet("resnet50", in_channels, image_size, num_classes, rng)


def lstm_ptb(vocab: int = 50, embed: int = 128, hidden: int = 504,
             rng: np.random.Generator | None = None) -> Workload:
    """The chip paper's character LSTM for Penn Treebank ([LG]; hermes.md §4).

    ``embed`` (Embedding, off-chip) → ``lstm`` (one layer, gate width ``4*hidden``, columns
    interleaved I, A, F, O per hidden unit) → ``fc`` (hidden × vocab, with bias) at every time
    step. Input: token ids ``(N, T)``, any ``T``; output: logits ``(N, T, vocab)``.

    Parameters
    ----------
    vocab, embed, hidden
        Vocabulary size, embedding width, hidden units.
    rng
        Source of the weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> [(layer.name, layer.rows, layer.cols) for layer in lstm_ptb().lowered()]
    [('lstm.input', 128, 2016), ('lstm.hidden', 504, 2016), ('fc', 504, 50)]
    """
    g = _Graph()
    g.add(Embedding("embed", INPUT, vocab, embed))
    g.add(LSTM("lstm", g.last, embed, hidden))
    g.add(Linear("fc", g.last, hidden, vocab))
    return g.workload("lstm-ptb", (None,), rng, dict(vocab=vocab, embed=embed, hidden=hidden))


def char_transformer(vocab: int = 50, seq_len: int = 128, d_model: int = 128, heads: int = 4,
                     layers: int = 2, ff: int = 512,
                     rng: np.random.Generator | None = None) -> Workload:
    """A small decoder-only (causal) character Transformer, pre-norm (GPT-2 style).

    ``embed`` (Embedding, off-chip) → ``pos`` (learned position table, ``seq_len`` rows) →
    ``layers`` blocks ``layer<i>`` → ``norm`` (final LayerNorm) → ``fc`` (``d_model`` ×
    ``vocab``, with bias) at every token. A block ``layer<i>.`` is
    ``x + out_proj(attn(in_proj(norm1(x))))`` (``add1``; ``attn`` causal
    :class:`~chipsim.workload.nodes.SelfAttention` with ``heads`` heads), then
    ``x + linear2(act(linear1(norm2(x))))`` (``add2``; ``act`` exact GELU, ``linear1``
    ``d_model → ff``). The Linear layers (``in_proj`` ``d → 3d``, ``out_proj``, ``linear1``,
    ``linear2``, ``fc``, all with bias) are the analog weight layers; attention, LayerNorm,
    GELU and the position sum are digital. Input: token ids ``(N, seq_len)``, a fixed length
    (every token attends to the sequence); output: logits ``(N, seq_len, vocab)``, token ``t``'s
    from tokens ``0..t`` only. Initial weights as GPT-2's: the Linear layers, the embedding and
    the position table ``N(0, 0.02²)``, ``out_proj`` and ``linear2`` (the residual branches'
    last layers) ``N(0, (0.02 / √(2·layers))²)``; biases 0, LayerNorms the identity.

    Parameters
    ----------
    vocab, seq_len, d_model, heads, layers, ff
        Vocabulary size, sequence length, model width, attention heads, blocks, feed-forward
        width.
    rng
        Source of the weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> net = char_transformer()
    >>> [(layer.name, layer.rows, layer.cols) for layer in net.lowered()][:4]
    [('layer0.in_proj', 128, 384), ('layer0.out_proj', 128, 128), ('layer0.linear1', 128, \
512), ('layer0.linear2', 512, 128)]
    >>> net.output_shape
    (128, 50)
    """
    if seq_len < 1 or layers < 1:
        raise WorkloadError(f"char-transformer: seq_len and layers must be positive, got "
                            f"{seq_len} and {layers}")
    g = _Graph()
    g.add(Embedding("embed", INPUT, vocab, d_model))
    x = g.add(PositionEmbedding("pos", g.last, seq_len, d_model))
    for i in range(layers):
        q = f"layer{i}."
        g.add(LayerNorm(f"{q}norm1", x, d_model))
        g.add(Linear(f"{q}in_proj", g.last, d_model, 3 * d_model))
        g.add(SelfAttention(f"{q}attn", g.last, d_model, heads, causal=True))
        g.add(Linear(f"{q}out_proj", g.last, d_model, d_model))
        x = g.add(Add(f"{q}add1", (x, g.last)))
        g.add(LayerNorm(f"{q}norm2", x, d_model))
        g.add(Linear(f"{q}linear1", g.last, d_model, ff))
        g.add(GELU(f"{q}act", g.last))
        g.add(Linear(f"{q}linear2", g.last, ff, d_model))
        x = g.add(Add(f"{q}add2", (x, g.last)))
    g.add(LayerNorm("norm", x, d_model))
    g.add(Linear("fc", g.last, d_model, vocab))
    rng = np.random.default_rng(0) if rng is None else rng
    weights = init_weights(g.nodes, rng)
    for node in g.nodes:  # GPT-2's initialization (trains much faster than He's here)
        if isinstance(node, Linear | Embedding | PositionEmbedding):
            std = 0.02 / np.sqrt(2 * layers) if node.name.endswith(("out_proj", "linear2")) \
                else 0.02
            shape = weights[node.name]["weight"].shape
            weights[node.name]["weight"] = (rng.standard_normal(shape) * std).astype(np.float32)
    return Workload("char-transformer", (seq_len,), tuple(g.nodes), weights,
                    architecture="char-transformer",
                    params=dict(vocab=vocab, seq_len=seq_len, d_model=d_model, heads=heads,
                                layers=layers, ff=ff))


def bert_base(vocab: int = 30522, seq_len: int = 128, d_model: int = 768, heads: int = 12,
              layers: int = 12, ff: int = 3072, num_classes: int = 2,
              rng: np.random.Generator | None = None) -> Workload:
    """A BERT-base-sized encoder (Devlin et al., NAACL 2019: L = 12, H = 768, A = 12, FFN
    3072, 512 positions), post-norm, with a token classification head.

    ``embed`` (Embedding, off-chip) → ``pos`` (learned position table of BERT's 512 rows) →
    ``embed_norm`` (LayerNorm) → ``layers`` blocks ``layer<i>`` → ``fc`` (``d_model`` ×
    ``num_classes``, with bias) at every token. A block ``layer<i>.`` is post-norm, as BERT's:
    ``norm1(x + out_proj(attn(in_proj(x))))`` (``add1``; ``attn`` a non-causal
    :class:`~chipsim.workload.nodes.SelfAttention` with ``heads`` heads), then
    ``norm2(x + linear2(act(linear1(x))))`` (``add2``; ``act`` exact GELU, ``linear1``
    ``d_model → ff``). The Linear layers (all with bias) are the analog weight layers.

    What differs from BERT: no token-type (segment) embeddings, and no pooler: the IR has no
    operator that picks the first ([CLS]) token, so ``fc`` classifies every token (a
    token-classification head; its weights are those of BERT's [CLS] classifier). At the
    default sizes the encoder holds 12 × (4·768² + 2·768·3072) = 84,934,656 matrix weights
    and ``fc`` 1,536: 84,936,192 in all (20.3 chips of 4.19 M); BERT-base's 110 M parameters
    also count its 23.8 M embedding and position weights (off-chip or digital here), its
    pooler (0.6 M), biases and LayerNorms. Input: token ids ``(N, seq_len)``; output: logits
    ``(N, seq_len, num_classes)``. Initial weights as BERT's: the Linear layers, the embedding
    and the position table ``N(0, 0.02²)`` (float32), biases 0, LayerNorms the identity.

    Parameters
    ----------
    vocab, seq_len, d_model, heads, layers, ff, num_classes
        Vocabulary size, sequence length (at most 512, BERT's positions), model width,
        attention heads, blocks, feed-forward width, classes.
    rng
        Source of the weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> net = bert_base(vocab=100, seq_len=16, d_model=64, heads=4, layers=2, ff=256)
    >>> [(ly.name, ly.rows, ly.cols, ly.vectors) for ly in net.lowered()][:4]
    [('layer0.in_proj', 64, 192, 16), ('layer0.out_proj', 64, 64, 16), ('layer0.linear1', 64, \
256, 16), ('layer0.linear2', 256, 64, 16)]
    >>> net.num_weights, net.output_shape
    (98432, (16, 2))
    """
    if not 1 <= seq_len <= 512 or layers < 1:
        raise WorkloadError(f"bert-base: seq_len must be 1..512 and layers positive, got "
                            f"{seq_len} and {layers}")
    g = _Graph()
    g.add(Embedding("embed", INPUT, vocab, d_model))
    g.add(PositionEmbedding("pos", g.last, 512, d_model))
    x = g.add(LayerNorm("embed_norm", g.last, d_model))
    for i in range(layers):
        q = f"layer{i}."
        g.add(Linear(f"{q}in_proj", x, d_model, 3 * d_model))
        g.add(SelfAttention(f"{q}attn", g.last, d_model, heads))
        g.add(Linear(f"{q}out_proj", g.last, d_model, d_model))
        g.add(Add(f"{q}add1", (x, g.last)))
        x = g.add(LayerNorm(f"{q}norm1", g.last, d_model))
        g.add(Linear(f"{q}linear1", x, d_model, ff))
        g.add(GELU(f"{q}act", g.last))
        g.add(Linear(f"{q}linear2", g.last, ff, d_model))
        g.add(Add(f"{q}add2", (x, g.last)))
        x = g.add(LayerNorm(f"{q}norm2", g.last, d_model))
    g.add(Linear("fc", x, d_model, num_classes))
    rng = np.random.default_rng(0) if rng is None else rng
    normal = [n for n in g.nodes if isinstance(n, Linear | Embedding | PositionEmbedding)]
    weights = init_weights([n for n in g.nodes if n not in normal], rng)
    for node in normal:  # BERT's N(0, 0.02²), drawn in float32 (85 M weights)
        shapes = node.param_shapes()
        weight = rng.standard_normal(shapes.pop("weight"), np.float32)
        weight *= np.float32(0.02)
        weights[node.name] = {"weight": weight,
                              **{p: np.zeros(shape, np.float32) for p, shape in shapes.items()}}
    return Workload("bert-base", (seq_len,), tuple(g.nodes), weights, architecture="bert-base",
                    params=dict(vocab=vocab, seq_len=seq_len, d_model=d_model, heads=heads,
                                layers=layers, ff=ff, num_classes=num_classes))


def speech_lstm(features: int = 240, hidden: int = 1024, layers: int = 5, joint: int = 512,
                num_classes: int = 29, rng: np.random.Generator | None = None) -> Workload:
    """An LSTM stack of the size of the MLPerf RNN-T speech model that Ambrogio et al. ran on
    IBM's 14-nm analog chips (Nature 620, 768-775, 2023: 45.3 M weights): its encoder and the
    encoder's path through the joint network.

    ``lstm0`` (``features`` → ``hidden``; 240 = 80 log-mel features × 3 stacked frames) →
    ``lstm1`` .. ``lstm<layers-1>`` (``hidden`` → ``hidden``) → ``joint`` (Linear ``hidden``
    → ``joint``, with bias) → ``joint_relu`` → ``fc`` (``joint`` → ``num_classes``, with bias)
    at every time step. Input: feature frames ``(N, T, features)``, any ``T``; output: logits
    ``(N, T, num_classes)``. As in every network with an LSTM, one inference of the lowered
    layers is one time step.

    What differs from RNN-T (encoder: 2 LSTM layers 240 → 1024, time reduction ×2, 3 LSTM
    layers 2048 → 1024, 1024 → 1024, 1024 → 1024; prediction network: label embedding → 320, 2
    LSTM layers of 320; joint network: ``relu(W_f f + W_g g)`` with ``W_f`` 1024 → 512, ``W_g``
    320 → 512, then 512 → 29): the IR has neither the time reduction (stacking two time steps
    into one 2048-wide vector) nor a second input (the prediction network reads the emitted
    labels), so there is no time reduction (``lstm2`` reads 1024 values, not 2048: 4.19 M
    weights fewer), no prediction network (1.64 M) and no ``W_g`` (0.16 M). At the default
    sizes: 10 + 2 weight layers, 39,270,912 matrix weights (9.4 chips of 4.19 M): LSTM input
    matrices 240 × 4096 and 4 × 1024 × 4096, hidden matrices 5 × 1024 × 4096, ``joint``
    1024 × 512, ``fc`` 512 × 29; RNN-T's matrices hold 45,267,456 (87 % of them here).

    Parameters
    ----------
    features, hidden, layers, joint, num_classes
        Input features per time step, hidden units per LSTM layer, LSTM layers, joint-network
        width, output classes (28 characters and the blank).
    rng
        Source of the He-initialized weights (default ``numpy.random.default_rng(0)``).

    Examples
    --------
    >>> net = speech_lstm(features=24, hidden=32, layers=2, joint=16)
    >>> [(ly.name, ly.rows, ly.cols) for ly in net.lowered()]
    [('lstm0.input', 24, 128), ('lstm0.hidden', 32, 128), ('lstm1.input', 32, 128), \
('lstm1.hidden', 32, 128), ('joint', 32, 16), ('fc', 16, 29)]
    """
    if layers < 1:
        raise WorkloadError(f"speech-lstm: layers must be positive, got {layers}")
    g = _Graph()
    cin = features
    for i in range(layers):
        g.add(LSTM(f"lstm{i}", g.last, cin, hidden))
        cin = hidden
    g.add(Linear("joint", g.last, hidden, joint))
    g.add(ReLU("joint_relu", g.last))
    g.add(Linear("fc", g.last, joint, num_classes))
    return g.workload("speech-lstm", (None, features), rng,
                      dict(features=features, hidden=hidden, layers=layers, joint=joint,
                           num_classes=num_classes))


ZOO: dict[str, Callable[..., Workload]] = {
    "resnet9": resnet9,
    "lstm-ptb": lstm_ptb,
    "resnet32": resnet32,
    "char-transformer": char_transformer,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "bert-base": bert_base,
    "speech-lstm": speech_lstm,
}
"""Zoo name → builder."""


def build(name: str, **params: Any) -> Workload:
    """Build the zoo network ``name`` with builder parameters ``params`` (and ``rng``).

    Raises
    ------
    WorkloadError
        For an unknown name (the message lists the known ones) or a parameter the builder
        does not take.

    Examples
    --------
    >>> build("lstm-ptb", hidden=64).lowered()[1].cols
    256
    >>> build("vgg")
    Traceback (most recent call last):
    ...
    chipsim.workload.errors.WorkloadError: unknown workload 'vgg'; known: resnet9, lstm-ptb, \
resnet32, char-transformer, resnet18, resnet50, bert-base, speech-lstm
    """
    if name not in ZOO:
        raise WorkloadError(f"unknown workload {name!r}; known: {', '.join(ZOO)}")
    builder = ZOO[name]
    allowed = list(inspect.signature(builder).parameters)
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise WorkloadError(f"{name}: unknown parameter(s) {', '.join(unknown)}; allowed: "
                            f"{', '.join(allowed)}")
    return builder(**params)
