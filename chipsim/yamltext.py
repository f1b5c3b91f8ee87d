"""YAML as the project reads it: numbers as a person writes them, one rule for files and flags.

PyYAML implements YAML 1.1, whose numbers surprise: ``1.2e3`` and ``1e-3`` are text (1.1 wants
a dot and a signed exponent), ``010`` is octal 8, ``1:30`` is 90 (base 60) and ``0x10`` is
16, where this project means a grid of 0 × 10 cores. :class:`Loader` reads numbers as the YAML
1.2 core schema's decimal ones: integers, and floats with or without a dot or an exponent
sign, ``.inf`` and ``.nan``; any other text stays text. Everything else (booleans, null,
strings, lists, mappings) is read as by ``yaml.safe_load``.

Spec files, mapping files and the values of ``--set`` / ``--grid`` all go through this module,
so a value means the same wherever it is written.

A document is refused (a ``yaml.YAMLError`` naming the line) before any value is built when
its lists and mappings nest deeper than :data:`MAX_DEPTH` levels, when its aliases
(``*name``) repeat more than :data:`MAX_ALIAS_VALUES` values in all (a "billion laughs"
document) or contain themselves, and when a mapping has a key twice. libyaml's parser is
used when PyYAML has it (about four times faster than pure Python).

Examples
--------
>>> load_yaml("{a: 1.2e3, b: 010, c: 1:30, d: 0x10}")
{'a': 1200.0, 'b': 10, 'c': '1:30', 'd': '0x10'}
>>> parse_scalar("4ph"), parse_scalar("8x8"), parse_scalar("[3, 17]"), parse_scalar("6")
('4ph', '8x8', [3, 17], 6)
>>> load_yaml("{adc_bits: 6, adc_bits: 4}")
Traceback (most recent call last):
...
yaml.constructor.ConstructorError: duplicate key 'adc_bits'
  in "<unicode string>", line 1, column 15
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from .errors import brief

try:  # libyaml's parser, when PyYAML was built with it
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover (PyYAML wheels ship libyaml)
    _CParser = None

__all__ = ["Loader", "load_yaml", "parse_scalar", "MAX_DEPTH", "MAX_ALIAS_VALUES"]

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings in a document (spec files nest 3 levels)."""
MAX_ALIAS_VALUES = 100_000
"""Values that the aliases of one document may repeat, all aliases together."""

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class _Composer(Composer):
    """PyYAML's composer with the limits of the module docstring, checked node by node."""

    def __init__(self) -> None:
        super().__init__()
        self._open = 0  # lists and mappings being composed
        self._repeated = 0  # values repeated by aliases so far
        # id(list or mapping node) -> (values, depth) with aliases expanded; a scalar is (1, 0)
        self._size: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """The next node, after the checks (the base class does the composing)."""
        event = self.peek_event()
        if isinstance(event, ScalarEvent):
            return super().compose_node(parent, index)
        if isinstance(event, AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:  # an undefined alias is the base class's error
                self._repeat(node, event)
            return super().compose_node(parent, index)
        self._open += 1
        if self._open > MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                event.start_mark)
        node = super().compose_node(parent, index)
        self._open -= 1
        values, depth = 1, 0
        for child in (node.value if isinstance(node, SequenceNode)
                      else [n for pair in node.value for n in pair]):
            v, d = self._size.get(id(child), _SCALAR)
            values, depth = values + v, max(depth, d)
        if depth >= MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels (through "
                                "aliases)", node.start_mark)
        self._size[id(node)] = (values, depth + 1)
        return node

    def _repeat(self, node: Node, event: AliasEvent) -> None:
        if isinstance(node, ScalarNode):
            values = 1
        elif id(node) in self._size:
            values = self._size[id(node)][0]
        else:  # still being composed: the alias is inside it
            raise ComposerError(None, None, f"alias *{event.anchor} refers to a value that "
                                "contains it", event.start_mark)
        self._repeated += values
        if self._repeated > MAX_ALIAS_VALUES:
            raise ComposerError(None, None, f"aliases repeat more than {MAX_ALIAS_VALUES:,} "
                                "values (alias expansion is capped)", event.start_mark)


_SCALAR = (1, 0)
_PARSER = (_CParser,) if _CParser else (yaml.reader.Reader, yaml.scanner.Scanner,
                                        yaml.parser.Parser)


class Loader(_Composer, *_PARSER, SafeConstructor, Resolver):
    """Like ``yaml.SafeLoader``, with the YAML 1.2 core schema's decimal integers and floats and
    the limits of the module docstring (libyaml's parser when there is one)."""

    def __init__(self, stream: str) -> None:
        if _CParser:
            _CParser.__init__(self, stream)
        else:  # pragma: no cover
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
        _Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._tags: dict[tuple[str, Any], str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        """The tag of a node, as PyYAML resolves it, remembered per scalar text (a document
        repeats its keys and many values)."""
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        """A mapping whose keys are all different (merged keys ``<<`` may be overridden)."""
        if isinstance(node, MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    if key in seen:
                        raise ConstructorError(None, None, f"duplicate key {brief(key)}",
                                               key_node.start_mark)
                    seen.add(key)
                except TypeError:  # an unhashable key: the base class says so
                    pass
        return super().construct_mapping(node, deep)


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    try:
        return int(text, 10)  # "010" is ten
    except ValueError:  # more digits than Python reads (sys.get_int_max_str_digits())
        raise ConstructorError(None, None, f"an integer of {len(text):,} digits is too long",
                               node.start_mark) from None


def _construct_float(loader: Loader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith((".inf", ".nan")):
        return float(text.replace(".", ""))
    return float(text)


Loader.add_constructor(_INT, _construct_int)
Loader.add_constructor(_FLOAT, _construct_float)


def load_yaml(text: str) -> Any:
    """The YAML document ``text`` read with :class:`Loader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 (SafeConstructor: plain values only)


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
