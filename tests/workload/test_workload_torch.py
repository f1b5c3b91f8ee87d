"""The float forward against independent PyTorch implementations, and the torch importer.

Tolerance: float32 on both sides, rtol 1e-4 / atol 1e-5 (im2col + BLAS matmul against
PyTorch's convolution kernels accumulate in different orders).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from chipsim.workload import (
    WorkloadError,
    forward,
    from_torch,
    lstm_ptb,
    resnet9,
    resnet32,
)
from chipsim.workload.importers import TORCH_MODULES
from chipsim.workload.importers._common import require

TOL = dict(rtol=1e-4, atol=1e-5)


def _torch_out(module, x):
    with torch.no_grad():
        return module(x).numpy()


def test_small_resnet_forward_matches_torch(small_resnet, images):
    net = from_torch(small_resnet, images)
    assert net.input_shape == (3, 16, 16)
    np.testing.assert_allclose(forward(net, images.numpy()), _torch_out(small_resnet, images),
                               **TOL)


def test_small_resnet_lowering(small_resnet, images):
    layers = {layer.name: layer for layer in from_torch(small_resnet, images).lowered()}
    assert list(layers) == ["stem", "layer1.conv1", "layer1.conv2", "layer2.conv1",
                            "layer2.conv2", "layer2.shortcut.0", "fc"]
    stem, conv = layers["stem"], layers["layer2.conv1"]
    assert (stem.rows, stem.cols, stem.vectors) == (27, 8, 256)
    assert (conv.rows, conv.cols, conv.vectors) == (72, 16, 16)
    # identity shortcut: the block's input producer; 1×1 conv shortcut: the Add belongs to
    # the branch that runs last (the shortcut conv), the other branch is the residual
    assert layers["layer1.conv2"].residual_sources == ("stem",)
    assert layers["layer2.shortcut.0"].sources == ("layer1.conv2",)
    assert layers["layer2.shortcut.0"].residual_sources == ("layer2.conv2",)
    assert layers["fc"].sources == ("layer2.shortcut.0",)


def test_batchnorm_folded_into_affine(small_resnet, images):
    net = from_torch(small_resnet, images)
    conv, bn = small_resnet.stem, small_resnet.bn
    scale, bias = net.affine("stem")
    std = torch.sqrt(bn.running_var + bn.eps)
    want_scale = (bn.weight / std).detach().numpy()
    want_bias = ((conv.bias - bn.running_mean) / std * bn.weight + bn.bias).detach().numpy()
    np.testing.assert_allclose(scale, want_scale, rtol=1e-6)
    np.testing.assert_allclose(bias, want_bias, rtol=1e-5, atol=1e-7)
    # the matrix stays the raw convolution weight, rows in (kh, kw, cin) order
    w = conv.weight.detach().numpy()
    np.testing.assert_array_equal(net.matrix("stem")[(1 * 3 + 2) * 3 + 1], w[:, 1, 1, 2])
    # BN output == conv output after the affine, in the chip-free forward
    with torch.no_grad():
        want = bn(conv(images)).numpy()
    from chipsim.workload import activations
    acts = activations(net, images.numpy())
    np.testing.assert_allclose(acts["stem"], want, **TOL)
    assert acts["bn"] is acts["stem"]


def test_batchnorm1d_after_linear():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.BatchNorm1d(6), nn.ReLU(),
                          nn.Linear(6, 3))
    for m in model:
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
    model.eval()
    x = torch.randn(4, 3, 2, 2)
    np.testing.assert_allclose(forward(from_torch(model, x), x.numpy()), _torch_out(model, x),
                               **TOL)


@pytest.mark.parametrize("pool", [nn.MaxPool2d(2), nn.MaxPool2d(3, 2, 1), nn.MaxPool2d(2, 1),
                                  nn.AvgPool2d(2), nn.AvgPool2d(3, 2), nn.AvgPool2d(3, 3)])
def test_pools_match_torch(pool):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), pool, nn.ReLU()).eval()
    x = torch.from_numpy(np.random.default_rng(12).standard_normal((2, 3, 11, 11),
                                                                     dtype=np.float32))
    np.testing.assert_allclose(forward(from_torch(model, x), x.numpy()), _torch_out(model, x),
                               **TOL)


def _resnet9_torch():
    class TorchResNet9(nn.Module):
        def __init__(self):
            super().__init__()
            cin = 3
            for i, cout in enumerate((56, 112, 112, 112, 224, 224, 224, 224)):
                setattr(self, f"conv{i}", nn.Conv2d(cin, cout, 3, padding=1, bias=False))
                setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
                cin = cout
            self.pool2, self.pool4 = nn.MaxPool2d(2), nn.MaxPool2d(4)
            self.fc = nn.Linear(224, 10)

        def cbr(self, i, x):
            return F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))

        def forward(self, x):
            x = self.pool2(self.cbr(1, self.cbr(0, x)))
            x = x + self.cbr(3, self.cbr(2, x))
            x = self.pool2(self.cbr(5, self.pool2(self.cbr(4, x))))
            x = x + self.cbr(7, self.cbr(6, x))
            return self.fc(torch.flatten(self.pool4(x), 1))

    return TorchResNet9()


def _load_into_torch(model: nn.Module, net, rename=lambda name: name):
    """Copy the IR weights into the torch model's modules of the same (renamed) names."""
    modules = dict(model.named_modules())
    for layer, arrays in net.weights.items():
        m = modules[rename(layer)]
        for param, value in arrays.items():
            getattr(m, param).data = torch.from_numpy(np.array(value))
    return model.eval()


