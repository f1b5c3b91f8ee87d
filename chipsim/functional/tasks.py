"""The evaluation tasks of the shipped models: data, metric, software (float) score.

- ``resnet9`` on the MNIST subset's test split: top-1 accuracy (%), higher is better;
- ``lstm-ptb`` on the pydoc corpus's test split: bits per character, lower is better. The test
  text is cut into consecutive chunks of :data:`LM_CHUNK` + 1 characters; each chunk starts
  from a zero state and every character after the first is predicted.
- ``char-transformer`` on the same chunks, so its bits per character compare directly with the
  LSTM's: its fixed sequence length is :data:`LM_CHUNK`, one chunk is one sequence, and the
  causal attention predicts character ``t + 1`` of the chunk from characters ``0..t`` of the
  same chunk (no context carried over from the previous chunk, as the LSTM's zero state).
"""

from __future__ import annotations

import math

import numpy as np

from ..data import mnist5k, pydoc_chars
from ..errors import ChipsimError

__all__ = ["LM_CHUNK", "TASKS", "lm_chunks", "task_data", "score", "bits_per_char", "top1"]

LM_CHUNK = 128
TASKS = {"resnet9": "top1", "lstm-ptb": "bpc", "char-transformer": "bpc"}


def lm_chunks(ids: np.ndarray, length: int) -> np.ndarray:
    """Consecutive chunks of ``length + 1`` token ids, (n, length + 1) int64 (tail dropped)."""
    n = (len(ids) - 1) // length
    idx = np.arange(n)[:, None] * length + np.arange(length + 1)[None, :]
    return np.asarray(ids, dtype=np.int64)[idx]


def task_data(model: str, split: str = "test", samples: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of ``model``'s task; ``samples`` keeps the first images/chunks."""
    if model == "resnet9":
        x, y = mnist5k(split)
    elif model in ("lstm-ptb", "char-transformer"):
        ids, _ = pydoc_chars(split)
        chunks = lm_chunks(ids, LM_CHUNK)
        x, y = chunks[:, :-1], chunks[:, 1:]
    else:
        raise ChipsimError(f"model: no built-in task for {model!r}; tasks: "
                           f"{', '.join(TASKS)}")
    if samples is not None:
        if samples < 1:
            raise ChipsimError(f"samples: must be a positive integer, got {samples}")
        x, y = x[:samples], y[:samples]
    return x, y


def top1(logits: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy in percent."""
    return float(100.0 * np.mean(np.argmax(logits, axis=-1) == labels))


def bits_per_char(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy in bits of ``logits`` (..., V) for integer ``targets`` (...)."""
    z = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean() / math.log(2))


def score(model: str, outputs: np.ndarray, targets: np.ndarray) -> tuple[str, float]:
    """(metric name, value) of network outputs on ``model``'s task."""
    metric = TASKS[model]
    return metric, (top1(outputs, targets) if metric == "top1" else
                    bits_per_char(outputs, targets))
