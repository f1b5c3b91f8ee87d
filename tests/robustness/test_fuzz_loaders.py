"""Fuzz tests: the loaders raise only their own errors on malformed input.

Random documents (nested mappings of real and invented field names with values of every
JSON type), random mutations of a valid mapping file and random bytes either load or raise
a :class:`~chipsim.spec.SpecError` / :class:`~chipsim.mapping.MappingError` (both
:class:`~chipsim.errors.ChipsimError`): never a ``TypeError``, ``KeyError`` or traceback.
The input gate's limits (:mod:`chipsim.inputs`: size, nesting depth, YAML aliases) refuse
exactly the documents beyond them, at once; data and weights archives with random bytes
changed, cut or inserted, or with random arrays, raise only ``ChipsimError``.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import time

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chipsim.data.user import load_data
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
from chipsim.workload import WorkloadError, build, load_weights, save_weights
from chipsim.yamltext import MAX_ALIAS_VALUES, MAX_DEPTH

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



# ---------------------------------------------------------------------------- the input gate
def _nested(depth, mapping):
    """A JSON value of ``depth`` nested lists or mappings."""
    return ('{"a": ' * depth + "1" + "}" * depth) if mapping else "[" * depth + "]" * depth


@SETTINGS
@given(depth=st.integers(1, 3 * MAX_DEPTH), mapping=st.booleans(), as_json=st.booleans())
def test_nesting_beyond_the_limit_is_refused_at_once(tmp_path, depth, mapping, as_json):
    path = tmp_path / ("chip.json" if as_json else "chip.yaml")
    path.write_text(f'{{"core": {_nested(depth, mapping)}}}')  # JSON is YAML too
    start = time.perf_counter()
    try:
        load_chip(path)
    except SpecError as exc:
        assert ("nested deeper than 100 levels" in str(exc)) == (1 + depth > MAX_DEPTH)
    assert time.perf_counter() - start < 1


@SETTINGS
@given(fanout=st.integers(1, 12), levels=st.integers(1, 8))
def test_aliases_beyond_the_limit_are_refused_at_once(tmp_path, fanout, levels):
    """Anchor ``a0`` is a list of ``fanout`` scalars, ``a<i>`` a list of ``fanout`` aliases
    of ``a<i-1>``: the aliases repeat ``fanout`` times the values of each level below."""
    anchors = [f"&a0 [{', '.join(['x'] * fanout)}]"] + [
        f"&a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]" for i in range(1, levels)]
    path = tmp_path / "chip.yaml"
    path.write_text(f"core: {{adc_bits: [{', '.join(anchors)}]}}\n")
    size, repeated = 1 + fanout, 0  # values of a0 (itself and its scalars)
    for _ in range(1, levels):
        repeated += fanout * size
        size = 1 + fanout * size
    start = time.perf_counter()
    with pytest.raises(SpecError) as err:
        load_chip(path)
    assert ("aliases repeat more than" in str(err.value)) == (repeated > MAX_ALIAS_VALUES)
    assert len(str(err.value)) < 300
    assert time.perf_counter() - start < 1


@SETTINGS
@given(size=st.integers(0, 5000), as_json=st.booleans())
def test_files_beyond_the_size_cap_are_refused(tmp_path, monkeypatch, size, as_json):
    monkeypatch.setenv("CHIPSIM_MAX_INPUT_MB", "0.002")  # 2,097 bytes
    path = tmp_path / ("chip.json" if as_json else "chip.yaml")
    path.write_text("{}" + " " * size)
    try:
        load_chip(path)
    except SpecError as exc:
        assert "allowed for a" in str(exc) and 2 + size > 2097
    else:
        assert 2 + size <= 2097


# ---------------------------------------------------------------------------- data and weights
_LSTM = build("lstm-ptb", vocab=20, embed=8, hidden=16)


def _data_bytes(compressed):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 20, (6, 8)), rng.integers(0, 20, (6, 8))
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, x=x, y=y, x_calib=x[:2])
    return buf.getvalue()


_DATA = {False: _data_bytes(False), True: _data_bytes(True)}


def _corrupt(data, pos, junk, how):
    i = pos % len(data)
    if how == "cut":
        return data[:i]
    if how == "insert":
        return data[:i] + junk + data[i:]
    return data[:i] + junk + data[i + len(junk):]


_CORRUPTION = {"pos": st.integers(0, 10**6), "junk": st.binary(min_size=1, max_size=8),
               "how": st.sampled_from(["cut", "insert", "overwrite"])}
#: more examples for archives: a zip directory's few fields that matter are a small target
ARCHIVE_SETTINGS = settings(SETTINGS, max_examples=400)


@ARCHIVE_SETTINGS
@given(compressed=st.booleans(), **_CORRUPTION)
def test_data_files_with_corrupted_bytes_only_chipsim_errors(tmp_path, compressed, pos, junk,
                                                             how):
    path = tmp_path / "d.npz"
    path.write_bytes(_corrupt(_DATA[compressed], pos, junk, how))
    try:
        load_data(path, _LSTM)
    except ChipsimError as exc:
        assert str(exc).startswith(f"data {path}") and "\n" not in str(exc)


_ARRAYS = st.dictionaries(
    st.sampled_from(["x", "y", "x_calib", "z"]),
    hnp.arrays(st.sampled_from([np.int64, np.int8, np.uint16, np.float32, np.float64, np.bool_,
                                np.complex64, "U2"]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=8)),
    max_size=4)


@SETTINGS
@given(arrays=_ARRAYS)
def test_data_files_of_random_arrays_only_chipsim_errors(tmp_path, arrays):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    try:
        load_data(path, _LSTM)
    except ChipsimError as exc:
        assert str(exc).startswith(f"data {path}") and "\n" not in str(exc)


@ARCHIVE_SETTINGS
@given(**_CORRUPTION)
def test_weights_files_with_corrupted_bytes_only_workload_errors(tmp_path, pos, junk, how):
    good = tmp_path / "good.npz"
    if not good.exists():
        save_weights(_LSTM, good)
    path = tmp_path / "w.npz"
    path.write_bytes(_corrupt(good.read_bytes(), pos, junk, how))
    try:
        load_weights(path)
    except WorkloadError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
