"""Reading and writing chip specs as YAML or JSON, and dotted-path overrides.

A spec file holds the nested fields of :class:`~chipsim.spec.ChipSpec`; any field left out takes
its default, so a file may be as short as ``core: {adc_bits: 6}``. Enums are written as their
string values, tuples as lists. Every error is a :class:`SpecError` naming the field path and,
when reading a file, the file.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import math
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from ..errors import brief, did_you_mean
from ..fileio import atomic_write
from ..inputs import FileKind, read_document
from ..yamltext import parse_scalar
from ._fields import SpecError, _hints
from .chip import MAX_CORES, ChipSpec
from .presets import PRESETS, preset
from .system import MAX_CHIPS

#: ``NxCHIP``: a system of N chips
_SYSTEM = re.compile(r"^\s*(\d+)\s*[x×]\s*(\S.*)$")

__all__ = ["to_dict", "from_dict", "load_chip", "dump_chip", "resolve_chip", "chip_file",
           "override", "CORES_KEYS", "cores_grid"]

#: the pseudo-keys of :func:`override` that set the grid from a number of cores
CORES_KEYS = ("chip.cores", "cores")

_SPEC_FILE = FileKind("chip spec file", empty="write {} for a chip with every field at its "
                      "default", error=functools.partial(SpecError, ""))


def to_dict(spec: Any) -> dict[str, Any]:
    """Plain nested dict of a spec dataclass (enums as values, tuples as lists, dict keys as
    strings)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        out[f.name] = _plain(getattr(spec, f.name))
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _convert(path: str, value: Any, hint: Any) -> Any:
    """Convert a value read from a file to the type ``hint`` expects (validation is later)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(path, value, inner[0]) if len(inner) == 1 else value
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if isinstance(value, hint):
            return value
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in hint)
            raise SpecError(path, f"must be one of {allowed}, got {brief(value)}") from None
    if origin is tuple:
        args = typing.get_args(hint)
        if isinstance(value, str) and "x" in value.lower() and args and args[0] is int:
            parts = value.lower().split("x")  # "8x8" for a grid
            try:
                value = [int(p) for p in parts]
            except ValueError:
                raise SpecError(path, f"must be like '8x8' or [8, 8], got {brief(value)}") from None
        if isinstance(value, list | tuple):
            elem = args[0] if args else Any
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(_convert(f"{path}[{i}]", v, elem) for i, v in enumerate(value))
            if len(args) == len(value):
                return tuple(_convert(f"{path}[{i}]", v, a)
                             for i, (v, a) in enumerate(zip(value, args, strict=True)))
            return tuple(value)
        return value
    if origin is dict and isinstance(value, dict):
        key, elem = typing.get_args(hint) or (Any, Any)
        return {_key(path, k, key): _convert(f"{path}.{k}", v, elem) for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise SpecError(path, f"must be a number within float's range (|x| < 1.8e308), "
                            f"got {brief(value)}") from None
    return value


def _key(path: str, key: Any, hint: Any) -> Any:
    """A dict key read from a file (JSON keys are strings) as the type ``hint`` expects."""
    if hint is int and isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            raise SpecError(path, f"keys must be integers, got {brief(key)}") from None
    return key


def from_dict(cls: type, data: Any, path: str = "") -> Any:
    """Build spec dataclass ``cls`` from a nested dict, validating every field.

    Raises
    ------
    SpecError
        For a key that is not a field (with the closest field names as a suggestion), a
        missing field without a default, a value of the wrong type or out of range; ``path``
        is the dotted path of the field.
    """
    if not isinstance(data, dict):
        raise SpecError(path, f"must be a mapping of field names to values, got {brief(data)}")
    names = [f.name for f in dataclasses.fields(cls)]
    hints = _hints(cls)
    kwargs = {}
    for key, value in data.items():
        name = key if isinstance(key, str) and len(key) <= 40 else brief(key)
        sub = f"{path}.{name}" if path else name
        if key not in names:
            raise SpecError(sub, f"unknown field of {cls.__name__}{did_you_mean(key, names)} "
                            f"(fields: {', '.join(names)})")
        kwargs[key] = _convert(sub, value, hints[key])
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise SpecError(path, f"missing field(s) of {cls.__name__}: {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except SpecError as exc:
        raise exc.under(path) if path else exc from None


def load_chip(path: str | os.PathLike) -> ChipSpec:
    """Read a :class:`ChipSpec` from a YAML (``.yaml``/``.yml``) or JSON (``.json``) file.

    The file passes :mod:`chipsim.inputs` (a regular file of at most 8 MB of YAML or 64 MB of
    JSON, not empty, no key twice, nested at most 100 levels); ``{}`` is a chip with every
    field at its default.

    Raises
    ------
    SpecError
        Naming the file and the field when the file cannot be read or a value is wrong.
    """
    data = read_document(path, _SPEC_FILE)
    try:
        return from_dict(ChipSpec, data)
    except SpecError as exc:
        raise SpecError(exc.path, f"{exc.message} (in {path})") from None


def dump_chip(spec: ChipSpec, path: str | os.PathLike) -> Path:
    """Write ``spec`` to ``path`` as YAML or JSON (by suffix), atomically; return the path."""
    p = Path(path)
    data = to_dict(spec)
    if p.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False)
    return atomic_write(p, text)


def resolve_chip(name_or_path: str | os.PathLike | ChipSpec) -> ChipSpec:
    """A chip from a preset name, a spec file path or a :class:`ChipSpec` (returned as is);
    ``NxCHIP`` (``4xhermes``, ``2×my_chip.yaml``) is a system of ``N`` such chips
    (``system.chips = N``).

    Examples
    --------
    >>> resolve_chip("4xhermes").n_cores
    256
    """
    if isinstance(name_or_path, ChipSpec):
        return name_or_path
    text = str(name_or_path)
    m = _SYSTEM.match(text)
    if m and not Path(text).exists():
        n = int(m.group(1))
        if not 1 <= n <= MAX_CHIPS:
            raise SpecError("system.chips", f"{brief(text)}: a system has 1..{MAX_CHIPS} chips, "
                            f"got {n}")
        return override(resolve_chip(m.group(2)), "system.chips", n)
    if text in PRESETS:
        return preset(text)
    if Path(text).suffix.lower() in (".yaml", ".yml", ".json"):
        return load_chip(text)
    raise SpecError("chip", f"{brief(text)} is neither a preset ({', '.join(PRESETS)}) nor a "
                    ".yaml/.yml/.json spec file")


def chip_file(source: str) -> str | None:
    """The spec file a chip source (:func:`resolve_chip`) reads; None for a preset.

    Examples
    --------
    >>> chip_file("hermes"), chip_file("4xhermes"), chip_file("2xmy_chip.yaml")
    (None, None, 'my_chip.yaml')
    """
    m = _SYSTEM.match(source)
    if m and not Path(source).exists():
        source = m.group(2)
    return None if source in PRESETS else source


def cores_grid(n: int) -> tuple[int, int]:
    """The most square ``(rows, cols)`` grid of ``n`` cores, rows <= cols (``n`` at most
    :data:`~chipsim.spec.chip.MAX_CORES`; a :class:`SpecError` otherwise).

    Examples
    --------
    >>> cores_grid(32), cores_grid(64), cores_grid(7)
    ((4, 8), (8, 8), (1, 7))
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CORES:
        raise SpecError("chip.cores", f"must be a whole number of cores >= 1 and <= "
                        f"{MAX_CORES} (chipsim.spec.MAX_CORES), got {brief(n)}")
    rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
    return rows, n // rows


