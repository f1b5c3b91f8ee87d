"""The zoo's networks larger than one chip (4.19 M weights): ImageNet ResNet-18 and -50,
a BERT-base-sized encoder and an RNN-T-sized LSTM stack. Shapes, lowered layers, exact
weight counts, float numerics against PyTorch references written here, bad parameters."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from chipsim.workload import (
    BatchNorm,
    WorkloadError,
    bert_base,
    build,
    forward,
    resnet18,
    resnet50,
    speech_lstm,
)

TOL = dict(rtol=1e-4, atol=1e-4)


def _table(net):
    return {ly.name: (ly.rows, ly.cols, ly.vectors) for ly in net.lowered()}


def _bn_params(net):
    """BatchNorm γ and β: trainable parameters of PyTorch that fold into the affines."""
    return sum(2 * n.num_features for n in net.nodes if isinstance(n, BatchNorm))


# ------------------------------------------------------------------ ResNet-18 / -50
@pytest.mark.parametrize("builder, layers, weights, torchvision_params", [
    (resnet18, 21, 11_678_912, 11_689_512), (resnet50, 54, 25_502_912, 25_557_032)])
def test_imagenet_resnet_sizes_match_torchvision(builder, layers, weights, torchvision_params):
    net = builder(rng=np.random.default_rng(0))
    assert len(net.lowered()) == layers
    assert net.num_weights == weights
    # torchvision's parameter count = matrix weights + BatchNorm γ, β + fc's 1,000 biases
    assert net.num_weights + _bn_params(net) + 1000 == torchvision_params
    assert net.input_shape == (3, 224, 224) and net.output_shape == (1000,)
    table = _table(net)
    assert table["conv1"] == (7 * 7 * 3, 64, 112 * 112)  # 7×7 stride-2 stem: 12,544 vectors
    assert table["fc"][2] == 1
    assert net.shape("maxpool") == (64, 56, 56)  # 3×3 stride-2 pool with padding 1
    assert net.lowered()[0].geometry == (7, 7, 2, 2, 3, 3, 224, 224)
    assert net.num_weights > 4_194_304 * 2  # more than two 64-core chips of 256×256


def test_resnet18_blocks():
    table = _table(resnet18())
    assert table["layer1.0.conv1"] == (576, 64, 56 * 56)
    assert table["layer2.0.conv1"] == (576, 128, 28 * 28)  # stride 2 on the first 3×3
    assert table["layer2.0.downsample.conv"] == (64, 128, 28 * 28)
    assert table["layer4.1.conv2"] == (4608, 512, 7 * 7)
    assert "layer1.0.downsample.conv" not in table  # identity shortcut: same shape
    assert [n for n in table if "downsample" in n] == [
        f"layer{s}.0.downsample.conv" for s in (2, 3, 4)]


def test_resnet50_bottlenecks_and_residuals():
    net = resnet50()
    table = _table(net)
    assert table["layer1.0.downsample.conv"] == (64, 256, 56 * 56)  # projection, stride 1
    assert table["layer2.0.conv1"] == (256, 128, 56 * 56)  # v1.5: the 1×1 keeps stride 1
    assert table["layer2.0.conv2"] == (1152, 128, 28 * 28)  # the 3×3 has the stride
    assert table["layer4.2.conv3"] == (512, 2048, 7 * 7)
    layers = {ly.name: ly for ly in net.lowered()}
    # the main branch's last convolution owns the add; the shortcut is its residual
    assert layers["layer2.0.conv3"].residual_sources == ("layer2.0.downsample.conv",)
    assert layers["layer2.1.conv3"].residual_sources == ("layer2.0.conv3",)
    assert layers["layer2.0.downsample.conv"].sources == ("layer1.2.conv3",)
    assert layers["layer2.1.conv1"].sources == ("layer2.0.conv3",)
    assert layers["fc"].sources == ("layer4.2.conv3",)
    assert sum(1 for n in layers if n.endswith("downsample.conv")) == 4


class _Block(nn.Module):
    """torchvision's BasicBlock / Bottleneck (v1.5), written here."""

    def __init__(self, cin, planes, stride, bottleneck):
        super().__init__()
        cout = planes * (4 if bottleneck else 1)
        if bottleneck:
            shapes = ((cin, planes, 1, 1, 0), (planes, planes, 3, stride, 1),
                      (planes, cout, 1, 1, 0))
        else:
            shapes = ((cin, planes, 3, stride, 1), (planes, planes, 3, 1, 1))
        for i, (a, b, k, s, p) in enumerate(shapes, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, k, s, p, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(b))
        self.n = len(shapes)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                        nn.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else None

    def forward(self, x):
        out = x
        for i in range(1, self.n + 1):
            out = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(out))
            if i < self.n:
                out = F.relu(out)
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class _TorchResNet(nn.Module):
    def __init__(self, stages, bottleneck):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
        cin = 64
        for s, (blocks, planes) in enumerate(zip(stages, (64, 128, 256, 512), strict=True),
                                           start=1):
            layer = []
            for b in range(blocks):
                layer.append(_Block(cin, planes, 2 if s > 1 and b == 0 else 1, bottleneck))
                cin = planes * (4 if bottleneck else 1)
            setattr(self, f"layer{s}", nn.Sequential(*layer))
        self.fc = nn.Linear(cin, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for s in range(1, 5):
            x = getattr(self, f"layer{s}")(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


@pytest.mark.parametrize("builder, stages, bottleneck", [
    (resnet18, (2, 2, 2, 2), False), (resnet50, (3, 4, 6, 3), True)])
def test_imagenet_resnet_matches_torch(builder, stages, bottleneck, randomize_bn):
    net = randomize_bn(builder(image_size=64, num_classes=10, rng=np.random.default_rng(3)),
                       seed=4)
    model = _TorchResNet(stages, bottleneck)
    modules = dict(model.named_modules())
    for layer, arrays in net.weights.items():
        name = layer.replace("downsample.conv", "downsample.0").replace("downsample.bn",
                                                                           "downsample.1")
        for param, value in arrays.items():
            getattr(modules[name], param).data = torch.from_numpy(np.array(value))
    x = np.random.default_rng(5).standard_normal((2, 3, 64, 64), dtype=np.float32)
    with torch.no_grad():
        want = model.eval()(torch.from_numpy(x)).numpy()
    got = forward(net, x)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max())


def test_imagenet_resnet_size_parameters():
    net = resnet18(in_channels=1, image_size=32, num_classes=10)
    assert _table(net)["conv1"] == (49, 64, 16 * 16)
    assert net.shape("layer4.1.relu") == (512, 1, 1) and net.output_shape == (10,)
    assert _table(resnet50(image_size=96))["layer4.0.conv2"][2] == 3 * 3
    for bad in (0, 48, 100):
        with pytest.raises(WorkloadError, match="resnet18: image_size must be a positive "
                                                f"multiple of 32, got {bad}"):
            resnet18(image_size=bad)
    with pytest.raises(WorkloadError, match="resnet50: image_size"):
        resnet50(image_size=230)


# ------------------------------------------------------------------ BERT-base
def test_bert_structure_at_a_small_size():
    net = bert_base(vocab=50, seq_len=16, d_model=32, heads=4, layers=3, ff=64,
                    num_classes=5, rng=np.random.default_rng(0))
    layers = net.lowered()
    assert len(layers) == 3 * 4 + 1
    assert [(ly.name, ly.rows, ly.cols, ly.vectors) for ly in layers[:4]] == [
        ("layer0.in_proj", 32, 96, 16), ("layer0.out_proj", 32, 32, 16),
        ("layer0.linear1", 32, 64, 16), ("layer0.linear2", 64, 32, 16)]
    assert layers[-1].name == "fc" and (layers[-1].rows, layers[-1].cols) == (32, 5)
    assert net.num_weights == 3 * (4 * 32 ** 2 + 2 * 32 * 64) + 32 * 5
    assert net.output_shape == (16, 5) and net.input_shape == (16,)
    by = {ly.name: ly for ly in layers}
    assert by["layer0.in_proj"].digital == ("PositionEmbedding", "LayerNorm")
    assert by["layer0.out_proj"].attention == (4, 32, False)  # not causal
    assert by["layer1.in_proj"].digital == ("LayerNorm",)  # post-norm: norm2 of layer0
    assert by["layer0.linear1"].digital == ("LayerNorm",)
    assert by["layer0.linear2"].digital == ("GELU",)
    assert net.weights["pos"]["weight"].shape == (512, 32)  # BERT's 512 positions


def test_bert_matches_torch_post_norm_encoder():
    d, heads, ff, t, vocab = 32, 4, 64, 12, 40
    net = bert_base(vocab=vocab, seq_len=t, d_model=d, heads=heads, layers=2, ff=ff,
                    num_classes=3, rng=np.random.default_rng(1))
    w = {k: {p: torch.from_numpy(np.array(v)) for p, v in a.items()}
         for k, a in net.weights.items()}
    encoder = [nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation="gelu",
                                          batch_first=True, norm_first=False).eval()
               for _ in range(2)]
    for i, layer in enumerate(encoder):
        q = f"layer{i}."
        layer.self_attn.in_proj_weight.data = w[q + "in_proj"]["weight"]
        layer.self_attn.in_proj_bias.data = w[q + "in_proj"]["bias"]
        for a, b in (("self_attn.out_proj", "out_proj"), ("linear1", "linear1"),
                     ("linear2", "linear2"), ("norm1", "norm1"), ("norm2", "norm2")):
            module = layer.get_submodule(a)
            module.weight.data, module.bias.data = w[q + b]["weight"], w[q + b]["bias"]
    ids = np.random.default_rng(2).integers(0, vocab, (2, t))
    with torch.no_grad():
        x = w["embed"]["weight"][torch.from_numpy(ids)] + w["pos"]["weight"][:t]
        x = F.layer_norm(x, (d,), w["embed_norm"]["weight"], w["embed_norm"]["bias"])
        for layer in encoder:
            x = layer(x)
        want = F.linear(x, w["fc"]["weight"], w["fc"]["bias"]).numpy()
    np.testing.assert_allclose(forward(net, ids), want, **TOL)


