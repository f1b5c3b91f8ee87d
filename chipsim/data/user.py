"""Data to score a network on: a built-in task's, or the user's own (``--data FILE.npz``).

A data file is a NumPy ``.npz`` archive (``numpy.savez``; no pickled objects) with

``x``
    The inputs, one per sample: images ``(N, *input_shape)`` of real numbers for a network
    that starts with a convolution or a linear layer (``(N, 1, 32, 32)`` for the shipped
    ResNet-9, values in [0, 1]); integer token ids ``(N, T)`` for a network that starts with
    an embedding (each below its ``num_embeddings``).
``y``
    The targets: integer class labels ``(N,)`` for a classifier (output ``(classes,)``),
    scored by top-1 accuracy in %; or integer next-token ids ``(N, T)`` for a sequence model
    (output ``(T, vocabulary)``), scored in bits per token (bits per character for a
    character model), as the shipped LSTM is.
``x_calib`` (optional)
    Inputs that set the activation scales (the percentiles of each layer's inputs), as ``x``;
    by default the first :data:`CALIBRATION` samples of ``x``.

The first ``samples`` (``run.samples``) of the file are scored, in the file's order.

Examples
--------
>>> import numpy as np
>>> from chipsim.workload import build
>>> wl = build("resnet9", rng=np.random.default_rng(0))
>>> x = np.zeros((4, 3, 32, 32), np.float32)
>>> data = dataset(wl, x, np.array([0, 1, 2, 3]))
>>> data.metric, len(data.x), data.calibration.shape
('top1', 4, (4, 3, 32, 32))
>>> dataset(wl, x, np.array([0, 1, 2, 10]))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chipsim.errors.ChipsimError: data: y holds labels 0..10, but the network has 10 outputs ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO

import numpy as np

from ..errors import ChipsimError
from ..inputs import FileKind, check_npz, open_file
from ..workload.graph import Workload

__all__ = ["Dataset", "CALIBRATION", "dataset", "load_data", "task_dataset"]


def _data_error(message: str) -> ChipsimError:
    return ChipsimError(f"data {message}")


_DATA_FILE = FileKind("data file", error=_data_error)

#: inputs that set the activation scales by default (the first ones of the data): as many as
#: the built-in tasks take from their training split
CALIBRATION = 100


@dataclass(frozen=True, slots=True, eq=False)
class Dataset:
    """Samples to score a network on.

    Attributes
    ----------
    x, y
        Inputs and targets (see the module docstring).
    metric
        ``top1`` (%, higher is better) or ``bpc`` (bits per token, lower is better).
    source
        Where the data come from (a task name or a file), for the report.
    calibration
        Inputs that set the activation scales.
    """

    x: np.ndarray
    y: np.ndarray
    metric: str
    source: str
    calibration: np.ndarray

    def first(self, samples: int) -> Dataset:
        """The first ``samples`` samples (all when there are fewer)."""
        return Dataset(self.x[:samples], self.y[:samples], self.metric, self.source,
                       self.calibration)

    def score(self, outputs: np.ndarray, targets: np.ndarray) -> tuple[str, float]:
        """``(metric, value)`` of network outputs on ``targets``."""
        from ..functional.tasks import bits_per_char, top1

        return self.metric, (top1(outputs, targets) if self.metric == "top1"
                             else bits_per_char(outputs, targets))


def task_dataset(task: str, samples: int) -> Dataset:
    """The first ``samples`` test samples of a built-in task (``resnet9``, ``lstm-ptb``,
    ``char-transformer``), with :data:`CALIBRATION` samples of its training split for the
    activation scales."""
    from ..functional.tasks import TASKS, task_data

    x, y = task_data(task, "test", samples)
    calib, _ = task_data(task, "train", CALIBRATION)
    return Dataset(x, y, TASKS[task], task, calib)


def _embedding_size(workload: Workload) -> int | None:
    """``num_embeddings`` of the first node when it is an embedding, else None."""
    first = workload.nodes[0]
    if type(first).__name__ != "Embedding":
        return None
    return first.num_embeddings


def _inputs(workload: Workload, x: np.ndarray, name: str, where: str) -> np.ndarray:
    """``x`` checked against the network's input: float32 images or int64 token ids."""
    x = np.asarray(x)
    vocab = _embedding_size(workload)
    if vocab is not None:
        if x.ndim != 2 or x.dtype.kind not in "iu":
            raise ChipsimError(f"{where}: {name} must hold integer token ids of shape (N, T) "
                               f"for {workload.name!r} (it starts with an embedding), got "
                               f"{x.dtype} {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= vocab):
            raise ChipsimError(f"{where}: {name} holds token ids {x.min()}..{x.max()}, but "
                               f"the embedding has {vocab} (ids 0..{vocab - 1})")
        return x.astype(np.int64, copy=False)
    shape = tuple(workload.input_shape)
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        want = ", ".join(str(s) for s in shape)
        raise ChipsimError(f"{where}: {name} must have shape (N, {want}) for "
                           f"{workload.name!r}, got {x.shape}")
    if x.dtype.kind not in "iuf":
        raise ChipsimError(f"{where}: {name} must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ChipsimError(f"{where}: {name} holds NaN or infinite values")
    return x


def dataset(workload: Workload, x: np.ndarray, y: np.ndarray, *, source: str = "arrays",
            calibration: np.ndarray | None = None, where: str = "data") -> Dataset:
    """Inputs ``x`` and targets ``y`` checked against ``workload``; a mismatch is a one-line
    :class:`ChipsimError` naming the array (``where`` prefixes it: the file)."""
    x = _inputs(workload, x, "x", where)
    y = np.asarray(y)
    if x.size == 0:
        raise ChipsimError(f"{where}: x holds no samples (shape {x.shape})")
    out = tuple(workload.output_shape)
    sequence = len(out) == 2
    if sequence:
        if y.shape != x.shape:
            raise ChipsimError(f"{where}: y must hold the next-token ids of every step, shape "
                               f"{x.shape} like x, for the sequence model "
                               f"{workload.name!r}, got {y.shape}")
    elif y.shape != (len(x),):
        raise ChipsimError(f"{where}: y must hold one class label per sample, shape "
                           f"({len(x)},), got {y.shape}")
    if y.dtype.kind not in "iu":
        raise ChipsimError(f"{where}: y must hold integers (class labels or token ids), got "
                           f"dtype {y.dtype}")
    classes = out[-1]
    if y.min() < 0 or y.max() >= classes:
        raise ChipsimError(f"{where}: y holds labels {y.min()}..{y.max()}, but the network "
                           f"has {classes} outputs (labels 0..{classes - 1})")
    calib = (x[:CALIBRATION] if calibration is None
             else _inputs(workload, calibration, "x_calib", where))
    if calib.size == 0:
        raise ChipsimError(f"{where}: x_calib holds no samples (shape {calib.shape})")
    return Dataset(x, y.astype(np.int64, copy=False), "bpc" if sequence else "top1", source,
                   calib)


def load_data(path: str | os.PathLike[str], workload: Workload) -> Dataset:
    """The data file ``path`` (see the module docstring) checked against ``workload``.

    Raises
    ------
    ChipsimError
        One line naming the file and what is wrong: not found, not a regular file, larger
        than :mod:`chipsim.inputs` allows (4096 MB, also uncompressed, checked before
        anything is decompressed), not an ``.npz`` archive, a missing or extra array, a
        shape, dtype or label range that does not fit the network.
    """
    where = f"data {path}"
    with open_file(path, _DATA_FILE) as fh:
        check_npz(fh, path, _DATA_FILE)
        arrays = _read_arrays(fh, where)
    return dataset(workload, arrays["x"], arrays["y"], source=str(path),
                   calibration=arrays.get("x_calib"), where=where)


def _read_arrays(fh: IO[bytes], where: str) -> dict[str, np.ndarray]:
    """The arrays of the archive ``fh`` (checked by :func:`~chipsim.inputs.check_npz`); their
    names are checked before any is read."""
    try:
        loaded = np.load(fh, allow_pickle=False)
    except Exception as exc:  # numpy, zip and zlib errors all mean a damaged file
        raise ChipsimError(f"{where}: not a NumPy .npz archive of arrays ({exc})") from None
    with loaded:
        names = set(loaded.files)
        missing = [k for k in ("x", "y") if k not in names]
        if missing:
            raise ChipsimError(f"{where}: missing array {' and '.join(missing)} (an .npz with "
                               f"x, y and optionally x_calib; it holds "
                               f"{', '.join(sorted(names)) or 'nothing'})")
        extra = sorted(names - {"x", "y", "x_calib"})
        if extra:
            raise ChipsimError(f"{where}: unknown array {', '.join(extra)} (allowed: x, y, "
                               "x_calib)")
        try:
            return {k: loaded[k] for k in names}
        except Exception as exc:  # numpy, zip and zlib errors all mean a damaged file
            raise ChipsimError(f"{where}: not a NumPy .npz archive of arrays ({exc})"
                               ) from None
