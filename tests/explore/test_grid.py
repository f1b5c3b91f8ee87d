"""Grid parsing and validation: keys, values, the chip.cores pseudo-key, error messages."""

import pytest

from chipsim import RunConfig
from chipsim.cli import main
from chipsim.errors import ChipsimError
from chipsim.explore.grid import (
    Axis,
    cores_grid,
    grid_points,
    parse_axis,
    parse_setting,
    parse_value,
    split_values,
)
from chipsim.explore.sweep import SweepSpec, point_id
from chipsim.spec import hermes


def test_parse_axis_values():
    assert parse_axis("core.adc_bits=4,6,8") == Axis("core.adc_bits", (4, 6, 8))
    assert parse_axis("core.read_mode=1ph, 4ph").values == ("1ph", "4ph")
    assert parse_axis("chip.grid=8x8,16x16").values == ("8x8", "16x16")
    assert parse_axis("run.gdc=true,false").values == (True, False)
    assert parse_axis("run.t_seconds=60,3.6e3").values == (60, 3600.0)
    assert parse_axis("faults.dead_cores=[3,17],[]").values == ([3, 17], [])
    assert split_values("[1,[2,3]],4") == ["[1,[2,3]]", "4"]
    assert parse_value("2020-01-01") == "2020-01-01"  # a YAML date stays text (JSON-ready)
    assert parse_setting("run.transport=offchip") == ("run.transport", "offchip")


@pytest.mark.parametrize("n, grid", [(1, (1, 1)), (7, (1, 7)), (16, (4, 4)), (32, (4, 8)),
                                     (64, (8, 8)), (128, (8, 16)), (256, (16, 16)),
                                     (96, (8, 12))])
def test_cores_grid_most_square(n, grid):
    assert cores_grid(n) == grid
    rows, cols = grid
    assert rows <= cols and rows * cols == n


def test_points_in_grid_order_first_axis_slowest():
    pts = grid_points(hermes(), RunConfig(), [parse_axis("core.adc_bits=4,8"),
                                              parse_axis("chip.cores=32,64,128"),
                                              parse_axis("run.t_seconds=60")])
    assert [p.index for p in pts] == list(range(6))
    assert [(p.chip.core.adc_bits, p.chip.grid) for p in pts] == [
        (4, (4, 8)), (4, (8, 8)), (4, (8, 16)), (8, (4, 8)), (8, (8, 8)), (8, (8, 16))]
    assert all(p.config.t_seconds == 60.0 for p in pts)
    assert list(pts[0].settings) == ["core.adc_bits", "chip.cores", "run.t_seconds"]
    assert len({point_id(p.settings) for p in pts}) == 6


def test_point_id_is_stable():
    # a stored sweep names its point files so: changing the hash breaks every resume
    assert point_id({"core.adc_bits": 4, "chip.cores": 64}) == "30152bba98b2b5b0"


def test_spec_base_applies_flags_then_sets_in_order():
    spec = SweepSpec("resnet9", (parse_axis("core.adc_bits=4"),),
                     sets=(("run.samples", 20), ("core.read_mode", "1ph"), ("grid", "4x4")),
                     samples=10, instances=2)
    chip, config = spec.base()
    assert (config.samples, config.instances, chip.core.read_mode.value, chip.grid) == (
        20, 2, "1ph", (4, 4))


@pytest.mark.parametrize("argv, message", [
    (["--grid", "core.adc_bits=4,x"], "--grid core.adc_bits=x: core.adc_bits: must be an "
     "integer"),
    (["--grid", "core.adc_bit=4"], "did you mean 'adc_bits'"),
    (["--grid", "core.adc_bits"], "--grid 'core.adc_bits': expected KEY=V1,V2"),
    (["--grid", "core.adc_bits="], "empty value"),
    (["--grid", "core.adc_bits=4,,8"], "empty value"),
    (["--grid", "core.adc_bits=4,4"], "value '4' is given twice"),
    (["--grid", "core.read_mode=1ph,2ph"], "--grid core.read_mode=2ph: core.read_mode: must "
     "be one of '1ph', '4ph'"),
    (["--grid", "chip.cores=0"], "chip.cores: must be a whole number of cores >= 1"),
    (["--grid", "chip.cores=64.5"], "chip.cores: must be a whole number"),
    (["--grid", "chip.cores=8"], "--grid chip.cores=8: gdpu_after_row: must be <= grid rows "
     "(2), got 4 (with grid 2x4"),
    (["--grid", "chip.grid=8x8", "--grid", "chip.cores=64"], "--grid chip.cores: the same "
     "setting as --grid chip.grid"),
    (["--grid", "run.foo=1"], "--grid run.foo=1: run.foo: unknown field of RunConfig"),
    (["--grid", "samples=5"], "not a chip spec field; run options take the prefix 'run.'"),
    (["--grid", "run.transport=onchip,bus"], "--grid run.transport=bus"),
    (["--grid", "run.samples=0"], "--grid run.samples=0: run.samples: must be >= 1"),
    (["--grid", "core.adc_bits=4", "--set", "core.adc_bits=6"], "--grid core.adc_bits: also "
     "given with --set core.adc_bits"),
    (["--grid", "core.adc_bits=4", "--set", "core.nope=1"], "--set core.nope=1: core.nope: "
     "unknown field"),
    (["--grid", "core.adc_bits=4", "--set", "foo"], "--set 'foo': expected KEY=VALUE"),
    (["--grid", "core.adc_bits=4", "--samples", "0"], "--samples: must be >= 1"),
    (["--grid", "core.adc_bits=4", "--workers", "0"], "--workers: must be >= 1"),
    (["--grid", "core.adc_bits=4", "--chip", "nochip"], "'nochip' is neither a preset"),
    ([], "--grid: give at least one axis"),
])
def test_bad_grid_is_one_line_exit_2_before_any_work(tmp_path, capsys, argv, message):
    out = tmp_path / "sweep"
    assert main(["sweep", "resnet9", *argv, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chipsim sweep: error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_bad_model_fails_before_any_work(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "nonet", "--grid", "core.adc_bits=4", "--out", str(out)]) == 2
    assert "neither a zoo network" in capsys.readouterr().err
    assert not out.exists()


def test_spec_validates_without_cli():
    with pytest.raises(ChipsimError, match="give at least one axis"):
        SweepSpec("resnet9", ()).points()


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    assert "chipsim sweep resnet9 --grid core.adc_bits=4,6,8 --grid chip.cores=32,64,128" in text
    assert "32 -> 4x8" in text
