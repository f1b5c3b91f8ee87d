"""A small CNN shared by the functional tests."""

import numpy as np
import pytest

from chipsim.workload import (
    BatchNorm,
    Conv2d,
    Flatten,
    Linear,
    MaxPool,
    ReLU,
    Workload,
    init_weights,
)


@pytest.fixture(scope="session")
def tiny_cnn():
    """conv0 (9 × 16), conv1 (144 × 8), a max-pool and a dense layer (128 × 10); batch-norm
    with random statistics (seed 0). Shared: tests must not change its weights."""
    nodes = [
        Conv2d("conv0", ("input",), 1, 16, 3, padding=1, bias=False),
        BatchNorm("bn0", ("conv0",), 16), ReLU("relu0", ("bn0",)),
        Conv2d("conv1", ("relu0",), 16, 8, 3, padding=1, bias=True), ReLU("relu1", ("conv1",)),
        MaxPool("pool", ("relu1",), 2), Flatten("flatten", ("pool",)),
        Linear("fc", ("flatten",), 8 * 4 * 4, 10),
    ]
    rng = np.random.default_rng(0)
    weights = init_weights(nodes, rng)
    weights["bn0"] = {"weight": rng.uniform(0.5, 1.5, 16).astype(np.float32),
                      "bias": rng.normal(0, 0.1, 16).astype(np.float32),
                      "running_mean": rng.normal(0, 0.1, 16).astype(np.float32),
                      "running_var": rng.uniform(0.5, 2, 16).astype(np.float32)}
    return Workload("tiny", (1, 8, 8), tuple(nodes), weights)
