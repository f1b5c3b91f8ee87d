"""Weights files: a workload's graph and float32 weights in one ``.npz``.

The archive holds ``header``, a UTF-8 JSON document as a ``uint8`` array::

    {"format": "chipsim-weights", "version": 1, "name": ..., "architecture": ...,
     "params": {...}, "input_shape": [...], "nodes": [{"op": ..., ...}, ...],
     "arrays": [[layer, parameter], ...]}

and the arrays ``a0``, ``a1``, ... in the order of ``"arrays"``. ``architecture`` and
``params`` record the zoo builder (``null`` and ``{}`` for imported networks); the graph is
stored in full, so any workload round-trips. Files are written atomically (temporary file in
the same folder, then ``os.replace``) and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import brief
from ..fileio import atomic_open
from ..inputs import FileKind, check_npz, open_file, parse_document
from .errors import WorkloadError
from .graph import Workload
from .nodes import node_from_dict, node_to_dict

__all__ = ["save_weights", "load_weights", "FORMAT"]

FORMAT = "chipsim-weights"
"""Value of the header's ``format`` field."""
_VERSION = 1
_WEIGHTS_FILE = FileKind("chipsim weights file", error=WorkloadError)


def save_weights(workload: Workload, path: str | os.PathLike[str]) -> Path:
    """Write ``workload`` (graph and weights) to ``path`` atomically; return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from chipsim.workload import build
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_weights(build("lstm-ptb", hidden=8), pathlib.Path(tmp) / "w.npz")
    ...     load_weights(path).lowered()[1].rows
    8
    """
    path = Path(path)
    keys = [(layer, param) for layer, arrays in workload.weights.items() for param in arrays]
    header = {
        "format": FORMAT, "version": _VERSION, "name": workload.name,
        "architecture": workload.architecture, "params": dict(workload.params),
        "input_shape": list(workload.input_shape),
        "nodes": [node_to_dict(node) for node in workload.nodes],
        "arrays": [list(key) for key in keys],
    }
    arrays = {f"a{i}": workload.weights[layer][param] for i, (layer, param) in enumerate(keys)}
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with atomic_open(path, "wb") as f:
        np.savez(f, header=blob, **arrays)
    return path


def load_weights(path: str | os.PathLike[str]) -> Workload:
    """Read a workload written by :func:`save_weights`.

    Raises
    ------
    WorkloadError
        If the file is missing, not a regular file, larger than :mod:`chipsim.inputs` allows
        (4096 MB, also uncompressed), not a readable weights file (corrupted, truncated,
        wrong format) or its arrays do not fit its graph; the message names the file (and
        the layer or array).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from chipsim.workload import build
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_weights(build("resnet9"), pathlib.Path(tmp) / "resnet9.npz")
    ...     net = load_weights(path)
    >>> net.architecture, net.params["num_classes"], net.num_weights
    ('resnet9', 10, 1866536)
    """
    path = Path(path)
    with open_file(path, _WEIGHTS_FILE) as fh:
        check_npz(fh, path, _WEIGHTS_FILE)
        try:
            with np.load(fh, allow_pickle=False) as npz:
                text = npz["header"].tobytes().decode()
                files = {k: npz[k] for k in npz.files if k != "header"}
        except Exception as exc:  # zip, zlib, npy and UTF-8 errors all mean a damaged file
            raise WorkloadError(f"{path}: not a readable chipsim weights file "
                                f"({type(exc).__name__}: {exc})") from None
    header = parse_document(text, "json", f"{path} (header)", _WEIGHTS_FILE)
    try:
        return _from_header(header, files)
    except WorkloadError as exc:
        raise WorkloadError(f"{path}: {exc}") from None


def _from_header(header: Any, files: dict[str, np.ndarray]) -> Workload:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise WorkloadError(f"not a {FORMAT} file")
    if header.get("version") != _VERSION:
        raise WorkloadError(f"unsupported version {brief(header.get('version'))} (this chipsim "
                            f"reads {_VERSION})")
    try:
        keys = [tuple(k) for k in header["arrays"]]
        nodes = tuple(node_from_dict(n) for n in header["nodes"])
        name, arch, params = header["name"], header["architecture"], header["params"]
        input_shape = header["input_shape"]
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkloadError(f"header is incomplete or malformed ({exc})") from None
    for field, value, kind in (("name", name, str), ("architecture", arch, str | None),
                               ("params", params, dict | None)):
        if not isinstance(value, kind):
            raise WorkloadError(f"header field {field!r} must be a "
                                f"{'mapping' if field == 'params' else 'string'}, got "
                                f"{brief(value)}")
    if any(len(k) != 2 or not all(isinstance(x, str) for x in k) for k in keys):
        raise WorkloadError("header field 'arrays' must list [layer, parameter] name pairs")
    if len(keys) != len(files) or any(f"a{i}" not in files for i in range(len(keys))):
        raise WorkloadError(f"header lists {len(keys)} arrays, the file holds {len(files)}")
    weights: dict[str, dict[str, np.ndarray]] = {}
    for i, (layer, param) in enumerate(keys):
        weights.setdefault(layer, {})[param] = files[f"a{i}"]
    return Workload(name, input_shape, nodes, weights, architecture=arch, params=params or {})