def test_bert_initialization_and_bad_parameters():
    net = bert_base(vocab=30, seq_len=8, d_model=64, heads=4, layers=1, ff=128)
    assert abs(net.matrix("layer0.linear1").std() - 0.02) < 0.002
    assert net.weights["layer0.linear1"]["weight"].dtype == np.float32
    assert not net.weights["layer0.in_proj"]["bias"].any()
    np.testing.assert_array_equal(net.weights["layer0.norm1"]["weight"], 1)
    for seq_len, layers in ((0, 1), (513, 1), (8, 0)):
        with pytest.raises(WorkloadError, match="bert-base: seq_len must be 1..512 and layers "
                                                "positive"):
            bert_base(vocab=30, seq_len=seq_len, d_model=64, heads=4, layers=layers, ff=128)
    with pytest.raises(WorkloadError, match="not a multiple of heads"):
        bert_base(vocab=30, seq_len=8, d_model=64, heads=5, layers=1, ff=128)


@pytest.mark.slow
def test_bert_base_full_size():
    net = build("bert-base")  # about 3 s and 0.9 GB: 85 M matrix + 23.8 M embedding weights
    assert len(net.lowered()) == 12 * 4 + 1
    encoder = 12 * (4 * 768 ** 2 + 2 * 768 * 3072)
    assert encoder == 84_934_656
    assert net.num_weights == encoder + 768 * 2 == 84_936_192
    assert _table(net)["layer11.linear2"] == (3072, 768, 128)
    assert net.output_shape == (128, 2)


