"""A resumed sweep never reuses a point computed from other inputs.

The sweep's identity (``sweep.json``) holds the chipsim version and the SHA-256 of the
content of the model, chip spec and data files; a changed one is a one-line refusal, and every
point record says what it was computed from. The acceptance case: the same sweep command run
again after the model file's content changed reuses no point.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import chipsim
from chipsim.explore import worker
from chipsim.explore.grid import parse_axis
from chipsim.explore.sweep import SweepSpec, load_records, plan_jobs
from chipsim.fileio import file_sha256
from chipsim.models import models_dir
from chipsim.workload import build, save_weights

ERR = "chipsim sweep: error: "


def _lstm(path, seed):
    """A small lstm-ptb weights file (its task is built in); ``seed`` sets its weights."""
    return save_weights(build("lstm-ptb", vocab=50, embed=8, hidden=16,
                              rng=np.random.default_rng(seed)), path)


def _points(out):
    return {p.name: p.read_bytes() for p in sorted((out / "points").glob("*.json"))}


@pytest.fixture
def swept(tmp_path, cli, monkeypatch):
    """A one-point sweep of a model file in the scratch folder: (argv, model path)."""
    monkeypatch.chdir(tmp_path)
    model = _lstm(tmp_path / "net.npz", 0)
    argv = ["sweep", "net.npz", "--grid", "core.adc_bits=6", "--samples", "2", "--instances",
            "1", "--set", "run.timing=false", "--quiet", "--out", "sw"]
    code, _, err = cli(*argv)
    assert (code, err) == (0, "")
    return argv, model


def test_points_say_what_they_were_computed_from(swept, tmp_path):
    _, model = swept
    meta = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    sources = {"chipsim": chipsim.__version__, "model_sha256": file_sha256(model),
               "chip_sha256": None, "data_sha256": None}
    assert {k: meta[k] for k in sources} == sources
    (rec,) = [json.loads(b) for b in _points(tmp_path / "sw").values()]
    assert rec["status"] == "ok" and rec["sources"] == sources


def test_a_changed_model_file_reuses_no_point(swept, tmp_path, cli):
    argv, model = swept
    before = _points(tmp_path / "sw")
    code, out, _ = cli(*argv[:-3], "--out", "sw")  # the same command again: all loaded
    assert code == 0
    _lstm(model, 1)  # other weights under the same name
    code, out, err = cli(*argv)
    assert (code, out) == (2, "")
    assert err == (f"{ERR}--out sw: holds a different sweep (model_sha256 differ: the model "
                   "file changed since it was made); use another --out, or delete it to start "
                   "over\n")
    assert _points(tmp_path / "sw") == before
    code, _, err = cli(*argv[:-1], "sw2")  # a new sweep computes it from the new content
    assert (code, err) == (0, "")
    (new,) = [json.loads(b) for b in _points(tmp_path / "sw2").values()]
    (old,) = [json.loads(b) for b in before.values()]
    assert new["sources"]["model_sha256"] == file_sha256(model) != old["sources"]["model_sha256"]
    assert new["accuracy_instances"] != old["accuracy_instances"]


def test_a_changed_chip_file_or_version_is_refused(swept, tmp_path, cli, monkeypatch):
    argv, _ = swept
    (tmp_path / "chip.yaml").write_text("core: {adc_bits: 6}\n")
    with_chip = [*argv[:-1], "swc"] + ["--chip", "chip.yaml"]
    assert cli(*with_chip)[0] == 0
    (tmp_path / "chip.yaml").write_text("core: {adc_bits: 6}  # the same chip\n")
    code, _, err = cli(*with_chip)
    assert (code, err) == (2, f"{ERR}--out swc: holds a different sweep (chip_sha256 differ: "
                              "the chip spec file changed since it was made); use another "
                              "--out, or delete it to start over\n")
    monkeypatch.setattr(chipsim, "__version__", "99.0")
    code, _, err = cli(*argv)
    assert (code, err) == (2, f"{ERR}--out sw: holds a different sweep (chipsim differ: it was "
                              "made by another chipsim version); use another --out, or delete "
                              "it to start over\n")


def test_a_file_changed_while_the_sweep_runs_fails_its_points(tmp_path):
    model = _lstm(tmp_path / "net.npz", 0)
    spec = SweepSpec(str(model), (parse_axis("core.adc_bits=6"),), samples=2, instances=1,
                     sets=(("run.timing", False),))
    (job,) = plan_jobs(spec, spec.points())
    _lstm(model, 1)  # after the sweep started
    rec = worker.run_point(job)
    assert rec["status"] == "error" and rec["summary"] is None
    assert rec["reason"].startswith(f"SourceChanged: the model file {model} changed while the "
                                    "sweep ran (SHA-256 ")
    (points := tmp_path / "sw" / "points").mkdir(parents=True)
    assert rec["sources"] == job["sources"]
    other = {**job["sources"], "model_sha256": file_sha256(model)}
    ok = {**rec, "status": "ok", "sources": other}  # a finished record of other sources...
    (points / f"{job['id']}.json").write_text(json.dumps(ok))
    assert load_records(tmp_path / "sw", [job]) == {}  # ...is not reused
    (points / f"{job['id']}.json").write_text(json.dumps({**ok, "sources": job["sources"]}))
    assert list(load_records(tmp_path / "sw", [job])) == [job["id"]]


def test_a_point_file_chipsim_did_not_write_is_refused_not_overwritten(swept, tmp_path, cli):
    argv, _ = swept
    (path,) = (tmp_path / "sw" / "points").glob("*.json")
    path.write_text("my notes")
    code, _, err = cli(*argv)
    assert code == 2
    assert err.startswith(f"{ERR}sw/points/{path.name}: not a point record chipsim wrote (")
    assert err.endswith("move it away, and rerun to compute the point again\n")
    assert path.read_text() == "my notes"


def test_an_edited_table_is_refused_before_any_point_runs(swept, tmp_path, cli):
    argv, _ = swept
    (tmp_path / "sw" / "table.md").write_text("my table")
    code, _, err = cli(*argv)
    assert (code, err) == (2, f"{ERR}sw: table.md was changed after chipsim wrote it; move it "
                              "away or choose another output directory\n")
    assert (tmp_path / "sw" / "table.md").read_text() == "my table"


def test_a_zoo_name_is_identified_by_the_weights_file_it_resolves_to():
    spec = SweepSpec("lstm-ptb", (parse_axis("core.adc_bits=6"),))
    assert spec.sources()["model_sha256"] == file_sha256(models_dir() / "lstm-ptb-hwa.npz")
    random = SweepSpec("lstm-ptb", (parse_axis("core.adc_bits=6"),), weights="random")
    assert random.sources()["model_sha256"] is None  # built from code: the version covers it
