"""Shared fixtures of the workload tests: small PyTorch networks written independently of
chipsim (eval mode, non-trivial BatchNorm statistics), and a BatchNorm randomizer for IR
workloads."""

import numpy as np
import pytest
import torch
from torch import nn

from chipsim.workload import BatchNorm, Workload


def _randomize_bn(module: nn.Module, seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c, generator=gen)
            m.bias.data = 0.1 * torch.randn(c, generator=gen)
            m.running_mean = 0.1 * torch.randn(c, generator=gen)
            m.running_var = 0.5 + torch.rand(c, generator=gen)
    return module.eval()


class Block(nn.Module):
    """Basic residual block with a 1×1 convolution shortcut where the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    """Stem (conv with bias, BN, ReLU, max-pool), two blocks, global pool, linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.avg = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.bn(self.stem(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avg(x), 1))


class CharLSTM(nn.Module):
    """Embedding → one-layer LSTM → linear at every step."""

    def __init__(self, vocab: int = 20, embed: int = 8, hidden: int = 12):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x):
        return self.fc(self.lstm(self.embed(x))[0])


@pytest.fixture
def small_resnet() -> nn.Module:
    torch.manual_seed(0)
    return _randomize_bn(SmallResNet(), seed=1)


@pytest.fixture
def char_lstm() -> nn.Module:
    torch.manual_seed(0)
    return CharLSTM().eval()


@pytest.fixture
def images() -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(5).standard_normal((3, 3, 16, 16),
                                                                      dtype=np.float32))


def randomize_ir_bn(workload: Workload, seed: int) -> Workload:
    """The same workload with random BatchNorm parameters (γ, β, mean, variance)."""
    rng = np.random.default_rng(seed)
    weights = {k: dict(v) for k, v in workload.weights.items()}
    for node in workload.nodes:
        if isinstance(node, BatchNorm):
            c = node.num_features
            weights[node.name] = {"weight": rng.uniform(0.5, 1.5, c),
                                  "bias": rng.normal(0, 0.1, c),
                                  "running_mean": rng.normal(0, 0.1, c),
                                  "running_var": rng.uniform(0.5, 1.5, c)}
    return Workload(workload.name, workload.input_shape, workload.nodes, weights,
                    workload.architecture, workload.params)


@pytest.fixture
def randomize_bn():
    """``randomize_bn(workload, seed)`` → the workload with random BatchNorm parameters."""
    return randomize_ir_bn
