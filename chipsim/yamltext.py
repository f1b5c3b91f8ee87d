"""YAML as the project reads it: numbers as a person writes them, one rule for files and flags.

PyYAML implements YAML 1.1, whose numbers surprise: ``1.2e3`` and ``1e-3`` are text (1.1 wants
a dot and a signed exponent), ``010`` is octal 8 and ``1:30`` is 90 (base 60). :data:`Loader`
reads numbers by the YAML 1.2 core schema instead: decimal integers, ``0x``/``0o`` integers,
floats with or without a dot or an exponent sign, ``.inf`` and ``.nan``. Everything else
(booleans, null, strings, lists, mappings) is read as by ``yaml.safe_load``.

Spec files, mapping files and the values of ``--set`` / ``--grid`` all go through this module,
so a value means the same wherever it is written.

Examples
--------
>>> load_yaml("{a: 1.2e3, b: 010, c: 1:30, d: 0x10}")
{'a': 1200.0, 'b': 10, 'c': '1:30', 'd': 16}
>>> parse_scalar("4ph"), parse_scalar("8x8"), parse_scalar("[3, 17]"), parse_scalar("6")
('4ph', '8x8', [3, 17], 6)
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

__all__ = ["Loader", "load_yaml", "parse_scalar", "GRID_TEXT"]

GRID_TEXT = re.compile(r"^\s*\d+\s*[xX]\s*\d+\s*$")
"""A grid written as ``ROWSxCOLS`` (``8x8``, ``0x10``): text, never a hexadecimal number."""

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the YAML 1.2 core schema's integers and floats."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    return int(text, 16 if text.startswith("0x") else 8 if text.startswith("0o") else 10)


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
    list, made JSON-ready; grid text (``8x8``), blank text, text YAML cannot read and values
    JSON cannot hold (NaN, dates) stay the text itself."""
    if not text.strip() or GRID_TEXT.match(text):
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