def test_zoo_resnet9_matches_torch_and_its_import(randomize_bn):
    net = randomize_bn(resnet9(rng=np.random.default_rng(2)), seed=3)
    model = _load_into_torch(_resnet9_torch(), net)
    x = np.random.default_rng(4).standard_normal((2, 3, 32, 32), dtype=np.float32)
    want = _torch_out(model, torch.from_numpy(x))
    np.testing.assert_allclose(forward(net, x), want, rtol=1e-4, atol=1e-4)
    imported = from_torch(model, torch.from_numpy(x))
    assert imported.lowered() == net.lowered()
    for layer in net.lowered():
        np.testing.assert_array_equal(imported.matrix(layer.name), net.matrix(layer.name))


def test_zoo_resnet32_matches_torch_option_a(randomize_bn):
    class BlockA(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.stride, self.pad = stride, (cout - cin) // 2

        def forward(self, x):
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            if self.stride != 1 or self.pad:  # He et al.'s option A, as in akamaster's code
                x = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
            return F.relu(out + x)

    class ResNet32(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv0, self.bn0 = nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
            cin, stages = 16, []
            for s, planes in enumerate((16, 32, 64)):
                stages.append(nn.Sequential(*(BlockA(cin if b == 0 else planes, planes,
                                                     2 if s and b == 0 else 1)
                                              for b in range(5))))
                cin = planes
            self.stages = nn.Sequential(*stages)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.stages(F.relu(self.bn0(self.conv0(x))))
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    def rename(name):  # stage2.block3.conv1 -> stages.1.3.conv1
        if not name.startswith("stage"):
            return name
        stage, block, leaf = name.split(".")
        return f"stages.{int(stage[5:]) - 1}.{block[5:]}.{leaf}"

    net = randomize_bn(resnet32(rng=np.random.default_rng(6)), seed=7)
    model = _load_into_torch(ResNet32(), net, rename)
    x = np.random.default_rng(8).standard_normal((2, 3, 32, 32), dtype=np.float32)
    np.testing.assert_allclose(forward(net, x), _torch_out(model, torch.from_numpy(x)),
                               rtol=1e-4, atol=1e-4)


def test_char_lstm_import_matches_torch(char_lstm):
    ids = torch.from_numpy(np.random.default_rng(9).integers(0, 20, (3, 7)))
    net = from_torch(char_lstm, ids)
    assert net.input_shape == (None,)
    assert [(layer.name, layer.rows, layer.cols) for layer in net.lowered()] == [
        ("lstm.input", 8, 48), ("lstm.hidden", 12, 48), ("fc", 12, 20)]
    np.testing.assert_allclose(forward(net, ids.numpy()), _torch_out(char_lstm, ids), **TOL)
    # a longer sequence than the example works too
    longer = ids.repeat(1, 3)
    np.testing.assert_allclose(forward(net, longer.numpy()), _torch_out(char_lstm, longer),
                               **TOL)


def test_zoo_lstm_matches_torch_lstm_with_gate_reordering():
    vocab, embed, hidden = 30, 16, 24
    net = lstm_ptb(vocab, embed, hidden, rng=np.random.default_rng(10))
    rng = np.random.default_rng(11)
    bias = rng.normal(0, 0.5, 4 * hidden).astype(np.float32)
    weights = {k: dict(v) for k, v in net.weights.items()}
    weights["lstm"]["bias"] = bias
    net = type(net)(net.name, net.input_shape, net.nodes, weights)
    # chip column 4*h + k holds gate "IAFO"[k]; torch blocks are i, f, g(=A), o
    torch_block = {0: 0, 1: 2, 2: 1, 3: 3}

    def to_torch(chip):
        out = np.empty_like(chip)
        for h in range(hidden):
            for k, blk in torch_block.items():
                out[blk * hidden + h] = chip[4 * h + k]
        return torch.from_numpy(out)

    model = CharLSTMRef(vocab, embed, hidden)
    w = net.weights
    model.embed.weight.data = torch.from_numpy(np.array(w["embed"]["weight"]))
    model.lstm.weight_ih_l0.data = to_torch(w["lstm"]["weight_ih"])
    model.lstm.weight_hh_l0.data = to_torch(w["lstm"]["weight_hh"])
    model.lstm.bias_ih_l0.data = to_torch(bias)
    model.lstm.bias_hh_l0.data.zero_()
    model.fc.weight.data = torch.from_numpy(np.array(w["fc"]["weight"]))
    model.fc.bias.data = torch.from_numpy(np.array(w["fc"]["bias"]))
    ids = rng.integers(0, vocab, (4, 9))
    np.testing.assert_allclose(forward(net, ids), _torch_out(model.eval(),
                                                             torch.from_numpy(ids)), **TOL)
    np.testing.assert_array_equal(net.affine("lstm.input").bias, bias)
    np.testing.assert_array_equal(net.affine("lstm.hidden").bias, 0)


class CharLSTMRef(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x):
        return self.fc(self.lstm(self.embed(x))[0])


@pytest.mark.parametrize("layer, what", [
    (nn.Sigmoid(), "nn.Sigmoid"),
    (nn.Conv2d(3, 3, 3, groups=3), "groups"),
    (nn.AdaptiveAvgPool2d((2, 2)), "AdaptiveAvgPool2d((2, 2))"),
])
def test_unsupported_torch_operator(layer, what):
    model = nn.Sequential(nn.Conv2d(3, 3, 1), layer).eval()
    with pytest.raises(WorkloadError, match="unsupported operator") as info:
        from_torch(model, torch.zeros(1, 3, 8, 8))
    message = str(info.value)
    assert what in message and "'1'" in message
    assert all(f"nn.{m}" in message for m in TORCH_MODULES)


def test_unsupported_torch_function():
    class M(nn.Module):
        def forward(self, x):
            return torch.sigmoid(x)

    with pytest.raises(WorkloadError, match="unsupported operator function sigmoid"):
        from_torch(M(), torch.zeros(1, 4))


def test_torch_lstm_state_and_options_rejected():
    class UsesState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 4, batch_first=True)

        def forward(self, x):
            return self.lstm(x)[1][0]

    with pytest.raises(WorkloadError, match=r"LSTM output \[1\]"):
        from_torch(UsesState(), torch.zeros(1, 3, 4))
    with pytest.raises(WorkloadError, match="batch_first"):
        from_torch(nn.Sequential(nn.LSTM(4, 4)), torch.zeros(1, 3, 4))


def test_torch_shape_mismatch_names_layer():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(10, 2))
    with pytest.raises(WorkloadError, match=r"layer '2' \(Linear\): expects 10 input features"):
        from_torch(model, torch.zeros(1, 3, 8, 8))


def test_missing_optional_dependency_message():
    with pytest.raises(WorkloadError, match=r"pip install 'nolib==1'.*\.\[extra\]"):
        require("chipsim_no_such_module", "extra", "nolib==1")
