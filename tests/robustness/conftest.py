"""Shared helpers of the robustness tests: a tiny trained-task model file and a CLI runner."""

from __future__ import annotations

import pytest

from chipsim.cli import main
from chipsim.workload import build, save_weights
from chipsim.workload.lowered import LoweredLayer


@pytest.fixture(scope="session")
def tiny_lstm(tmp_path_factory):
    """A small ``lstm-ptb`` network (seeded random weights) as a weights file: it has the
    built-in character task, so ``chipsim run`` measures accuracy and timing in seconds."""
    path = tmp_path_factory.mktemp("models") / "tiny-lstm.npz"
    return save_weights(build("lstm-ptb", vocab=50, embed=8, hidden=16), path)


@pytest.fixture
def cli(capsys):
    """Run ``chipsim`` in this process: ``cli(*argv)`` → (status, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def chain_layers() -> tuple[LoweredLayer, ...]:
    """Three layers with partial-sum chains, an activation edge and a residual: 6 cores."""
    L = LoweredLayer
    return (
        L("a", "linear", 512, 256, 4),
        L("b", "linear", 256, 300, 4, ("a",)),
        L("c", "linear", 300, 256, 4, ("b",), ("a",)),
    )
