"""Resolving a MODEL argument: a zoo name with its shipped weights, a weights file or ONNX.

Shipped weights live in the project's ``models/`` folder (``<zoo name>-<recipe>.npz`` with a
``.json`` metadata file beside it), which the package reaches as ``chipsim/shipped`` (a link in
the source tree, package data in a wheel); ``CHIPSIM_MODELS`` names another folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ChipsimError
from .functional.tasks import TASKS
from .inputs import FileKind, read_document
from .workload import ZOO, build, load_weights
from .workload.graph import Workload

__all__ = ["ResolvedModel", "resolve_model", "models_dir"]

_METADATA_FILE = FileKind("model metadata file (the .json beside a weights file)")


@dataclass(frozen=True, slots=True, eq=False)
class ResolvedModel:
    """A network ready to map, with its task (None: no built-in data to score it on)."""

    workload: Workload
    task: str | None
    source: str
    metadata: dict | None


def models_dir() -> Path:
    """The folder of shipped weights (``$CHIPSIM_MODELS``, or the package's ``shipped``: the
    repository's ``models/`` in a source tree, its copy in an installed wheel)."""
    env = os.environ.get("CHIPSIM_MODELS")
    return Path(env) if env else Path(__file__).parent / "shipped"


def resolve_model(model: str, weights: str = "hwa") -> ResolvedModel:
    """The workload named by ``model``.

    Parameters
    ----------
    model
        A zoo name (``resnet9``, ``lstm-ptb``, ``resnet32``, ``char-transformer``,
        ``resnet18``, ``resnet50``, ``bert-base``, ``speech-lstm``), a ``.npz`` weights file
        written by chipsim, or an ``.onnx`` file.
    weights
        For zoo names: ``hwa`` or ``plain`` (the shipped trained weights; ``resnet32``,
        ``resnet18``, ``resnet50``, ``bert-base`` and ``speech-lstm`` have none and no built-in
        task, and get seeded random weights: their accuracy is not measured without
        ``--data``), ``random``, or a weights file path.
    """
    path = Path(model)
    if path.suffix.lower() == ".onnx":
        if not path.exists():  # anything else is the input gate's to describe
            raise ChipsimError(f"model: ONNX file {model} not found")
        from .workload import from_onnx

        return ResolvedModel(from_onnx(path), None, str(path), None)
    if path.suffix.lower() == ".npz":
        if not path.exists():
            raise ChipsimError(f"model: weights file {model} not found")
        wl = load_weights(path)
        if wl.architecture in TASKS:
            _check_architecture(wl, path)
        return ResolvedModel(wl, wl.architecture if wl.architecture in TASKS else None,
                             str(path), _metadata(path))
    if model not in ZOO:
        if path.is_dir():
            raise ChipsimError(f"model: {model!r} is a directory; give a zoo network "
                               f"({', '.join(ZOO)}), a .npz weights file or an .onnx file")
        raise ChipsimError(f"model: {model!r} is neither a zoo network ({', '.join(ZOO)}) nor "
                           "a .npz weights or .onnx file")
    if weights == "random" or (model not in TASKS and weights in ("hwa", "plain")):
        return ResolvedModel(build(model), None, f"{model} (seeded random weights)", None)
    if weights in ("hwa", "plain"):
        file = models_dir() / f"{model}-{weights}.npz"
        if not file.is_file():
            raise ChipsimError(f"weights: shipped file {file} is missing; train it with "
                               f"python -m chipsim.train {model} --recipe {weights}")
    else:
        file = Path(weights)
        if not file.is_file():
            raise ChipsimError(f"weights: {weights!r} is neither hwa, plain, random nor a "
                               "weights file")
    wl = load_weights(file)
    if wl.architecture != model:
        raise ChipsimError(f"weights: {file} holds a {wl.architecture!r} network, not {model!r}")
    _check_architecture(wl, file)
    return ResolvedModel(wl, model, str(file), _metadata(file))


def _check_architecture(wl: Workload, path: Path) -> None:
    """A weights file that names a zoo architecture must hold that network (its task's data
    are fed to it)."""
    try:
        ref = build(wl.architecture, **wl.params)
    except (TypeError, ChipsimError) as exc:
        raise ChipsimError(f"{path}: the header's architecture {wl.architecture!r} with params "
                           f"{wl.params} cannot be built ({exc})") from None
    shape = [(ly.name, ly.kind, ly.rows, ly.cols) for ly in ref.lowered()]
    if (tuple(ref.input_shape) != tuple(wl.input_shape)
            or shape != [(ly.name, ly.kind, ly.rows, ly.cols) for ly in wl.lowered()]):
        raise ChipsimError(f"{path}: the header names architecture {wl.architecture!r}, but the "
                           "graph's layers or input shape are not that network's")


def _metadata(weights_file: Path) -> dict | None:
    meta = weights_file.with_suffix(".json")
    if not meta.is_file():
        return None
    return read_document(meta, _METADATA_FILE)
