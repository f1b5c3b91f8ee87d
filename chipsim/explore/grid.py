"""The axes of a design-space sweep: parsing, validation and the cartesian product of points.

A sweep changes *settings* of a base design point. A setting is a ``KEY=VALUE`` pair whose key
is one of

- a chip spec field by its dotted path (``core.adc_bits``, ``core.read_mode``, ``chip.grid``
  or ``grid``, ``core.devices_per_polarity``, ``device.model``, ``network.topology``, ...),
  validated as in a spec file (:func:`chipsim.spec.override`);
- a :class:`~chipsim.RunConfig` field with the prefix ``run.`` (``run.t_seconds``,
  ``run.transport``, ``run.seed``, ...);
- the pseudo-key ``chip.cores`` (or ``cores``): a number of cores, which sets the chip's
  ``grid`` to the most square factorisation, rows <= columns (:func:`cores_grid`: 32 → 4x8,
  64 → 8x8, 128 → 8x16, a prime p → 1xp). Only the grid changes: the GDPU slices and their
  position stay those of the base chip.

Values are read as YAML scalars (``6`` is a number, ``4ph`` and ``8x8`` are strings,
``[3,17]`` is a list). A grid axis ``KEY=V1,V2,...`` splits its values at the commas outside
brackets, so ``faults.dead_cores=[3,17],[5]`` has two values.

Examples
--------
>>> axis = parse_axis("core.adc_bits=4,6,8")
>>> axis.key, axis.values
('core.adc_bits', (4, 6, 8))
>>> cores_grid(128)
(8, 16)
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

from ..errors import ChipsimError

__all__ = ["Axis", "Point", "CORES_KEYS", "parse_axis", "parse_setting", "parse_value",
           "split_values", "cores_grid", "canonical_key", "apply_setting", "grid_points"]

#: the pseudo-keys that set the grid from a number of cores
CORES_KEYS = ("chip.cores", "cores")


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


def parse_value(text: str) -> Any:
    """A value read as a YAML scalar or flow list, made JSON-ready (else the text itself);
    see :func:`chipsim.yamltext.parse_scalar` (YAML 1.2 numbers, grid text stays text).

    Examples
    --------
    >>> parse_value("6"), parse_value("4ph"), parse_value("[3, 17]"), parse_value("3.6e3")
    (6, '4ph', [3, 17], 3600.0)
    >>> parse_value("0x10")
    '0x10'
    """
    from ..yamltext import parse_scalar

    return parse_scalar(text)


def _split_key(item: str, option: str, example: str) -> tuple[str, str]:
    key, eq, value = item.partition("=")
    key = key.strip()
    if not eq or not key or " " in key:
        raise ChipsimError(f"{option} {item!r}: expected {example}")
    return key, value.strip()


def parse_setting(item: str, option: str = "--set") -> tuple[str, Any]:
    """``KEY=VALUE`` → ``(key, value)``; a malformed item is a :class:`ChipsimError`.

    Examples
    --------
    >>> parse_setting("run.t_seconds=86400")
    ('run.t_seconds', 86400)
    """
    key, value = _split_key(item, option, "KEY=VALUE, e.g. core.adc_bits=6 or run.samples=50")
    if not value:
        raise ChipsimError(f"{option} {item!r}: no value after '='")
    return key, parse_value(value)


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
    seen: list[Any] = []
    for p, v in zip(parts, values, strict=True):
        if v in seen:
            raise ChipsimError(f"--grid {key}: value {p!r} is given twice")
        seen.append(v)
    return Axis(key, values)


def cores_grid(n: int) -> tuple[int, int]:
    """The most square ``(rows, cols)`` grid of ``n`` cores, rows <= cols.

    Examples
    --------
    >>> cores_grid(32), cores_grid(64), cores_grid(7)
    ((4, 8), (8, 8), (1, 7))
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ChipsimError(f"chip.cores: must be a whole number of cores >= 1, got {n!r}")
    rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
    return rows, n // rows


def canonical_key(key: str) -> str:
    """The key with ``chip.`` removed from spec paths (``chip.grid`` and ``grid`` are one)."""
    if key in CORES_KEYS:
        return "grid"  # sets the grid
    return key.removeprefix("chip.") if not key.startswith("run.") else key


def apply_setting(chip: Any, config: Any, key: str, value: Any) -> tuple[Any, Any]:
    """``(chip, config)`` with the setting ``key = value`` applied.

    Raises
    ------
    ChipsimError
        A :class:`~chipsim.spec.SpecError` naming the field when the key is unknown or the value
        is not allowed.
    """
    from ..config import RunConfig
    from ..spec import SpecError, from_dict, override

    if key.startswith("run."):
        field = key.removeprefix("run.")
        data = {**dataclasses.asdict(config), field: value}
        return chip, from_dict(RunConfig, data, "run")
    if key in CORES_KEYS:
        rows, cols = cores_grid(value)
        try:
            return override(chip, "grid", [rows, cols]), config
        except SpecError as exc:
            raise SpecError(exc.path, f"{exc.message} (with grid {rows}x{cols} of {key}="
                            f"{value}; --set that field too)") from None
    try:
        return override(chip, key, value), config
    except SpecError:
        bare = key.removeprefix("chip.")
        if bare in {f.name for f in dataclasses.fields(RunConfig)}:
            raise SpecError(key, f"not a chip spec field; run options take the prefix 'run.' "
                            f"(run.{bare})") from None
        raise


def grid_points(chip: Any, config: Any, axes: tuple[Axis, ...] | list[Axis]) -> list[Point]:
    """Every point of the cartesian product of ``axes`` over the base ``(chip, config)``.

    The first axis varies slowest (the order of :func:`itertools.product`). Every value is
    first applied alone to the base (an error names the axis and the value), then every
    combination is built (an error names the point's settings), so a bad sweep fails before
    any point runs.

    Raises
    ------
    ChipsimError
        For a key given twice, a key that is unknown, or a value that is not allowed.

    Examples
    --------
    >>> from chipsim import RunConfig
    >>> from chipsim.spec import hermes
    >>> pts = grid_points(hermes(), RunConfig(), [parse_axis("core.adc_bits=4,8"),
    ...                                           parse_axis("chip.cores=32,64")])
    >>> [(p.settings["core.adc_bits"], p.chip.grid) for p in pts]
    [(4, (4, 8)), (4, (8, 8)), (8, (4, 8)), (8, (8, 8))]
    """
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
