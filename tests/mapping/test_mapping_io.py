"""Mapping files: round trip, and hand-edited files rejected with the block named."""

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipsim.mapping import MappingError, dumps_mapping, load_mapping, map_workload, save_mapping
from chipsim.spec import ChipSpec, CoreSpec, hermes, hermes16
from chipsim.workload.lowered import LoweredLayer


@pytest.fixture
def saved(tmp_path, resnet9_layers):
    m = map_workload(resnet9_layers, hermes(), workload_name="resnet9")
    path = save_mapping(m, tmp_path / "mapping.yaml")
    return m, path


def edit(path, change):
    """Apply ``change`` to the file's data and write it back (as a person would)."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def block(data, layer, index, replica=0):
    return next(b for b in data["blocks"]
                if (b["layer"], b["replica"], b["index"]) == (layer, replica, index))


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_round_trip_is_identical(tmp_path, resnet9_layers, suffix):
    m = map_workload(resnet9_layers, hermes(), replicate=True, exclude=(), workload_name="r9")
    path = save_mapping(m, tmp_path / f"m{suffix}")
    assert load_mapping(path, resnet9_layers, hermes()) == m
    assert not list(tmp_path.glob(".*tmp"))      # the temporary file is gone
    if suffix == ".json":
        assert json.loads(path.read_text())["cores_used"] == 64


def test_file_is_readable_one_line_per_block(saved):
    m, path = saved
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# chipsim mapping")
    block_lines = [ln for ln in lines if ln.startswith("- {layer:")]
    assert len(block_lines) == 40
    b = m.blocks_of("conv5")[3]
    assert (f"- {{layer: conv5, replica: 0, index: 3, rows: [756, 1008], cols: [0, 224], "
            f"core: {b.core}}}") in lines


@st.composite
def small_cases(draw):
    core = (draw(st.integers(4, 40)), draw(st.integers(4, 40)))
    chip = ChipSpec(name="t", grid=(4, 4), core=CoreSpec(rows=core[0], cols=core[1]),
                    gdpu_after_row=0)
    layers = []
    for i in range(draw(st.integers(1, 3))):
        layers.append(LoweredLayer(f"layer.{i}", "conv", draw(st.integers(1, 2 * core[0])),
                                   draw(st.integers(1, 2 * core[1])), draw(st.integers(1, 50)),
                                   (f"layer.{i - 1}",) if i else ()))
    return chip, tuple(layers)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=small_cases(), replicate=st.booleans(), exclude=st.sets(st.integers(0, 15),
                                                                      max_size=3),
       suffix=st.sampled_from([".yaml", ".json"]))
def test_round_trip_property(tmp_path, case, replicate, exclude, suffix):
    chip, layers = case
    m = map_workload(layers, chip, replicate=replicate, exclude=exclude, workload_name="w")
    path = save_mapping(m, tmp_path / f"mapping{suffix}")
    assert load_mapping(path, layers, chip) == m


def test_same_core_twice_is_an_overlap(saved, resnet9_layers):
    m, path = saved
    target = m.blocks_of("conv2")[0].core

    def change(d):
        block(d, "conv5", 3)["core"] = target

    with pytest.raises(MappingError) as info:
        load_mapping(edit(path, change), resnet9_layers, hermes())
    msg = str(info.value)
    assert str(path) in msg and "overlap" in msg
    assert f"layer 'conv5' replica 0 block 3 (core {target})" in msg
    assert f"layer 'conv2' replica 0 block 0 (core {target})" in msg


def test_overlapping_ranges_within_a_layer(saved, resnet9_layers):
    m, path = saved
    core = m.blocks_of("conv5")[3].core

    def change(d):
        block(d, "conv5", 3)["rows"] = [700, 952]

    with pytest.raises(MappingError, match=rf"overlap: layer 'conv5' replica 0 block 3 "
                       rf"\(core {core}\) \(rows \[700, 952\).*overlaps layer 'conv5' replica 0 "
                       r"block 2"):
        load_mapping(edit(path, change), resnet9_layers, hermes())


def test_missing_block(saved, resnet9_layers):
    _, path = saved

    def change(d):
        d["blocks"].remove(block(d, "conv5", 3))

    with pytest.raises(MappingError, match=r"missing block: layer 'conv5' replica 0 block 3 "
                       r"\(rows \[756, 1008\) × cols \[0, 224\)"):
        load_mapping(edit(path, change), resnet9_layers, hermes())


def test_missing_layer_and_missing_replica(tmp_path, resnet9_layers):
    m = map_workload(resnet9_layers, hermes(), replicate=True)
    path = save_mapping(m, tmp_path / "m.yaml")

    def drop_fc(d):
        d["blocks"] = [b for b in d["blocks"] if b["layer"] != "fc"]

    with pytest.raises(MappingError, match="layer 'fc' has no blocks"):
        load_mapping(edit(path, drop_fc), resnet9_layers, hermes())
    path = save_mapping(m, tmp_path / "m.yaml")

    def drop_replica(d):
        d["blocks"] = [b for b in d["blocks"] if (b["layer"], b["replica"]) != ("conv0", 2)]

    with pytest.raises(MappingError, match="layer 'conv0' has replica 3 but no replica 2"):
        load_mapping(edit(path, drop_replica), resnet9_layers, hermes())


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("core", 64, "out of range: core 64 is not on chip 'hermes' (cores 0..63)"),
    ("core", -1, "out of range: core -1 is not on chip"),
    ("rows", [1800, 2100], "out of range: rows [1800, 2100) is not a non-empty range of the "
     "2016×224 matrix"),
    ("cols", [10, 10], "out of range: cols [10, 10) is not a non-empty range"),
    ("rows", [0, 300], "out of range: 300 rows exceed the core's 256"),
])
def test_out_of_range_block(saved, resnet9_layers, field, value, needle):
    m, path = saved
    core = value if field == "core" else m.blocks_of("conv5")[3].core

    def change(d):
        block(d, "conv5", 3)[field] = value

    with pytest.raises(MappingError) as info:
        load_mapping(edit(path, change), resnet9_layers, hermes())
    assert f"layer 'conv5' replica 0 block 3 (core {core})" in str(info.value)
    assert needle in str(info.value)


def test_unknown_layer(saved, resnet9_layers):
    _, path = saved

    def change(d):
        block(d, "fc", 0)["layer"] = "fc2"

    with pytest.raises(MappingError, match=r"layer 'fc2' replica 0 block 0 \(core \d+\): unknown "
                       "layer 'fc2'"):
        load_mapping(edit(path, change), resnet9_layers, hermes())


def test_block_on_excluded_core(tmp_path, resnet9_layers):
    m = map_workload(resnet9_layers, hermes(), exclude={5})
    path = save_mapping(m, tmp_path / "m.yaml")

    def change(d):
        block(d, "fc", 0)["core"] = 5

    with pytest.raises(MappingError, match=r"block 0 \(core 5\): core 5 is excluded"):
        load_mapping(edit(path, change), resnet9_layers, hermes())


def test_other_chip_and_other_workload(saved, resnet9_layers, lstm_layers):
    _, path = saved
    with pytest.raises(MappingError, match="is for a 8×8 grid .* chip 'hermes16' is 4×4"):
        load_mapping(path, resnet9_layers, hermes16())
    with pytest.raises(MappingError, match="layers\\[0\\]: layer 'conv0' is not in the workload"):
        load_mapping(path, lstm_layers, hermes())
    shrunk = list(resnet9_layers)
    shrunk[8] = LoweredLayer("fc", "linear", 224, 20, 1, ("conv7",))
    with pytest.raises(MappingError, match="layer 'fc' is 224×10 in the file but 224×20"):
        load_mapping(path, shrunk, hermes())


@pytest.mark.parametrize(("text", "needle"), [
    ("blocks: [1, 2\n", "not valid YAML"),
    ("- 1\n", "must be a mapping of fields"),
    ("format: other/9\n", "format is 'other/9'"),
    ("grid: [8, 8]\ncore: [256, 256]\n", "missing field 'n_cores'"),
    ("grid: [8, 8]\nn_cores: 64\ncore: [256, 256]\nblocks:\n- {layer: fc}\n",
     "blocks[0]: missing field 'replica'"),
    ("grid: [8, 8]\nn_cores: 64\ncore: [256, 256]\nblocks:\n- {layer: fc, replica: 0, "
     "index: 0, rows: [0], cols: [0, 10], core: 1}\n", "rows must be two integers"),
])
def test_malformed_files(tmp_path, resnet9_layers, text, needle):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MappingError) as info:
        load_mapping(path, resnet9_layers, hermes())
    assert needle in str(info.value) and str(path) in str(info.value)


def test_dumps_json_is_valid_json(resnet9_layers):
    m = map_workload(resnet9_layers[:2], hermes())
    data = json.loads(dumps_mapping(m, "json"))
    assert len(data["blocks"]) == 3 and data["layers"][1]["blocks"] == 2
    assert json.loads(dumps_mapping(map_workload([], hermes()), "json"))["blocks"] == []
