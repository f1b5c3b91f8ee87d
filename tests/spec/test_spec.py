"""Spec dataclasses, presets and their file format."""

import dataclasses
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipsim import RunConfig
from chipsim.cost import chip_area
from chipsim.cost.adc import mvm_cycles
from chipsim.settings import apply_settings
from chipsim.spec import (
    PRESETS,
    AttentionSpec,
    ChipSpec,
    CoreSpec,
    DeviceSpec,
    NetworkSpec,
    ReadMode,
    SpecError,
    Topology,
    dump_chip,
    field_doc,
    from_dict,
    hermes,
    hermes_attn,
    load_chip,
    override,
    resolve_chip,
    to_dict,
)


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_presets_round_trip_unchanged(tmp_path, name, suffix):
    chip = PRESETS[name]()
    path = dump_chip(chip, tmp_path / f"chip{suffix}")
    assert load_chip(path) == chip
    # and the file is the plain nested form
    text = path.read_text()
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert data == to_dict(chip)


def test_hermes_matches_reference_chip():
    chip = hermes()
    assert chip.n_cores == 64 and chip.weights_capacity == 4_194_304
    assert (chip.core.rows, chip.core.cols) == (256, 256)
    # Tab I latencies follow from the timing fields, not from constants
    assert mvm_cycles(chip.core) == 520
    one = dataclasses.replace(chip.core, read_mode=ReadMode.ONE_PHASE)
    assert mvm_cycles(one) == 133
    assert chip.network.link_gbps == pytest.approx(3.2)


def test_short_file_takes_defaults(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("core: {adc_bits: 6, read_mode: 1ph}\ngrid: 4x4\n")
    chip = load_chip(p)
    assert chip.core.adc_bits == 6 and chip.core.read_mode is ReadMode.ONE_PHASE
    assert chip.grid == (4, 4) and chip.device == DeviceSpec()


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        ({"core": {"adc_bits": 0}}, "core.adc_bits", ">= 2"),
        ({"core": {"adc_bits": "eight"}}, "core.adc_bits", "integer"),
        ({"core": {"adc_bits": 8.5}}, "core.adc_bits", "integer"),
        ({"core": {"rows": True}}, "core.rows", "integer"),
        ({"device": {"g_max_us": -1.0}}, "device.g_max_us", "> 0"),
        ({"device": {"model": "reram"}}, "device.model", "'pcm_like', 'hermes'"),
        ({"core": {"read_mode": "2ph"}}, "core.read_mode", "'1ph', '4ph'"),
        ({"core": {"devices_per_polarity": 3}}, "core.devices_per_polarity", "1, 2"),
        ({"grid": [8]}, "grid", "2 elements"),
        ({"grid": [0, 8]}, "grid[0]", ">= 1"),
        ({"network": {"link_clock_mhz": float("nan")}}, "network.link_clock_mhz", "finite"),
        ({"network": {"topology": "file"}}, "network.graph_file", "required"),
        ({"core": [1, 2]}, "core", "mapping"),
    ],
)
def test_bad_values_name_the_field(tmp_path, doc, path, words):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(SpecError) as info:
        load_chip(p)
    assert info.value.path == path
    assert words in str(info.value)
    assert "bad.json" in str(info.value)


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("core:\n  adc_bit: 6\n")
    with pytest.raises(SpecError, match=r"core\.adc_bit: unknown field of CoreSpec; did you "
                                        r"mean 'adc_bits'"):
        load_chip(p)
    with pytest.raises(SpecError, match="did you mean 'network'"):
        from_dict(ChipSpec, {"netwrok": {}})


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        load_chip(tmp_path / "missing.yaml")
    p = tmp_path / "broken.yaml"
    p.write_text("core: {adc_bits: [\n")
    with pytest.raises(SpecError, match="broken.yaml: not valid YAML"):
        load_chip(p)
    q = tmp_path / "broken.json"
    q.write_text("{")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_chip(q)


def test_direct_construction_is_validated_too():
    with pytest.raises(SpecError, match="adc_bits"):
        CoreSpec(adc_bits=1)
    with pytest.raises(SpecError, match="topology"):
        NetworkSpec(topology="mesh")
    with pytest.raises(SpecError, match="gdpu_after_row"):
        ChipSpec(grid=(2, 2), gdpu_after_row=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hermes().core.adc_bits = 4  # type: ignore[misc]


def test_override_by_dotted_path():
    chip = override(hermes(), "core.adc_bits", "6")
    assert chip.core.adc_bits == 6 and chip.core.rows == 256
    assert override(hermes(), "chip.grid", "16x16").n_cores == 256
    assert override(hermes(), "network.topology", "torus").network.topology is Topology.TORUS
    with pytest.raises(SpecError, match="core.adc_bits: must be >= 2"):
        override(hermes(), "core.adc_bits", "0")
    with pytest.raises(SpecError, match="did you mean 'adc_bits'"):
        override(hermes(), "core.adcbits", "6")
    with pytest.raises(SpecError, match="is a value"):
        override(hermes(), "grid.rows", "6")


def test_resolve_chip():
    assert resolve_chip("hermes") == hermes()
    with pytest.raises(SpecError, match="neither a preset"):
        resolve_chip("nonsense")


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
_docs = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(
                                ["core", "device", "network", "grid", "name", "adc_bits",
                                 "rows", "model", "topology", "read_mode", "g_max_us", "x"]),
                                inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_docs)
def test_malformed_documents_only_raise_spec_error(doc):
    try:
        chip = from_dict(ChipSpec, doc)
    except SpecError:
        return
    assert isinstance(chip, ChipSpec)


def test_attention_units_are_a_chip_field_with_a_preset():
    """The reference chip has no attention unit; hermes_attn is it with four, nothing else
    changed; the fields are set like any other, from files, --set paths and sweeps."""
    chip = hermes_attn()
    assert hermes().attention == AttentionSpec() and hermes().attention.units == 0
    assert chip.attention == AttentionSpec(units=4)
    assert dataclasses.replace(chip, name="hermes", attention=AttentionSpec()) == hermes()
    assert resolve_chip("hermes_attn") == chip
    assert override(chip, "attention.macs_per_cycle", "512").attention.macs_per_cycle == 512
    assert apply_settings(hermes(), RunConfig(), {"attention.units": 2})[0].attention.units == 2
    with pytest.raises(SpecError, match="attention.macs_per_cycle: must be >= 1"):
        override(chip, "attention.macs_per_cycle", 0)
    with pytest.raises(SpecError, match="attention.after_row: must be <= grid rows"):
        override(chip, "attention.after_row", 9)
    # without units the placement is not checked: small grids keep working
    assert ChipSpec(grid=(1, 4), gdpu_after_row=0).attention.after_row == 4


def test_every_attention_value_has_a_source_or_says_unconfirmed():
    for f in dataclasses.fields(AttentionSpec):
        doc = field_doc(AttentionSpec, f.name)
        assert any(s in doc for s in ("[LG", "Horowitz", "UNCONFIRMED")), f.name


def test_attention_units_take_area():
    base, attn = chip_area(hermes()), chip_area(hermes_attn())
    assert base.attention_mm2 == 0 and base.total_mm2 == pytest.approx(144.0)
    assert attn.attention_mm2 == 4 * AttentionSpec().area_mm2_per_unit
    assert attn.total_mm2 == pytest.approx(base.total_mm2 + attn.attention_mm2)
