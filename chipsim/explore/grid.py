"""The axes of a design-space sweep: parsing, validation and the cartesian product of points.

A sweep changes *settings* of a base design point (:mod:`chipsim.settings`: chip spec paths,
``chip.cores``, ``run.`` options; the same as ``--set`` and the library). A grid axis
``KEY=V1,V2,...`` splits its values at the commas outside brackets, so
``faults.dead_cores=[3,17],[5]`` has two values.

Examples
--------
>>> axis = parse_axis("core.adc_bits=4,6,8")
>>> axis.key, axis.values
('core.adc_bits', (4, 6, 8))
>>> cores_grid(128)
(8, 16)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from ..errors import ChipsimError
from ..settings import (
    CORES_KEYS,
    _split_key,
    apply_setting,
    canonical_key,
    cores_grid,
    parse_setting,
    parse_value,
)

__all__ = ["MAX_POINTS", "Axis", "Point", "CORES_KEYS", "parse_axis", "parse_setting",
           "parse_value", "split_values", "cores_grid", "canonical_key", "apply_setting",
           "grid_points"]

#: The most points a sweep has unless told otherwise (``chipsim sweep --max-points``): each
#: point is a whole simulation, seconds to minutes long.
MAX_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept key and its values, in the order given.

    Attributes
    ----------
    key
        The key as given (``core.adc_bits``, ``chip.cores``, ``run.t_seconds``).
    values
        The values read as YAML scalars (JSON-ready: numbers, strings, booleans, lists).
    """

    key: str
    values: tuple[Any, ...]

    def text(self) -> str:
        """The axis as a ``--grid`` argument.

        Examples
        --------
        >>> Axis("core.adc_bits", (4, 8)).text()
        'core.adc_bits=4,8'
        """
        return f"{self.key}={','.join(_value_text(v) for v in self.values)}"


@dataclass(frozen=True, slots=True)
class Point:
    """One design point of a sweep: its place in the grid and the chip and run it stands for.

    Attributes
    ----------
    index
        Position in the grid's order (the first axis varies slowest).
    settings
        ``{key: value}`` of every axis, in the axes' order.
    chip
        The :class:`~chipsim.spec.ChipSpec` of the point (base chip, ``--set`` items, settings).
    config
        The :class:`~chipsim.RunConfig` of the point.
    """

    index: int
    settings: dict[str, Any]
    chip: Any
    config: Any


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_value_text(v) for v in value) + "]"
    return "null" if value is None else str(value)


def split_values(text: str) -> list[str]:
    """Split ``text`` at the commas outside brackets; strip each part.

    Examples
    --------
    >>> split_values("[3,17],[5], 4")
    ['[3,17]', '[5]', '4']
    """
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def parse_axis(item: str) -> Axis:
    """``KEY=V1,V2,...`` → :class:`Axis`; a malformed item is a :class:`ChipsimError`.

    The values are parsed but not validated (see :func:`grid_points`).

    Examples
    --------
    >>> parse_axis("chip.cores=32,64").values
    (32, 64)
    """
    key, text = _split_key(item, "--grid", "KEY=V1,V2,..., e.g. core.adc_bits=4,6,8")
    parts = split_values(text)
    if not text or any(not p for p in parts):
        raise ChipsimError(f"--grid {item!r}: empty value (give KEY=V1,V2,...)")
    values = tuple(parse_value(p) for p in parts)
    seen: set[Any] = set()  # (a set: a list would take quadratic time on a long axis)
    for p, v in zip(parts, values, strict=True):
        if _hashable(v) in seen:
            raise ChipsimError(f"--grid {key}: value {p!r} is given twice")
        seen.add(_hashable(v))
    return Axis(key, values)


def _hashable(value: Any) -> Any:
    """``value`` with its lists as tuples and its mappings as sets of items (equal values
    stay equal)."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return frozenset((k, _hashable(v)) for k, v in value.items())
    return value


def grid_points(chip: Any, config: Any, axes: tuple[Axis, ...] | list[Axis],
                max_points: int = MAX_POINTS) -> list[Point]:
    """Every point of the cartesian product of ``axes`` over the base ``(chip, config)``.

    The first axis varies slowest (the order of :func:`itertools.product`). The number of
    points is checked first (at most ``max_points``, by default :data:`MAX_POINTS`), then
    every value is applied alone to the base (an error names the axis and the value), then
    every combination is built (an error names the point's settings), so a bad sweep fails
    before any point runs.

    Raises
    ------
    ChipsimError
        For more than ``max_points`` points, a key given twice, a key that is unknown, or a
        value that is not allowed.

    Examples
    --------
    >>> from chipsim import RunConfig
    >>> from chipsim.spec import hermes
    >>> pts = grid_points(hermes(), RunConfig(), [parse_axis("core.adc_bits=4,8"),
    ...                                           parse_axis("chip.cores=32,64")])
    >>> [(p.settings["core.adc_bits"], p.chip.grid) for p in pts]
    [(4, (4, 8)), (4, (8, 8)), (8, (4, 8)), (8, (8, 8))]
    """
    count = math.prod(len(a.values) for a in axes)
    if count > max_points:
        sizes = " × ".join(str(len(a.values)) for a in axes)
        raise ChipsimError(f"--grid: {count:,} points ({sizes} values), more than "
                           f"--max-points {max_points:,}; split the sweep, or raise "
                           "--max-points if it may take that long")
    seen: dict[str, str] = {}
    for axis in axes:
        canon = canonical_key(axis.key)
        if canon in seen:
            raise ChipsimError(f"--grid {axis.key}: the same setting as --grid {seen[canon]}")
        seen[canon] = axis.key
        for value in axis.values:
            try:
                apply_setting(chip, config, axis.key, value)
            except ChipsimError as exc:
                raise ChipsimError(f"--grid {axis.key}={_value_text(value)}: {exc}") from None
    points = []
    for index, combo in enumerate(itertools.product(*(a.values for a in axes))):
        settings = {a.key: v for a, v in zip(axes, combo, strict=True)}
        c, r = chip, config
        try:
            for key, value in settings.items():
                c, r = apply_setting(c, r, key, value)
        except ChipsimError as exc:
            where = ", ".join(f"{k}={_value_text(v)}" for k, v in settings.items())
            raise ChipsimError(f"--grid point {where}: {exc}") from None
        points.append(Point(index, settings, c, r))
    return points
