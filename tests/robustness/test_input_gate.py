"""The input gate (:mod:`chipsim.inputs`) below the command line: archives that would inflate
or allocate more than the cap are refused from their directory and headers, caps can be
raised, documents at the limits read quickly, and the limits do not refuse what the tool
itself writes or what YAML allows."""

from __future__ import annotations

import os
import re
import struct
import time
import zipfile

import numpy as np
import pytest
import yaml

from chipsim.data.user import load_data
from chipsim.errors import ChipsimError
from chipsim.inputs import CAPS_MB, FileKind, parse_document, read_document
from chipsim.mapping import map_workload, mapping_to_dict
from chipsim.mapping.io import _BLOCK_FIELDS, _FIELDS, _LAYER_FIELDS
from chipsim.spec import SpecError, hermes16, load_chip, override
from chipsim.workload import WorkloadError, build, load_weights, save_weights
from chipsim.yamltext import MAX_ALIAS_VALUES, MAX_DEPTH, load_yaml

from .conftest import chain_layers

KIND = FileKind("test file")


@pytest.fixture(scope="module")
def lstm():
    return build("lstm-ptb", vocab=20, embed=8, hidden=16)


def _declare(path, size):
    """Make every member of the zip archive ``path`` declare ``size`` uncompressed bytes in
    the central directory (what a zip bomb declares; zipfile reads sizes from there)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 24:at + 28] = struct.pack("<I", size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path, lstm):
    data = tmp_path / "d.npz"
    np.savez(data, x=np.zeros((4, 8), np.int64), y=np.zeros((4, 8), np.int64))
    _declare(data, 3 << 30)  # two members of 3 GiB each, more than the 4096 MB cap
    weights = save_weights(lstm, tmp_path / "w.npz")
    _declare(weights, 0xFFFFFFFF)
    start = time.perf_counter()
    with pytest.raises(ChipsimError, match=r"^data .*d.npz: cannot read the data file: its "
                       r"arrays take 6,144 MB uncompressed, more than the 4,096 MB allowed"):
        load_data(data, lstm)
    with pytest.raises(WorkloadError, match=r"w.npz: cannot read the chipsim weights file: its "
                       r"arrays take [\d,]+ MB uncompressed"):
        load_weights(weights)
    assert time.perf_counter() - start < 2  # nothing was inflated


def test_a_lying_npy_header_is_refused_before_numpy_allocates(tmp_path):
    path = tmp_path / "w.npz"
    header = {"descr": "<f4", "fortran_order": False, "shape": (1 << 20, 1 << 20)}
    with zipfile.ZipFile(path, "w") as z, z.open("header.npy", "w") as member:
        np.lib.format.write_array_header_2_0(member, header)
        member.write(b"\0" * 64)
    with pytest.raises(WorkloadError, match=r"w.npz: array 'header': its header declares shape "
                       r"\(1048576, 1048576\) of float32 \(4,194,304 MB\) but the archive holds "
                       r"\d+ bytes for it"):
        load_weights(path)


def test_the_cap_is_raised_by_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "chip.yaml"
    path.write_text("# " + "x" * 3000 + "\ncore: {adc_bits: 6}\n")
    monkeypatch.setenv("CHIPSIM_MAX_INPUT_MB", "0.001")
    with pytest.raises(SpecError, match="3 kB is more than the 1 kB allowed for a YAML file"):
        load_chip(path)
    monkeypatch.setenv("CHIPSIM_MAX_INPUT_MB", "1")
    assert load_chip(path).core.adc_bits == 6


def test_a_yaml_file_of_comments_as_large_as_the_cap_reads_at_once(tmp_path):
    path = tmp_path / "chip.yaml"
    line = "# " + "x" * 1000 + "\n"
    path.write_text(line * ((CAPS_MB["yaml"] << 20) // len(line)))
    start = time.perf_counter()
    with pytest.raises(SpecError, match="chip.yaml: empty chip spec file; write {}"):
        load_chip(path)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("text, message", [
    ("a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 50 + "*a" + "]" * 50,
     "nested deeper than 100 levels (through aliases) (line 2, column 13)"),
    ("".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "x"] * 10) + "]\n"
             for i in range(6)), "aliases repeat more than 100,000 values"),
    ("a: &a {b: *a}", "alias *a refers to a value that contains it"),
    ("a: 1\na: 2", "duplicate key 'a' (line 2, column 1)"),
    ("{1: x, 1: y}", "duplicate key 1"),
])
def test_yaml_limits(text, message):
    start = time.perf_counter()
    with pytest.raises(ChipsimError, match="^f.yaml: not valid YAML: " + re.escape(message)):
        parse_document(text, "yaml", "f.yaml", KIND)
    assert time.perf_counter() - start < 1


def test_what_yaml_allows_still_reads():
    assert load_yaml("base: &b {x: 1, y: 2}\nc: {<<: *b, x: 3}")["c"] == {"x": 3, "y": 2}
    doc = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 99) + "]"
    assert len(load_yaml(doc)["b"]) == 99  # 99,000 values repeated: within the cap
    assert MAX_ALIAS_VALUES == 100_000
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_document(deep, "yaml", "f", KIND) == parse_document(deep, "json", "f", KIND)


def test_json_limits():
    for text, message in [("[" * 101 + "]" * 101, "nested deeper than 100 levels"),
                          ("[" * 10**5 + "]" * 10**5, "nested deeper than 100 levels"),
                          ('{"a": 1, "a": 1}', "duplicate key 'a'"),
                          ("9" * 5000, "Exceeds the limit (4300 digits) for integer string "
                           "conversion: value has 5000 digits"),
                          ("\n", "empty test file")]:
        with pytest.raises(ChipsimError) as err:
            parse_document(text, "json", "f.json", KIND)
        assert str(err.value).endswith(message), str(err.value)


def test_mapping_fields_are_those_the_tool_writes():
    # a system of chips writes every field (its chips, each block's chip); one chip, the rest
    data = mapping_to_dict(map_workload(chain_layers(), override(hermes16(), "system.chips", 2)))
    assert tuple(data) == _FIELDS
    assert tuple(data["layers"][0]) == _LAYER_FIELDS
    assert tuple(data["blocks"][0]) == _BLOCK_FIELDS
    one = mapping_to_dict(map_workload(chain_layers(), hermes16()))
    assert tuple(one) == tuple(f for f in _FIELDS if f != "chips")
    assert tuple(one["blocks"][0]) == tuple(f for f in _BLOCK_FIELDS if f != "chip")


def test_a_file_that_grows_after_the_check_is_still_capped(tmp_path, monkeypatch):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n")
    monkeypatch.setenv("CHIPSIM_MAX_INPUT_MB", "0.001")
    fdopen = os.fdopen

    def grow_then_open(fd, *args, **kwargs):  # the file grows after os.stat checked it
        with open(path, "a") as fh:
            fh.write("#" * 5000)
        return fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", grow_then_open)
    with pytest.raises(ChipsimError, match="f.yaml: cannot read the test file: 5 kB is more "
                       "than the 1 kB allowed for a YAML file"):
        read_document(path, KIND)


def test_not_valid_yaml_names_the_line():
    with pytest.raises(ChipsimError, match=r"^f.yaml: not valid YAML: mapping values are not "
                       r"allowed in this context \(line 3, column 5\)$"):
        parse_document("a: 1\nb: 2\nc: d: e\n", "yaml", "f.yaml", KIND)
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: *nowhere")
