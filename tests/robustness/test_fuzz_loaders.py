"""Fuzz tests: the spec and mapping loaders raise only their own errors on malformed input.

Random documents (nested mappings of real and invented field names with values of every
JSON type), random mutations of a valid mapping file and random bytes either load or raise
a :class:`~chipsim.spec.SpecError` / :class:`~chipsim.mapping.MappingError` (both
:class:`~chipsim.errors.ChipsimError`): never a ``TypeError``, ``KeyError`` or traceback.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipsim.errors import ChipsimError
from chipsim.mapping import (
    MappingError,
    dumps_mapping,
    load_mapping,
    map_workload,
    mapping_from_dict,
    mapping_to_dict,
)
from chipsim.spec import ChipSpec, SpecError, from_dict, hermes16, load_chip, override, to_dict
from chipsim.spec.faults import FaultSpec

from .conftest import chain_layers

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

#: every field name of the chip spec, at any depth, and a few invented ones
_NAMES = sorted({f.name for cls in (ChipSpec, FaultSpec) for f in dataclasses.fields(cls)}
                | {f.name for f in dataclasses.fields(ChipSpec().core)}
                | {f.name for f in dataclasses.fields(ChipSpec().network)}
                | {"adc_bit", "cores", "x", ""})
_SCALARS = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=8) | st.sampled_from(["8x8", "4ph", "1ph", "mesh", "hermes"]))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(_NAMES), inner, max_size=4),
    max_leaves=12)
_DOCS = st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=5) | _VALUES


@SETTINGS
@given(doc=_DOCS)
def test_spec_from_random_documents_only_spec_errors(doc):
    try:
        chip = from_dict(ChipSpec, doc)
    except SpecError as exc:
        assert str(exc)
        return
    assert isinstance(chip, ChipSpec)


def test_spec_with_any_one_field_replaced_only_spec_errors():
    """Every field of a valid spec (nested and in the fault lists), replaced by every kind
    of wrong value: a SpecError or a valid chip, nothing else (exhaustive)."""
    chip = override(hermes16(), "faults.broken_links", "[[0, 1]]")
    chip = override(chip, "faults.dead_adc_columns", "[[2, 3]]")
    valid = to_dict(override(chip, "faults.dead_cores", "[5]"))
    for path in [p for p in _paths(valid) if p]:
        for value in [*_JUNK, -(10**9), 10**12, "8x8", "0x0"]:
            doc = copy.deepcopy(valid)
            _set(doc, path, value)
            try:
                from_dict(ChipSpec, doc)
            except SpecError as exc:
                assert str(exc)


@SETTINGS
@given(doc=_DOCS, as_json=st.booleans())
def test_spec_files_from_random_documents_only_spec_errors(tmp_path, doc, as_json):
    path = tmp_path / ("chip.json" if as_json else "chip.yaml")
    try:
        text = json.dumps(doc) if as_json else yaml.safe_dump(doc)
    except ValueError:  # NaN in strict JSON: write it the YAML way
        text = yaml.safe_dump(doc)
    path.write_text(text)
    try:
        load_chip(path)
    except SpecError as exc:
        assert str(exc)


@SETTINGS
@given(data=st.binary(max_size=200))
def test_spec_files_of_random_bytes_only_spec_errors(tmp_path, data):
    path = tmp_path / "chip.yaml"
    path.write_bytes(data)
    try:
        load_chip(path)
    except SpecError as exc:
        assert str(exc)


@SETTINGS
@given(key=st.sampled_from(_NAMES + ["core.adc_bits", "faults.dead_cores", "faults.broken_links",
                                     "faults.dead_adc_columns", "chip.grid", "core..x", "a.b.c"]),
       value=st.text(max_size=12) | _SCALARS)
def test_override_only_spec_errors(key, value):
    try:
        override(hermes16(), key, value)
    except SpecError as exc:
        assert str(exc)


# ---------------------------------------------------------------------------- mapping files
_LAYERS = chain_layers()
_CHIP = hermes16()
_VALID = mapping_to_dict(map_workload(_LAYERS, _CHIP))


def _paths(node, prefix=()):
    """Every (path) of a nested dict/list document."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


_ALL_PATHS = [p for p in _paths(_VALID) if p]


def _set(doc, path, value):
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def _delete(doc, path):
    node = doc
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]


_TOP = [p for p in _ALL_PATHS if len(p) <= 2]
_MUTATION = st.tuples(st.sampled_from(["set", "delete", "dup"]),
                      st.sampled_from(_TOP) | st.sampled_from(_ALL_PATHS), _VALUES)
_JUNK = [None, True, -1, 5, 1.5, float("nan"), "x", "", [], [1], [1, 2, 3], {}, {"a": 1}]


def test_mapping_with_any_one_field_replaced_only_mapping_errors():
    """Every field of a valid mapping file, replaced by every kind of wrong value, or
    deleted: a MappingError or a valid mapping, nothing else (exhaustive, ~1,500 cases)."""
    for path in _ALL_PATHS:
        for value in [*_JUNK, "delete"]:
            doc = copy.deepcopy(_VALID)
            if value == "delete":
                _delete(doc, path)
            else:
                _set(doc, path, value)
            try:
                mapping_from_dict(doc, _LAYERS, _CHIP)
            except MappingError as exc:
                assert str(exc)


@SETTINGS
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=4))
def test_mapping_from_mutated_documents_only_mapping_errors(mutations):
    doc = copy.deepcopy(_VALID)
    for op, path, value in mutations:
        try:
            if op == "set":
                _set(doc, path, value)
            elif op == "delete":
                _delete(doc, path)
            else:  # duplicate a block or layer entry
                doc["blocks"].append(copy.deepcopy(doc["blocks"][path[-1] % len(doc["blocks"])]))
        except (KeyError, IndexError, TypeError, ZeroDivisionError, AttributeError):
            continue  # the path no longer exists, or "blocks" is no list, after an earlier one
    try:
        mapping_from_dict(doc, _LAYERS, _CHIP)
    except MappingError as exc:
        assert str(exc)


@SETTINGS
@given(pos=st.integers(0, 10**6), junk=st.binary(min_size=1, max_size=8),
       cut=st.booleans())
def test_mapping_files_with_corrupted_bytes_only_chipsim_errors(tmp_path, pos, junk, cut):
    text = dumps_mapping(map_workload(_LAYERS, _CHIP)).encode()
    i = pos % len(text)
    data = text[:i] if cut else text[:i] + junk + text[i + len(junk):]
    path = tmp_path / "mapping.yaml"
    path.write_bytes(data)
    try:
        load_mapping(path, _LAYERS, _CHIP)
    except ChipsimError as exc:
        assert str(exc)