# ------------------------------------------------------------------ speech LSTM
def test_speech_lstm_full_size():
    net = speech_lstm(rng=np.random.default_rng(0))
    table = _table(net)
    assert list(table) == [f"lstm{i}.{part}" for i in range(5) for part in ("input", "hidden")
                           ] + ["joint", "fc"]
    assert table["lstm0.input"] == (240, 4096, 1)
    assert table["lstm1.input"] == table["lstm4.hidden"] == (1024, 4096, 1)
    assert table["joint"] == (1024, 512, 1) and table["fc"] == (512, 29, 1)
    assert net.num_weights == 240 * 4096 + 9 * 1024 * 4096 + 1024 * 512 + 512 * 29
    assert net.num_weights == 39_270_912
    # RNN-T (45,267,456 matrix weights) less the time reduction's 1,024 extra input rows of
    # lstm2, the prediction network's 2 LSTM layers of 320 and the joint network's 320 × 512
    encoder = (240 + 1024 + 2048 + 1024 + 1024) * 4096 + 5 * 1024 * 4096  # input, hidden
    rnnt = encoder + 2 * (320 + 320) * 1280 + (1024 + 320) * 512 + 512 * 29
    assert rnnt == 45_267_456
    assert rnnt - net.num_weights == 1024 * 4096 + 2 * 640 * 1280 + 320 * 512
    layers = {ly.name: ly for ly in net.lowered()}
    assert layers["lstm1.input"].sources == ("lstm0.hidden",)  # stacked: the hidden states
    assert layers["lstm3.hidden"].residual_sources == ("lstm3.input",)
    assert layers["joint"].sources == ("lstm4.hidden",) and layers["joint"].per_step
    assert net.input_shape == (None, 240)


