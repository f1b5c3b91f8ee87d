"""Settings: ``KEY=VALUE`` changes of a design point, one way for ``--set``, ``--grid`` and
the library.

A key is one of

- a chip spec field by its dotted path (``core.adc_bits``, ``core.read_mode``, ``chip.grid``
  or ``grid``, ``core.devices_per_polarity``, ``device.model``, ``network.topology``,
  ``host.bandwidth_gbps``, ``buffers.psum_vectors``, ...), validated as in a spec file
  (:func:`chipsim.spec.override`);
- the pseudo-key ``chip.cores`` (or ``cores``): a number of cores, which sets the chip's
  ``grid`` to the most square factorisation, rows <= columns (:func:`cores_grid`: 32 → 4x8,
  64 → 8x8, 128 → 8x16, a prime p → 1xp). Only the grid changes: the GDPU slices and their
  position stay those of the base chip;
- a :class:`~chipsim.RunConfig` field with the prefix ``run.`` (``run.t_seconds``,
  ``run.transport``, ``run.seed``, ...).

Values given as text are read as YAML scalars (``6`` is a number, ``4ph`` and ``8x8`` are
strings, ``[3,17]`` is a list).

Examples
--------
>>> from chipsim import RunConfig
>>> from chipsim.spec import hermes
>>> chip, config = apply_settings(hermes(), RunConfig(),
...                               {"core.adc_bits": 6, "chip.cores": 128, "run.samples": 50})
>>> chip.core.adc_bits, chip.grid, config.samples
(6, (8, 16), 50)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ChipsimError
from .spec import CORES_KEYS, cores_grid

__all__ = ["CORES_KEYS", "parse_value", "parse_setting", "cores_grid", "canonical_key",
           "apply_setting", "apply_settings"]


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
    from .yamltext import parse_scalar

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
    from .config import RunConfig
    from .spec import SpecError, from_dict, override, to_dict

    if key.startswith("run."):
        field = key.removeprefix("run.")
        data = {**to_dict(config), field: value}
        return chip, from_dict(RunConfig, data, "run")
    try:
        return override(chip, key, value), config
    except SpecError:
        bare = key.removeprefix("chip.")
        if bare in {f.name for f in dataclasses.fields(RunConfig)}:
            raise SpecError(key, f"not a chip spec field; run options take the prefix 'run.' "
                            f"(run.{bare})") from None
        raise


def apply_settings(chip: Any, config: Any, settings: Mapping[str, Any] | Iterable[tuple[str, Any]]
                   ) -> tuple[Any, Any]:
    """``(chip, config)`` with every setting applied in order (a mapping or ``(key, value)``
    pairs; values as :func:`apply_setting` takes them)."""
    items = settings.items() if isinstance(settings, Mapping) else settings
    for key, value in items:
        chip, config = apply_setting(chip, config, key, value)
    return chip, config
