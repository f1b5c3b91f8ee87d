"""One YAML reading for spec files, mapping files and --set/--grid values: YAML 1.2 numbers."""

import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chipsim.cli import main
from chipsim.spec import SpecError, hermes, load_chip, override
from chipsim.yamltext import load_yaml, parse_scalar


@pytest.mark.parametrize("text, value", [
    ("1e3", 1000.0), ("1.2e3", 1200.0), ("-1.5E-3", -0.0015), (".5", 0.5), ("1.", 1.0),
    ("+2", 2), ("010", 10), ("0o17", "0o17"), ("0x1F", "0x1F"), ("0x10", "0x10"), ("-7", -7),
    (".inf", math.inf), ("-.Inf", -math.inf), ("true", True), ("null", None),
    ("1:30", "1:30"), ("4ph", "4ph"), ("8x8", "8x8"), ("[1, 2.5e2]", [1, 250.0]),
])
def test_numbers_read_as_yaml_1_2(text, value):
    assert load_yaml(f"v: {text}") == {"v": value}


def test_nan_reads_as_a_float():
    assert math.isnan(load_yaml("v: .nan")["v"])


@given(st.floats(allow_nan=False) | st.integers(-10**12, 10**12))
def test_numbers_yaml_writes_read_back_the_same(x):
    assert load_yaml(yaml.safe_dump({"v": x}))["v"] == x


def test_scalars_of_flags():
    # grid text is a grid, not a number; what JSON cannot hold stays text
    assert parse_scalar("0x10") == "0x10" and parse_scalar("16X16") == "16X16"
    assert parse_scalar("3.6e3") == 3600.0 and parse_scalar("6") == 6
    assert parse_scalar(".nan") == ".nan" and parse_scalar("2020-01-01") == "2020-01-01"
    assert parse_scalar("[3,") == "[3," and parse_scalar(" ") == " "


def test_spec_file_and_override_read_exponents(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("core: {mvm_clock_mhz: 1.2e3, adc_bits: 06}\n")
    chip = load_chip(p)
    assert chip.core.mvm_clock_mhz == 1200.0 and chip.core.adc_bits == 6
    assert override(hermes(), "core.mvm_clock_mhz", "1.2e3").core.mvm_clock_mhz == 1200.0
    p.write_text("grid: 0x10\n")  # a grid of 0 rows, not hexadecimal 16
    with pytest.raises(SpecError, match=r"grid\[0\]: must be >= 1"):
        load_chip(p)


def test_sweep_grid_of_0x10_names_the_grid(tmp_path, capsys):
    assert main(["sweep", "resnet9", "--grid", "chip.grid=0x10,8x8",
                 "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "chip.grid=0x10" in err and "grid[0]" in err

