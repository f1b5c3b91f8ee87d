"""``chipsim map`` through chipsim.cli.main."""

import json

import pytest

from chipsim.cli import main
from chipsim.mapping import load_mapping
from chipsim.models import resolve_model


def run_json(capsys, *argv):
    assert main(["map", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_resnet9_on_hermes(capsys):
    out = run_json(capsys, "resnet9", "--no-replicate")
    assert out["cores_used"] == 40
    assert [ly["cores"] for ly in out["layers"]] == [1, 2, 4, 4, 4, 8, 8, 8, 1]
    assert out["layers"][5] == {"name": "conv5", "rows": 2016, "cols": 224, "vectors": 64,
                                "blocks": 8, "cores": 8, "replicas": 1,
                                "utilization": pytest.approx(0.861, abs=1e-3)}
    assert out["placement_cost"] > 0 and out["replicated_layers"] == []


def test_shipped_weights_file_maps_its_one_channel_network(capsys):
    from chipsim.models import models_dir

    out = run_json(capsys, str(models_dir() / "resnet9-hwa.npz"), "--no-replicate")
    assert (out["layers"][0]["rows"], out["cores_used"]) == (9, 40)  # 3·3·1 inputs


def test_lstm_ptb_on_hermes(capsys):
    out = run_json(capsys, "lstm-ptb", "--no-replicate")
    assert out["cores_used"] == 26
    assert [(ly["name"], ly["rows"], ly["cols"], ly["cores"]) for ly in out["layers"]] == [
        ("lstm.input", 128, 2016, 8), ("lstm.hidden", 504, 2016, 16), ("fc", 504, 50, 2)]


def test_replicate(capsys):
    out = run_json(capsys, "resnet9", "--replicate", "--chip", "hermes")
    assert out["cores_used"] == 64 and out["idle_cores"] == 0
    assert out["replicated_layers"] == ["conv0", "conv1", "conv2", "conv3", "conv4"]
    t = out["throughput"]
    assert t["after"]["per_mvm"] > t["before"]["per_mvm"]
    assert t["before"]["per_s"] == pytest.approx(1e9 / (1024 * t["mvm_ns"]))


def test_table_and_out_dir(capsys, tmp_path):
    assert main(["map", "resnet9", "--replicate", "--out", str(tmp_path / "o")]) == 0
    text = capsys.readouterr().out
    assert "conv5" in text and "2016×224" in text and "cores used: 64 of 64" in text
    assert "replicated: conv0 ×5" in text
    assert (tmp_path / "o" / "core_grid.png").stat().st_size > 1000
    layers = resolve_model("resnet9").workload.lowered()
    from chipsim.spec import hermes
    m = load_mapping(tmp_path / "o" / "mapping.yaml", layers, hermes())
    assert m.cores_used == 64 and m.workload == "resnet9"


def test_exclude(capsys):
    out = run_json(capsys, "lstm-ptb", "--exclude", "0,1,2")
    assert out["excluded_cores"] == [0, 1, 2]


def test_too_large_is_a_one_line_error(capsys):
    assert main(["map", "resnet9", "--chip", "hermes16"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("chipsim map: error: the workload needs 40 cores, chip 'hermes16' has "
                           "16 available; the smallest preset that fits is 'hermes' (64 cores); "
                           "or 3 such chips (--system 3xhermes16)")


@pytest.mark.parametrize(("argv", "needle"), [
    (["map", "vgg"], "'vgg' is neither a zoo network"),
    (["map", "resnet9", "--exclude", "a"], "--exclude: 'a' is not a core id"),
    (["map", "resnet9", "--chip", "nochip"], "neither a preset"),
])
def test_user_errors(capsys, argv, needle):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["map", "--help"])
    assert "chipsim map resnet9 --chip hermes --no-replicate --json" in capsys.readouterr().out


def test_resolves_the_model_and_replicates_as_run_does(capsys):
    """By default the shipped 1-channel ResNet-9, replicated: the mapping chipsim run uses."""
    out = run_json(capsys, "resnet9")
    assert out["layers"][0]["rows"] == 9 and out["replicate"] and out["cores_used"] == 64
    zoo = run_json(capsys, "resnet9", "--weights", "random", "--no-replicate")
    assert zoo["layers"][0]["rows"] == 27  # the chip paper's 3-channel network


def test_set_changes_the_chip(capsys):
    out = run_json(capsys, "resnet9", "--set", "chip.cores=128", "--set", "core.read_mode=1ph")
    assert out["n_cores"] == 128 and out["cores_used"] > 64
    assert main(["map", "resnet9", "--set", "run.seed=1"]) == 2
    assert "chip settings only" in capsys.readouterr().err
    assert main(["map", "resnet9", "--set", "core.adc_bit=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "core.adc_bit" in err and "adc_bits" in err


def test_throughput_is_printed_readably(capsys):
    assert main(["map", "resnet9", "--no-replicate"]) == 0
    text = capsys.readouterr().out
    assert "pipeline throughput: 1,878 inferences/s" in text and "→" not in text
    assert "e-0" not in text and "0.000" not in text
    assert main(["map", "resnet9"]) == 0
    assert "1,878 → 9,390 inferences/s" in capsys.readouterr().out