def test_speech_lstm_matches_torch_stacked_lstm():
    features, hidden, layers, joint = 6, 8, 3, 5
    net = speech_lstm(features, hidden, layers, joint, num_classes=4,
                      rng=np.random.default_rng(2))
    rng = np.random.default_rng(3)
    model = nn.LSTM(features, hidden, layers, batch_first=True)
    perm = [blk * hidden + h for h in range(hidden) for blk in (0, 2, 1, 3)]  # IAFO → IFGO
    order = np.argsort(perm)  # torch row r holds chip row perm^-1[r]
    weights = {k: dict(v) for k, v in net.weights.items()}
    for i in range(layers):
        w = weights[f"lstm{i}"]
        w["bias"] = rng.normal(0, 0.5, 4 * hidden).astype(np.float32)
        for torch_name, chip_name in (("weight_ih", "weight_ih"), ("weight_hh", "weight_hh"),
                                      ("bias_ih", "bias")):
            getattr(model, f"{torch_name}_l{i}").data = torch.from_numpy(
                np.array(w[chip_name])[order])
        getattr(model, f"bias_hh_l{i}").data.zero_()
    net = type(net)(net.name, net.input_shape, net.nodes, weights)
    x = rng.standard_normal((2, 7, features)).astype(np.float32)
    with torch.no_grad():
        h = model(torch.from_numpy(x))[0]
        w = {k: {p: torch.from_numpy(np.array(v)) for p, v in a.items()}
             for k, a in net.weights.items()}
        h = F.relu(F.linear(h, w["joint"]["weight"], w["joint"]["bias"]))
        want = F.linear(h, w["fc"]["weight"], w["fc"]["bias"]).numpy()
    np.testing.assert_allclose(forward(net, x), want, rtol=1e-5, atol=1e-5)


def test_speech_lstm_bad_parameters():
    with pytest.raises(WorkloadError, match="speech-lstm: layers must be positive, got 0"):
        speech_lstm(layers=0)
    with pytest.raises(WorkloadError, match="hidden_size must be a positive int"):
        speech_lstm(hidden=0)
    with pytest.raises(WorkloadError, match="speech-lstm: unknown parameter.* vocab"):
        build("speech-lstm", vocab=3)
