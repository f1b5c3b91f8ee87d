"""YAML as the project reads it: numbers as a person writes them, one rule for files and flags.

PyYAML implements YAML 1.1, whose numbers surprise: ``1.2e3`` and ``1e-3`` are text (1.1 wants
a dot and a signed exponent), ``010`` is octal 8, ``1:30`` is 90 (base 60) and ``0x10`` is
16, where this project means a grid of 0 × 10 cores. :class:`Loader` reads numbers as the YAML
1.2 core schema's decimal ones: integers, and floats with or without a dot or an exponent
sign, ``.inf`` and ``.nan``; any other text stays text. Everything else (booleans, null,
strings, lists, mappings) is read as by ``yaml.safe_load``.

Spec files, mapping files and the values of ``--set`` / ``--grid`` all go through this module,
so a value means the same wherever it is written.

Examples
--------
>>> load_yaml("{a: 1.2e3, b: 010, c: 1:30, d: 0x10}")
{'a': 1200.0, 'b': 10, 'c': '1:30', 'd': '0x10'}
>>> parse_scalar("4ph"), parse_scalar("8x8"), parse_scalar("[3, 17]"), parse_scalar("6")
('4ph', '8x8', [3, 17], 6)
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

__all__ = ["Loader", "load_yaml", "parse_scalar"]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the YAML 1.2 core schema's decimal integers and floats."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node), 10)  # "010" is ten


def _construct_float(loader: Loader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith((".inf", ".nan")):
        return float(text.replace(".", ""))
    return float(text)


Loader.add_constructor(_INT, _construct_int)
Loader.add_constructor(_FLOAT, _construct_float)


def load_yaml(text: str) -> Any:
    """The YAML document ``text`` read with :class:`Loader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 (Loader is a SafeLoader)


def parse_scalar(text: str) -> Any:
    """A value of ``--set``/``--grid`` (or a string override): read as a YAML scalar or flow
    list, made JSON-ready; blank text, text YAML cannot read and values JSON cannot hold (NaN,
    dates) stay the text itself, as does grid text (``8x8``, ``0x10``)."""
    if not text.strip():
        return text
    try:
        value = load_yaml(text)
    except yaml.YAMLError:
        return text
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return text
    return value