def override(spec: ChipSpec, dotted: str, value: Any) -> ChipSpec:
    """A copy of ``spec`` with the field at ``dotted`` (e.g. ``core.adc_bits``) set to ``value``;
    ``chip.cores`` (or ``cores``) sets the grid to :func:`cores_grid` of the value.

    String values are parsed as YAML scalars (:func:`chipsim.yamltext.parse_scalar`: ``"6"`` →
    6, ``"1.2e3"`` → 1200.0, ``"4ph"`` stays a string, ``"8x8"`` is a grid), then validated as
    if read from a file.

    Examples
    --------
    >>> from chipsim.spec import hermes, override
    >>> override(hermes(), "core.adc_bits", "6").core.adc_bits
    6
    >>> override(hermes(), "chip.cores", 128).grid
    (8, 16)
    """
    if isinstance(value, str):
        value = parse_scalar(value)
    if dotted in CORES_KEYS:
        try:
            rows, cols = cores_grid(value)
        except SpecError as exc:
            raise SpecError(dotted, exc.message) from None
        try:
            return override(spec, "grid", [rows, cols])
        except SpecError as exc:
            raise SpecError(exc.path, f"{exc.message} (with grid {rows}x{cols} of {dotted}="
                            f"{value}; set that field too)") from None
    keys = dotted.split(".")
    if keys and keys[0] == "chip":  # "chip.grid" names the top level
        keys = keys[1:]
    if not keys or not all(keys):
        raise SpecError(dotted, "is not a field path like 'core.adc_bits'")
    data = to_dict(spec)
    node = data
    for i, key in enumerate(keys[:-1]):
        if not isinstance(node.get(key), dict):
            # let from_dict produce the message (unknown key, with a suggestion)
            node.setdefault(key, {})
            if not isinstance(node[key], dict):
                raise SpecError(".".join(keys[: i + 1]), "is a value, not a group of fields")
        node = node[key]
    node[keys[-1]] = value
    return from_dict(ChipSpec, data)
