"""CIFAR-10 from the standard "python version" pickle batches, for users who have them."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..errors import ChipsimError

__all__ = ["load_cifar10"]


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
    except FileNotFoundError:
        raise ChipsimError(f"{path}: CIFAR-10 batch file not found") from None
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ChipsimError(f"{path}: not a CIFAR-10 pickle batch: {exc}") from None
    if not isinstance(batch, dict):
        raise ChipsimError(f"{path}: not a CIFAR-10 pickle batch (no dict inside)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ChipsimError(f"{path}: a CIFAR-10 batch needs 'data' and 'labels' entries")
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ChipsimError(f"{path}: 'data' must be N × 3072 with N labels, got {data.shape} "
                           f"and {len(labels)} labels")
    return data, np.asarray(labels, dtype=np.int64)


def load_cifar10(directory: str | Path, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) float32 in [0, 1] and labels of a CIFAR-10 split.

    ``directory`` holds ``data_batch_1`` … ``data_batch_5`` and ``test_batch`` (the folder
    ``cifar-10-batches-py`` of the official archive).
    """
    if split not in ("train", "test"):
        raise ChipsimError(f"split: must be 'train' or 'test', got {split!r}")
    d = Path(directory)
    names = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    parts = [_read_batch(d / n) for n in names]
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return (data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0), labels
