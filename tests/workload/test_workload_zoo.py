"""Model zoo: the chip paper's lowered shapes, vector counts and weight totals."""

import numpy as np
import pytest

from chipsim.workload import ZOO, WorkloadError, build, forward, lstm_ptb, resnet9, resnet32


def _table(net):
    return [(layer.name, layer.rows, layer.cols, layer.vectors) for layer in net.lowered()]


def test_resnet9_lowering_matches_the_paper():
    net = resnet9(rng=np.random.default_rng(0))
    assert _table(net) == [
        ("conv0", 27, 56, 1024), ("conv1", 504, 112, 1024), ("conv2", 1008, 112, 256),
        ("conv3", 1008, 112, 256), ("conv4", 1008, 224, 256), ("conv5", 2016, 224, 64),
        ("conv6", 2016, 224, 16), ("conv7", 2016, 224, 16), ("fc", 224, 10, 1)]
    assert net.num_weights == 1_866_536
    layers = {layer.name: layer for layer in net.lowered()}
    assert layers["conv3"].residual_sources == ("conv1",)
    assert layers["conv7"].residual_sources == ("conv5",)
    assert layers["conv4"].sources == ("conv3",) and layers["conv6"].sources == ("conv5",)
    assert layers["conv0"].sources == () and layers["fc"].sources == ("conv7",)
    assert all(layer.kind == "conv" for layer in net.lowered()[:-1])
    assert layers["fc"].kind == "linear"
    assert net.input_shape == (3, 32, 32) and net.output_shape == (10,)
    assert [net.shape(f"conv{i}")[1] for i in range(8)] == [32, 32, 16, 16, 16, 8, 4, 4]


def test_lstm_ptb_lowering_matches_the_paper():
    net = lstm_ptb(rng=np.random.default_rng(0))
    assert _table(net) == [("lstm.input", 128, 2016, 1), ("lstm.hidden", 504, 2016, 1),
                           ("fc", 504, 50, 1)]
    assert net.num_weights == 1_299_312
    hidden = net.lowered()[1]
    assert hidden.kind == "lstm_hidden" and hidden.sources == ("lstm.hidden",)
    assert hidden.residual_sources == ("lstm.input",)
    assert net.lowered()[2].sources == ("lstm.hidden",)
    assert net.input_shape == (None,)


def test_resnet32_size():
    net = resnet32(rng=np.random.default_rng(0))
    assert len(net.lowered()) == 32 - 1 + 1  # 31 convolutions + fc
    assert net.num_weights == 461_872
    assert round(net.num_weights / 1e6, 2) == 0.46
    assert net.shape("stage3.block4.relu2") == (64, 8, 8)


def test_builders_are_seeded_and_he_initialized():
    a = resnet9(rng=np.random.default_rng(7))
    b = resnet9(rng=np.random.default_rng(7))
    c = resnet9(rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a.matrix("conv5"), b.matrix("conv5"))
    assert not np.array_equal(a.matrix("conv5"), c.matrix("conv5"))
    std = a.matrix("conv5").std()
    assert abs(std - np.sqrt(2 / 2016)) < 0.01 * np.sqrt(2 / 2016) * 10
    scale, bias = a.affine("conv5")
    np.testing.assert_allclose(scale, 1 / np.sqrt(1 + 1e-5))
    np.testing.assert_array_equal(bias, 0)


def test_size_parameters():
    net = resnet9(in_channels=1, image_size=64, num_classes=100)
    assert _table(net)[0] == ("conv0", 9, 56, 4096)
    assert _table(net)[-1] == ("fc", 896, 100, 1)
    assert forward(net, np.zeros((1, 1, 64, 64), np.float32)).shape == (1, 100)
    assert _table(resnet32(image_size=16))[-1] == ("fc", 64, 10, 1)
    with pytest.raises(WorkloadError, match="multiple of 32"):
        resnet9(image_size=48)
    with pytest.raises(WorkloadError, match="multiple of 4"):
        resnet32(image_size=30)


def test_build_by_name():
    assert list(ZOO) == ["resnet9", "lstm-ptb", "resnet32", "char-transformer", "resnet18",
                         "resnet50", "bert-base", "speech-lstm"]
    net = build("lstm-ptb", vocab=20, hidden=16, rng=np.random.default_rng(0))
    assert net.architecture == "lstm-ptb"
    assert net.params == {"vocab": 20, "embed": 128, "hidden": 16}
    with pytest.raises(WorkloadError, match="unknown workload 'vgg16'; known: resnet9, "
                                            "lstm-ptb, resnet32"):
        build("vgg16")
    with pytest.raises(WorkloadError, match="resnet9: unknown parameter.* depth; allowed: "
                                            "in_channels, image_size, num_classes, rng"):
        build("resnet9", depth=3)
