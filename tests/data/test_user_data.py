"""Scoring a network on the user's own samples: ``chipsim run MODEL --data FILE.npz`` and
``simulate(..., data=...)`` (:mod:`chipsim.data.user`)."""

import json
from pathlib import Path

import numpy as np
import pytest

from chipsim import RunConfig, simulate
from chipsim.cli import main
from chipsim.data.user import CALIBRATION, load_data
from chipsim.errors import ChipsimError
from chipsim.functional.tasks import task_data
from chipsim.models import resolve_model
from chipsim.spec import hermes

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "resnet9-hwa.npz"


def _task_file(tmp_path, task, samples):
    """The built-in task's test samples and calibration inputs as a data file."""
    x, y = task_data(task, "test", samples)
    calib, _ = task_data(task, "train", CALIBRATION)
    path = tmp_path / f"{task}.npz"
    np.savez(path, x=x, y=y, x_calib=calib)
    return path


@pytest.mark.slow
def test_cli_data_file_scores_as_the_built_in_task(tmp_path, capsys):
    """The task's own samples in a file give the task's scores, bit for bit."""
    path = _task_file(tmp_path, "resnet9", 50)
    args = ["--samples", "50", "--instances", "2", "--no-timing", "--quiet", "--json"]
    assert main(["run", str(SHIPPED), "--data", str(path), *args]) == 0
    own = json.loads(capsys.readouterr().out)["accuracy"]
    assert main(["run", "resnet9", *args]) == 0
    task = json.loads(capsys.readouterr().out)["accuracy"]
    assert own["data"] == str(path) and task["data"] == "resnet9"
    assert own["samples"] == 50 and own["metric"] == "top1"
    for key in ("software", "chip", "chip_mean", "chip_ci95"):
        assert own[key] == task[key], key


@pytest.mark.slow
def test_simulate_sequence_data_scores_bits_per_character(tmp_path):
    model = resolve_model("lstm-ptb")
    cfg = RunConfig(samples=3, instances=2, timing=False)
    own = simulate(model.workload, hermes(), config=cfg,
                   data=_task_file(tmp_path, "lstm-ptb", 3)).accuracy
    task = simulate(model.workload, hermes(), config=cfg, task="lstm-ptb").accuracy
    assert own.metric == "bpc" and own.chip == task.chip
    assert own.software == task.software


def test_default_calibration_is_the_first_samples(tmp_path):
    wl = resolve_model("resnet9").workload
    x, y = task_data("resnet9", "test", 150)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    data = load_data(tmp_path / "d.npz", wl)
    assert np.array_equal(data.calibration, x[:CALIBRATION])
    assert data.first(20).x.shape == (20, 1, 32, 32)


def _bad(tmp_path, name, **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


X = np.zeros((4, 1, 32, 32), np.float32)
Y = np.array([0, 1, 2, 3])


@pytest.mark.parametrize(("make", "needles"), [
    (lambda p: p / "missing.npz", ["cannot read the data file: No such file"]),
    (lambda p: p, ["not a regular file"]),
    (lambda p: (p / "t.npz").write_text("hello") and p / "t.npz", ["not an .npz zip archive"]),
    (lambda p: np.save(p / "a.npy", X) or p / "a.npy", ["not an .npz zip archive"]),
    (lambda p: _bad(p, "noy.npz", x=X), ["missing array y", "holds x"]),
    (lambda p: _bad(p, "extra.npz", x=X, y=Y, z=Y), ["unknown array z"]),
    (lambda p: _bad(p, "shape.npz", x=np.zeros((4, 3, 32, 32)), y=Y),
     ["x must have shape (N, 1, 32, 32)", "(4, 3, 32, 32)"]),
    (lambda p: _bad(p, "dtype.npz", x=X.astype("U1"), y=Y), ["x must hold real numbers"]),
    (lambda p: _bad(p, "nan.npz", x=X + np.nan, y=Y), ["NaN"]),
    (lambda p: _bad(p, "range.npz", x=X, y=np.array([0, 1, 2, 10])),
     ["labels 0..10", "10 outputs"]),
    (lambda p: _bad(p, "neg.npz", x=X, y=np.array([0, -1, 2, 3])), ["labels -1..3"]),
    (lambda p: _bad(p, "len.npz", x=X, y=Y[:3]), ["one class label per sample", "(4,)"]),
    (lambda p: _bad(p, "float.npz", x=X, y=Y.astype(float)), ["y must hold integers"]),
    (lambda p: _bad(p, "empty.npz", x=X[:0], y=Y[:0]), ["x holds no samples"]),
    (lambda p: _bad(p, "calib.npz", x=X, y=Y, x_calib=np.zeros((2, 1, 8, 8))),
     ["x_calib must have shape"]),
])
def test_bad_data_file_is_a_one_line_error(tmp_path, capsys, make, needles):
    path = make(tmp_path)
    assert main(["run", "--data", str(path), "--no-timing", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chipsim run: error: data "), err
    assert str(path) in err
    for needle in needles:
        assert needle in err, err


def test_sequence_model_checks_token_ids(tmp_path):
    wl = resolve_model("lstm-ptb").workload
    ids = np.zeros((2, 8), np.int64)
    for arrays, needle in [
        ({"x": ids.astype(float), "y": ids}, "integer token ids of shape (N, T)"),
        ({"x": ids + 50, "y": ids}, "token ids 50..50, but the embedding has 50"),
        ({"x": ids, "y": ids[:, :4]}, "next-token ids of every step"),
        ({"x": ids, "y": ids + 50}, "labels 50..50"),
        ({"x": ids[:, :0], "y": ids[:, :0]}, "x holds no samples (shape (2, 0))"),
    ]:
        np.savez(tmp_path / "s.npz", **arrays)
        with pytest.raises(ChipsimError, match="data .*s.npz: ") as info:
            load_data(tmp_path / "s.npz", wl)
        assert needle in str(info.value)


@pytest.mark.slow
def test_sweep_scores_own_data_and_never_resumes_on_other_data(tmp_path, capsys):
    path = _task_file(tmp_path, "resnet9", 50)
    out = tmp_path / "sweep"
    argv = ["sweep", str(SHIPPED), "--data", str(path), "--grid", "core.adc_bits=6,8",
            "--samples", "50", "--instances", "1", "--set", "run.timing=false", "--out",
            str(out), "--quiet"]
    assert main(argv) == 0
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["data"] == str(path) and len(meta["data_sha256"]) == 64
    records = [json.loads(p.read_text()) for p in sorted((out / "points").glob("*.json"))]
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    assert all(r["summary"]["metric"] == "top1" for r in records)
    x, y = task_data("resnet9", "test", 50)
    np.savez(path, x=x, y=(y + 1) % 10)  # other labels under the same name
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data_sha256" in err and "different sweep" in err


def test_sweep_checks_the_data_file_first(tmp_path, capsys):
    bad = _bad(tmp_path, "bad.npz", x=X, y=Y[:3])
    assert main(["sweep", "resnet9", "--data", str(bad), "--grid", "core.adc_bits=6,8",
                 "--out", str(tmp_path / "s"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "one class label per sample" in err
    assert not (tmp_path / "s").exists()
