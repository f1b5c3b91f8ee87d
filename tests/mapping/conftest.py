"""Hand-made lowered workloads shaped like the chip paper's networks (shared/hermes.md §4)."""

import pytest

from chipsim.workload.lowered import LoweredLayer


def _resnet9():
    L = LoweredLayer
    return (
        L("conv0", "conv", 27, 56, 1024),
        L("conv1", "conv", 504, 112, 1024, ("conv0",)),
        L("conv2", "conv", 1008, 112, 256, ("conv1",)),
        L("conv3", "conv", 1008, 112, 256, ("conv2",), ("conv1",)),
        L("conv4", "conv", 1008, 224, 256, ("conv3",)),
        L("conv5", "conv", 2016, 224, 64, ("conv4",)),
        L("conv6", "conv", 2016, 224, 16, ("conv5",)),
        L("conv7", "conv", 2016, 224, 16, ("conv6",), ("conv5",)),
        L("fc", "linear", 224, 10, 1, ("conv7",)),
    )


def _lstm():
    L = LoweredLayer
    return (
        L("lstm.input", "lstm_input", 128, 2016, 1),
        L("lstm.hidden", "lstm_hidden", 504, 2016, 1, ("lstm.hidden",), ("lstm.input",)),
        L("fc", "linear", 504, 50, 1, ("lstm.hidden",)),
    )


@pytest.fixture
def resnet9_layers():
    """ResNet-9's weight layers: 40 cores on 256 × 256 cores."""
    return _resnet9()


@pytest.fixture
def lstm_layers():
    """The PTB character LSTM's weight layers: 26 cores."""
    return _lstm()
