"""``chipsim run``: JSON keys, --set on chip and run options, user errors, determinism."""

import contextlib
import io
import json

import pytest

from chipsim.cli import main

#: one programmed chip instance on few samples: the cheapest run that measures accuracy (one
#: drift-compensation calibration MVM per core instead of 32 keeps programming quick)
TINY = ["--samples", "8", "--instances", "1", "--set", "run.batch=8", "--inferences", "2",
        "--transport", "offchip", "--set", "core.gdc_calibration_mvms=1", "--quiet"]

TIMING_KEYS = ("latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
               "tops_per_w", "tops_per_w_mvm", "transport", "cores_used", "energy_breakdown")


def run_json(*argv: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", *argv, "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    """Two identical runs (same seed) with their report directories."""
    from chipsim.report import writer
    from chipsim.report.figures import energy_png

    base = tmp_path_factory.mktemp("det")
    runs = []
    png = energy_png({"timing": {"energy_breakdown": {"a": 1.0}}})
    with pytest.MonkeyPatch.context() as mp:  # report.json is the point here, not the figures
        mp.setattr(writer, "render_figures", lambda data: {"energy": png})
        for name in ("a", "b"):
            out = run_json(*TINY, "--out", str(base / name))
            runs.append((base / name, out))
    return runs


def test_json_keys(twice):
    _, out = twice[0]
    for key in TIMING_KEYS:
        assert key in out and out[key] is not None
    acc = out["accuracy"]
    for key in ("metric", "software", "chip_mean", "chip_ci95", "instances", "samples"):
        assert key in acc
    assert acc["metric"] == "top1" and acc["instances"] == 1 and acc["samples"] == 8
    lo, hi = acc["chip_ci95"]
    assert lo <= acc["chip_mean"] <= hi
    assert out["model"] == "resnet9" and out["chip"] == "hermes"
    assert out["transport"] == "offchip" and out["cores_used"] == 40
    assert out["chip_mean"] == acc["chip_mean"] and out["accuracy_vs_time"] is None
    assert set(out["energy_breakdown"]) >= {"array", "adc", "ldpu", "link"}


def test_same_seed_gives_identical_report_json(twice):
    (da, _), (db, _) = twice
    text_a, text_b = ((d / "report.json").read_text() for d in (da, db))
    ja, jb = json.loads(text_a), json.loads(text_b)
    volatile = ja["provenance"]["volatile_fields"]
    assert "provenance.date" in volatile and "provenance.command" in volatile
    assert json.dumps(ja, indent=1) + "\n" == text_a  # the text is the data, exactly
    for dotted in volatile:  # give b the volatile values of a: then the bytes are equal
        *path, last = dotted.split(".")
        na, nb = ja, jb
        for k in path:
            na, nb = na[k], nb[k]
        nb[last] = na[last]
    assert json.dumps(jb, indent=1) + "\n" == text_a


def test_set_a_chip_field_changes_accuracy(twice):
    _, base = twice[0]
    low = run_json(*TINY, "--no-timing", "--set", "core.adc_bits=3")
    assert low["adc_bits"] == 3
    assert low["accuracy"]["chip_mean"] != base["accuracy"]["chip_mean"]
    assert low["latency_ns"] is None  # --no-timing: same keys, no values


def test_set_takes_the_sweep_keys_chip_cores_and_run_values():
    out = run_json("--no-accuracy", "--no-timing", "--quiet", "--set", "chip.cores=128",
                   "--set", "run.t_seconds=3.6e3")
    assert (out["cores"], out["t_seconds"]) == (128, 3600.0)


def test_set_grid_and_read_mode():
    big = run_json("--no-accuracy", "--no-timing", "--set", "chip.grid=16x16", "--quiet",
                   "--no-replicate")
    assert big["cores"] == 256 and big["accuracy"] is None
    four = run_json("--no-accuracy", "--inferences", "1", "--no-replicate", "--quiet")
    one = run_json("--no-accuracy", "--inferences", "1", "--no-replicate", "--quiet",
                   "--set", "core.read_mode=1ph")
    assert one["read_mode"] == "1ph" and one["latency_ns"] < four["latency_ns"]


def test_set_run_option_and_flags():
    out = run_json("--no-accuracy", "--no-timing", "--quiet", "--t-seconds", "60",
                   "--set", "run.t_seconds=86400", "--no-gdc")
    assert out["t_seconds"] == 86400.0 and out["gdc"] is False


def test_table_output(capsys):
    assert main(["run", "--no-accuracy", "--inferences", "1", "--quiet"]) == 0
    text = capsys.readouterr().out
    for needle in ("resnet9 on hermes", "cores used", "latency", "throughput", "TOPS/W",
                   "energy / inference", "not measured (--no-accuracy)"):
        assert needle in text


@pytest.mark.parametrize(("argv", "needles"), [
    (["--set", "core.adc_bit=6"], ["core.adc_bit", "unknown field", "did you mean 'adc_bits'"]),
    (["--set", "core.adc_bits=many"], ["core.adc_bits", "must be an integer"]),
    (["--set", "core.adc_bits=1"], ["core.adc_bits", "must be >= 2"]),
    (["--set", "samples=50"], ["run.samples"]),
    (["--set", "run.sample=50"], ["run.sample", "did you mean 'samples'"]),
    (["--set", "run.samples=0"], ["run.samples", ">= 1"]),
    (["--set", "adc_bits"], ["expected KEY=VALUE"]),
    (["missing.npz"], ["missing.npz", "not found"]),
    (["missing.onnx"], ["missing.onnx", "not found"]),
    (["resnet9", "--weights", "missing.npz"], ["missing.npz"]),
    (["--inferences", "0"], ["--inferences"]),
    (["--t-sweep", "60,soon"], ["--t-sweep", "'soon'"]),
    (["--no-accuracy", "--t-sweep", "60"], ["--t-sweep", "accuracy"]),
])
def test_user_errors_are_one_line(capsys, argv, needles):
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chipsim run: error: ")
    for needle in needles:
        assert needle in err


def test_unwritable_out_fails_before_the_run(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["run", "--out", str(tmp_path / "file" / "rep")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a directory" in err
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("x")
    assert main(["run", "--out", str(tmp_path / "notes")]) == 2
    assert "not a chipsim report directory" in capsys.readouterr().err
