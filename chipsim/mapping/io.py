"""Mapping files: readable YAML (``.yaml``/``.yml``) or JSON (``.json``), one line per block.

A file names the chip geometry and the workload, summarises each layer, and lists every
block with its layer, replica, index, ``[start, stop)`` row and column ranges in the layer's
weight matrix, and core::

    # chipsim mapping: ...
    format: chipsim-mapping/1
    chip: hermes
    grid: [8, 8]
    n_cores: 64
    core: [256, 256]
    workload: resnet9
    cores_used: 40
    placement_cost: 1046080.0
    excluded_cores: []
    layers:
    - {name: conv0, rows: 27, cols: 56, vectors: 1024, blocks: 1, replicas: 1, cores: 1, ...}
    ...
    blocks:
    - {layer: conv0, replica: 0, index: 0, rows: [0, 27], cols: [0, 56], core: 38}
    ...
    - {layer: conv5, replica: 0, index: 3, rows: [756, 1008], cols: [0, 224], core: 18}

Files may be edited by hand. :func:`load_mapping` checks a file against the chip and the
workload; the per-layer summaries, ``cores_used`` and ``placement_cost`` are recomputed from the
blocks (the values in the file are for the reader). A key that is not one of the format's (a
misspelt ``excluded_cores``, say) is refused, as in spec files.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from ..errors import brief, did_you_mean
from ..fileio import atomic_write
from ..inputs import FileKind, read_document
from ..spec import ChipSpec
from .errors import MappingError
from .mapping import BlockPlacement, Mapping, layer_summaries, mapping_cost, mapping_to_dict
from .partition import partition

if TYPE_CHECKING:  # the workload package is only needed for type hints
    from ..workload.lowered import LoweredLayer

__all__ = ["FORMAT", "save_mapping", "load_mapping", "mapping_from_dict", "dumps_mapping"]

FORMAT = "chipsim-mapping/1"
"""Value of the ``format`` key of mapping files."""

_MAPPING_FILE = FileKind("mapping file", empty="a mapping lists every block of every layer; "
                         "chipsim map MODEL --out DIR writes one to start from",
                         error=MappingError)

#: the fields of a mapping file, of its layer entries and of its blocks (those
#: :func:`~chipsim.mapping.mapping_to_dict` writes)
_FIELDS = ("format", "chip", "grid", "n_cores", "chips", "core", "workload", "cores_used",
           "placement_cost", "excluded_cores", "layers", "blocks")
_LAYER_FIELDS = ("name", "rows", "cols", "vectors", "blocks", "replicas", "cores", "utilization")
_BLOCK_FIELDS = ("layer", "replica", "index", "rows", "cols", "chip", "core")

_HEADER = """\
# chipsim mapping: every block of every layer copy (replica) on one core.
# rows/cols: [start, stop) ranges of the layer's weight matrix (rows = inputs, cols = outputs);
# a block smaller than the core is zero-filled. Core ids are row-major on the grid (on a
# system of several chips, chip after chip: core = chip × cores per chip + id on the chip).
# Checked against the chip and the workload when read; summaries are recomputed.
"""


def _flow(entry: dict[str, Any]) -> str:
    return yaml.safe_dump(entry, default_flow_style=True, sort_keys=False,
                          width=1_000_000).strip()


def dumps_mapping(m: Mapping, fmt: str = "yaml") -> str:
    """The text of ``m`` as a mapping file, ``fmt`` = ``"yaml"`` or ``"json"``."""
    data = mapping_to_dict(m)
    head = {k: v for k, v in data.items() if k not in ("layers", "blocks")}
    if fmt == "json":
        lines = ["{"]
        lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        for key in ("layers", "blocks"):
            items = [f"    {json.dumps(e)}" for e in data[key]]
            end = "," if key == "layers" else ""
            lines.append(f'  "{key}": [\n' + ",\n".join(items) + f"\n  ]{end}")
        lines.append("}")
        return "\n".join(lines) + "\n"
    if fmt != "yaml":
        raise ValueError(f"fmt must be 'yaml' or 'json', got {fmt!r}")
    text = _HEADER + yaml.safe_dump(head, sort_keys=False, width=1_000_000,
                                    default_flow_style=None)
    for key in ("layers", "blocks"):
        text += f"{key}:\n" if data[key] else f"{key}: []\n"
        text += "".join(f"- {_flow(e)}\n" for e in data[key])
    return text


def save_mapping(m: Mapping, path: str | os.PathLike[str]) -> Path:
    """Write ``m`` to ``path`` (YAML, or JSON for a ``.json`` suffix) atomically; return it.

    Examples
    --------
    >>> import tempfile
    >>> from chipsim.mapping import map_workload
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> layers = [LoweredLayer("fc", "linear", 504, 50, 1)]
    >>> m = map_workload(layers, hermes())
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_mapping(m, Path(d) / "mapping.yaml")
    ...     load_mapping(p, layers, hermes()) == m
    True
    """
    p = Path(path)
    text = dumps_mapping(m, "json" if p.suffix.lower() == ".json" else "yaml")
    return atomic_write(p, text)


def load_mapping(path: str | os.PathLike[str], layers: Sequence[LoweredLayer],
                 chip: ChipSpec) -> Mapping:
    """Read a mapping file and check it against ``chip`` and the workload's ``layers``.

    Raises
    ------
    MappingError
        Naming the file and, for a bad block, the block (layer, replica, index, core): a file
        that is not a regular file, too large, empty or not valid YAML/JSON (see
        :mod:`chipsim.inputs`); a field that is missing or unknown; a chip geometry that
        differs from ``chip``; an unknown layer or a layer whose shape differs from the
        workload's; a block whose core is not on the chip, excluded or dead
        (``faults.dead_cores``), whose ranges lie outside the matrix or exceed the core; two
        blocks on one core; overlapping blocks within one layer replica; missing blocks
        (weights of a layer replica not covered).
    """
    data = read_document(path, _MAPPING_FILE)
    try:
        return mapping_from_dict(data, layers, chip)
    except MappingError as exc:
        raise MappingError(f"{path}: {exc}") from None


def _known(d: dict[str, Any], fields: tuple[str, ...], where: str) -> None:
    """Refuse a key of ``d`` that is not one of ``fields``, as spec files do."""
    for key in d:
        if key not in fields:
            raise MappingError(f"{where}: unknown field {brief(key)}"
                               f"{did_you_mean(key, fields)} (fields: {', '.join(fields)})")


def _get(d: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in d:
        raise MappingError(f"{where}: missing field {key!r}")
    v = d[key]
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)
                        or not -2**63 <= v < 2**63):
        raise MappingError(f"{where}: {key} must be an integer, got {brief(v)}")
    if kind is str and not isinstance(v, str):
        raise MappingError(f"{where}: {key} must be a string, got {brief(v)}")
    if kind is list and not isinstance(v, list):
        raise MappingError(f"{where}: {key} must be a list, got {brief(v)}")
    return v


def _list(d: dict[str, Any], key: str, what: str) -> list:
    """The optional list ``d[key]`` ([] when absent or empty)."""
    v = d.get(key) or []
    if not isinstance(v, list):
        raise MappingError(f"mapping: {key} must be a list of {what}, got {brief(v)}")
    return v


def _pair(d: dict[str, Any], key: str, where: str, what: str = "[start, stop)"
          ) -> tuple[int, int]:
    v = _get(d, key, list, where)
    if len(v) != 2 or any(isinstance(x, bool) or not isinstance(x, int)
                          or not -2**63 <= x < 2**63 for x in v):
        raise MappingError(f"{where}: {key} must be two integers {what}, got {brief(v)}")
    return int(v[0]), int(v[1])


def mapping_from_dict(data: Any, layers: Sequence[LoweredLayer], chip: ChipSpec) -> Mapping:
    """A :class:`Mapping` from the plain form of a file, checked as in :func:`load_mapping`."""
    if not isinstance(data, dict):
        raise MappingError("a mapping file must be a mapping of fields, got "
                           f"{type(data).__name__}")
    _known(data, _FIELDS, "mapping")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise MappingError(f"format is {brief(fmt)}; this version reads {FORMAT!r}")
    grid = _pair(data, "grid", "mapping", "[rows, cols]")
    n_cores = _get(data, "n_cores", int, "mapping")
    core = _pair(data, "core", "mapping", "[rows, cols]")
    chips = data.get("chips", 1)
    if isinstance(chips, bool) or not isinstance(chips, int) or chips != chip.chips:
        raise MappingError(f"the mapping is for a system of {brief(chips)} chip(s), "
                           f"{chip.name!r} is {chip.chips} (system.chips)")
    if grid != chip.grid or n_cores != chip.n_cores or core != (chip.core.rows, chip.core.cols):
        raise MappingError(
            f"the mapping is for a {grid[0]}×{grid[1]} grid ({n_cores} cores) of "
            f"{core[0]}×{core[1]} cores, chip {chip.name!r} is {chip.grid[0]}×{chip.grid[1]} "
            f"({chip.n_cores} cores) of {chip.core.rows}×{chip.core.cols}")
    workload = data.get("workload") or ""
    if not isinstance(workload, str):
        raise MappingError(f"mapping: workload must be a string, got {brief(workload)}")
    excluded = []
    for c in _list(data, "excluded_cores", "core ids"):
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < chip.n_cores:
            raise MappingError(f"excluded_cores: {brief(c)} is not a core of the chip "
                               f"(0..{chip.n_cores - 1})")
        excluded.append(c)
    by_name = {ly.name: ly for ly in layers}
    order = {ly.name: i for i, ly in enumerate(layers)}
    for i, entry in enumerate(_list(data, "layers", "layer entries")):
        where = f"layers[{i}]"
        if not isinstance(entry, dict):
            raise MappingError(f"{where}: must be a mapping, got {brief(entry)}")
        _known(entry, _LAYER_FIELDS, where)
        name = _get(entry, "name", str, where)
        if name not in by_name:
            raise MappingError(f"{where}: layer {brief(name)} is not in the workload (layers: "
                               f"{', '.join(by_name)})")
        ly = by_name[name]
        shape = (entry.get("rows", ly.rows), entry.get("cols", ly.cols))
        if shape != (ly.rows, ly.cols):
            raise MappingError(f"{where}: layer {name!r} is {brief(shape[0])}×{brief(shape[1])} "
                               f"in the file but {ly.rows}×{ly.cols} in the workload")
    raw = data.get("blocks")
    if not isinstance(raw, list):
        raise MappingError(f"mapping: blocks must be a list of blocks, got {brief(raw)}")
    blocks = [_block(i, e, by_name, chip, set(excluded)) for i, e in enumerate(raw)]
    _check_blocks(blocks, layers, chip)
    blocks.sort(key=lambda b: (order[b.layer], b.replica, b.index))
    core_size = (chip.core.rows, chip.core.cols)
    return Mapping(chip.name, chip.grid, chip.n_cores, core_size[0], core_size[1], workload,
                   layer_summaries(layers, blocks, core_size), tuple(blocks),
                   mapping_cost(layers, blocks, chip),
                   tuple(sorted(set(excluded) | set(chip.faults.dead_cores))), chip.chips)


def _block(i: int, entry: Any, by_name: dict[str, LoweredLayer], chip: ChipSpec,
           excluded: set[int]) -> BlockPlacement:
    where = f"blocks[{i}]"
    if not isinstance(entry, dict):
        raise MappingError(f"{where}: must be a mapping with layer, replica, index, rows, "
                           f"cols, core; got {brief(entry)}")
    _known(entry, _BLOCK_FIELDS, where)
    b = BlockPlacement(_get(entry, "layer", str, where), _get(entry, "replica", int, where),
                       _get(entry, "index", int, where), _pair(entry, "rows", where),
                       _pair(entry, "cols", where), _get(entry, "core", int, where))
    where = f"{where}: {b.label}"
    if b.layer not in by_name:
        raise MappingError(f"{where}: unknown layer {brief(b.layer)} (layers: "
                           f"{', '.join(by_name)})")
    if b.replica < 0 or b.index < 0:
        raise MappingError(f"{where}: replica and index must be >= 0")
    if not 0 <= b.core < chip.n_cores:
        raise MappingError(f"{where}: out of range: core {b.core} is not on chip "
                           f"{chip.name!r} (cores 0..{chip.n_cores - 1})")
    if "chip" in entry and _get(entry, "chip", int, where) != chip.chip_of(b.core):
        raise MappingError(f"{where}: core {b.core} is on chip {chip.chip_of(b.core)} (core "
                           f"ids run chip by chip, {chip.cores_per_chip} per chip), not on "
                           f"chip {brief(entry['chip'])}")
    if b.core in chip.faults.dead_cores:
        raise MappingError(f"{where}: core {b.core} is dead (faults.dead_cores of chip "
                           f"{chip.name!r})")
    if b.core in excluded:
        raise MappingError(f"{where}: core {b.core} is excluded")
    ly = by_name[b.layer]
    for axis, (start, stop), size, cap in (("rows", b.rows, ly.rows, chip.core.rows),
                                           ("cols", b.cols, ly.cols, chip.core.cols)):
        if not 0 <= start < stop <= size:
            raise MappingError(f"{where}: out of range: {axis} [{start}, {stop}) is not a "
                               f"non-empty range of the {ly.rows}×{ly.cols} matrix")
        if stop - start > cap:
            raise MappingError(f"{where}: out of range: {stop - start} {axis} exceed the core's "
                               f"{cap}")
    return b


def _check_blocks(blocks: list[BlockPlacement], layers: Sequence[LoweredLayer],
                  chip: ChipSpec) -> None:
    on_core: dict[int, BlockPlacement] = {}
    keys: dict[tuple[str, int, int], BlockPlacement] = {}
    groups: dict[tuple[str, int], list[BlockPlacement]] = defaultdict(list)
    for b in blocks:
        if b.core in on_core:
            raise MappingError(f"overlap: {b.label} is on the same core as "
                               f"{on_core[b.core].label}")
        on_core[b.core] = b
        key = (b.layer, b.replica, b.index)
        if key in keys:
            raise MappingError(f"{b.label}: duplicate index; {keys[key].label} has it too")
        keys[key] = b
        groups[(b.layer, b.replica)].append(b)
    for ly in layers:
        reps = sorted(r for (name, r) in groups if name == ly.name)
        if not reps:
            raise MappingError(f"missing blocks: layer {ly.name!r} has no blocks (its "
                               f"{ly.rows}×{ly.cols} weights are not on the chip)")
        for want, got in enumerate(reps):
            if want != got:
                raise MappingError(f"missing blocks: layer {ly.name!r} has replica {got} but "
                                   f"no replica {want}")
        for rep in reps:
            group = groups[(ly.name, rep)]
            _check_group(ly, rep, group, chip)


def _check_group(ly: LoweredLayer, rep: int, group: list[BlockPlacement],
                 chip: ChipSpec) -> None:
    group = sorted(group, key=lambda b: (b.rows, b.cols))
    for i, a in enumerate(group):
        for b in group[i + 1:]:
            if b.rows[0] >= a.rows[1]:
                break
            if a.cols[0] < b.cols[1] and b.cols[0] < a.cols[1]:
                raise MappingError(
                    f"overlap: {b.label} (rows [{b.rows[0]}, {b.rows[1]}) × cols [{b.cols[0]}, "
                    f"{b.cols[1]})) overlaps {a.label} (rows [{a.rows[0]}, {a.rows[1]}) × cols "
                    f"[{a.cols[0]}, {a.cols[1]}))")
    area = sum((b.rows[1] - b.rows[0]) * (b.cols[1] - b.cols[0]) for b in group)
    if area == ly.rows * ly.cols:
        return
    covered = np.zeros((ly.rows, ly.cols), dtype=bool)
    for b in group:
        covered[b.rows[0]:b.rows[1], b.cols[0]:b.cols[1]] = True
    r, c = (int(v[0]) for v in np.nonzero(~covered))
    part = partition(ly.rows, ly.cols, chip.core.rows, chip.core.cols)
    rule = next(b for b in part.blocks
                if b.rows[0] <= r < b.rows[1] and b.cols[0] <= c < b.cols[1])
    raise MappingError(
        f"missing block: layer {ly.name!r} replica {rep} block {rule.index} (rows "
        f"[{rule.rows[0]}, {rule.rows[1]}) × cols [{rule.cols[0]}, {rule.cols[1]}) under the "
        f"partition rule): weight ({r}, {c}) and {int((~covered).sum()) - 1} more are not "
        "covered by any block")
