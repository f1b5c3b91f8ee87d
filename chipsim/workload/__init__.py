"""Workloads: the layer-graph IR, its lowering to weight matrices, a float reference forward,
the model zoo, weights files and importers (PyTorch, ONNX; optional extras).

Examples
--------
>>> import numpy as np
>>> from chipsim.workload import build, forward
>>> net = build("resnet9", rng=np.random.default_rng(0))
>>> [(layer.name, layer.rows, layer.cols) for layer in net.lowered()][:2]
[('conv0', 27, 56), ('conv1', 504, 112)]
>>> forward(net, np.zeros((1, 3, 32, 32), np.float32)).shape
(1, 10)
"""

from .errors import WorkloadError
from .files import load_weights, save_weights
from .forward import activations, forward, gelu, im2col, layer_norm, lstm_cell, self_attention
from .graph import Affine, Workload
from .importers import from_onnx, from_torch
from .lowered import LoweredLayer
from .nodes import (
    DIGITAL_TYPES,
    GELU,
    INPUT,
    LSTM,
    LSTM_GATES,
    NODE_TYPES,
    WEIGHT_TYPES,
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
    interleave_gates,
    node_from_dict,
    node_to_dict,
)
from .zoo import (
    ZOO,
    bert_base,
    build,
    char_transformer,
    init_weights,
    lstm_ptb,
    resnet9,
    resnet18,
    resnet32,
    resnet50,
    speech_lstm,
)

__all__ = [
    "WorkloadError", "Workload", "Affine", "LoweredLayer",
    "Node", "Conv2d", "Linear", "LSTM", "Embedding", "BatchNorm", "ReLU", "Add", "MaxPool",
    "AvgPool", "GlobalAvgPool", "Flatten", "ChannelPad", "LayerNorm", "GELU", "SelfAttention",
    "PositionEmbedding", "INPUT", "LSTM_GATES", "NODE_TYPES", "WEIGHT_TYPES", "DIGITAL_TYPES",
    "interleave_gates", "node_to_dict", "node_from_dict",
    "forward", "activations", "im2col", "lstm_cell", "layer_norm", "gelu", "self_attention",
    "ZOO", "build", "init_weights", "resnet9", "resnet32", "lstm_ptb", "char_transformer",
    "resnet18", "resnet50", "bert_base", "speech_lstm",
    "save_weights", "load_weights", "from_torch", "from_onnx",
]
