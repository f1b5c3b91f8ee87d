"""chipsim sweep end to end: point files, infeasible points, the table, the figures, resume."""

import csv
import json
import subprocess
import sys
import time

import pytest

from chipsim.cli import main
from chipsim.cost.energy import STATIC_COMPONENTS
from chipsim.explore import worker
from chipsim.explore.sweep import SWEEP_FORMAT

from .conftest import SWEEP

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


def _points(out):
    return {p.name: json.loads(p.read_text()) for p in sorted((out / "points").glob("*.json"))}


def test_point_files_hold_settings_status_and_summary(reference):
    recs = sorted(_points(reference).values(), key=lambda r: r["index"])
    assert [r["settings"] for r in recs] == [
        {"core.adc_bits": 4, "chip.cores": 64}, {"core.adc_bits": 4, "chip.cores": 32},
        {"core.adc_bits": 8, "chip.cores": 64}, {"core.adc_bits": 8, "chip.cores": 32}]
    assert [r["status"] for r in recs] == ["ok", "infeasible", "ok", "infeasible"]
    for r in recs:
        assert r["format"] == worker.RECORD_FORMAT and len(r["id"]) == 16
    ok, bad = recs[0], recs[1]
    assert ok["reason"] is None and ok["summary"]["adc_bits"] == 4
    assert ok["summary"]["cores"] == 64 and ok["summary"]["metric"] == "top1"
    assert ok["static_power_mw"] > 0 and set(STATIC_COMPONENTS) <= set(
        ok["energy_breakdown"])
    assert bad["summary"] is None and bad["cores"] == 32
    assert "needs 40 cores" in bad["reason"] and "has 32" in bad["reason"]


def test_sweep_json_holds_the_arguments(reference):
    meta = json.loads((reference / "sweep.json").read_text())
    assert meta["format"] == SWEEP_FORMAT and meta["model"] == "resnet9"
    assert meta["grid"] == [{"key": "core.adc_bits", "values": [4, 8]},
                            {"key": "chip.cores", "values": [64, 32]}]
    assert meta["samples"] == 10 and meta["instances"] == 1
    assert {"key": "run.transport", "value": "offchip"} in meta["sets"]
    assert meta["base_config"]["inferences"] == 1
    assert [p["index"] for p in meta["points"]] == [0, 1, 2, 3]


def test_table_rows_in_grid_order(reference):
    rows = list(csv.DictReader((reference / "table.csv").open()))
    assert [r["index"] for r in rows] == ["0", "1", "2", "3"]
    assert [(r["core.adc_bits"], r["chip.cores"], r["status"]) for r in rows] == [
        ("4", "64", "ok"), ("4", "32", "infeasible"), ("8", "64", "ok"), ("8", "32", "infeasible")]
    for r in (rows[0], rows[2]):
        assert r["metric"] == "top1" and float(r["software"]) > 50
        assert float(r["chip_ci95_lo"]) <= float(r["chip_mean"]) <= float(r["chip_ci95_hi"])
        for col in ("latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
                    "tops_per_w", "static_power_mw"):
            assert float(r[col]) > 0, col
        assert (r["cores"], r["cores_used"], r["reason"]) == ("64", "40", "")
    assert float(rows[2]["chip_mean"]) >= float(rows[0]["chip_mean"])  # 8-bit ADC >= 4-bit
    assert rows[1]["chip_mean"] == "" and "needs 40 cores" in rows[1]["reason"]
    md = (reference / "table.md").read_text().splitlines()
    assert md[0].startswith("| index | core.adc_bits | chip.cores | status |")
    assert len(md) == 2 + 4 and "| infeasible |" in md[3]


def test_pareto_figures_exist_and_decode(reference):
    from matplotlib.image import imread

    names = sorted(p.name for p in (reference / "figures").iterdir())
    assert names == ["pareto_accuracy_vs_throughput.png", "pareto_accuracy_vs_tops_per_mm2.png",
                     "pareto_accuracy_vs_tops_per_w.png", "pareto_tops_per_w_vs_cores.png"]
    for name in names:
        img = imread(reference / "figures" / name)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100


def test_rerun_loads_everything_and_recomputes_nothing(reference, capsys):
    before = {p: p.stat().st_mtime_ns for p in (reference / "points").iterdir()}
    table = (reference / "table.csv").read_bytes()
    assert main(["sweep", *SWEEP[:-1], "--out", str(reference)]) == 0
    assert "(0 points computed, 4 loaded)" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in (reference / "points").iterdir()} == before
    assert (reference / "table.csv").read_bytes() == table


def test_refuses_a_directory_of_another_sweep(reference, tmp_path, capsys):
    args = [a if a != "core.adc_bits=4,8" else "core.adc_bits=4,6" for a in SWEEP]
    assert main(["sweep", *args, "--out", str(reference)]) == 2
    err = capsys.readouterr().err
    assert "holds a different sweep (grid, points differ)" in err
    other = [*SWEEP[:-1], "--set", "run.seed=1", "--quiet"]
    assert main(["sweep", *other, "--out", str(reference)]) == 2
    assert "sets, base_config differ" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert main(["sweep", *SWEEP, "--out", str(tmp_path / "busy")]) == 2
    assert "is not a sweep directory" in capsys.readouterr().err


def test_a_point_that_does_not_fit_is_infeasible(tmp_path):
    out = tmp_path / "small"
    argv = ["resnet9", "--grid", "chip.cores=16", "--set", "run.accuracy=false", "--quiet"]
    assert main(["sweep", *argv, "--out", str(out)]) == 0
    (rec,) = _points(out).values()
    assert rec["status"] == "infeasible" and rec["settings"] == {"chip.cores": 16}
    assert rec["reason"].startswith("the workload needs 40 cores, chip 'hermes' has 16")
    rows = list(csv.DictReader((out / "table.csv").open()))
    assert [(r["chip.cores"], r["status"], r["cores"]) for r in rows] == [
        ("16", "infeasible", "16")]
    assert not (out / "figures").exists() or not any((out / "figures").iterdir())


def test_a_failing_point_is_recorded_and_retried(tmp_path, monkeypatch, capsys):
    out = tmp_path / "fail"
    argv = ["sweep", "resnet9", "--grid", "chip.cores=16", "--set", "run.accuracy=false",
            "--quiet", "--out", str(out)]

    def boom(job, programmed):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(worker, "_simulate", boom)
    assert main(argv) == 1
    (rec,) = _points(out).values()
    assert (rec["status"], rec["reason"]) == ("error", "RuntimeError: simulated crash")
    assert "simulated crash (a rerun retries it)" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(argv) == 0
    (rec,) = _points(out).values()
    assert rec["status"] == "infeasible"


@pytest.mark.slow
def test_kill_and_resume_gives_the_uninterrupted_table(reference, tmp_path):
    """Serial, killed after its first point file, resumed: the table of the pool run."""
    out = tmp_path / "resumed"
    points = out / "points"
    proc = subprocess.Popen([sys.executable, "-m", "chipsim", "sweep", *SWEEP, "--out",
                             str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while not (points.is_dir() and any(points.glob("*.json"))):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no point file after 300 s"
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in points.glob("*.json")}
    assert 1 <= len(before) < 4 and not (out / "table.csv").exists()
    assert main(["sweep", *SWEEP, "--out", str(out)]) == 0
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in points.glob("*.json")}
    assert len(after) == 4
    assert {k: after[k] for k in before} == before  # finished points were not recomputed
    assert (out / "table.csv").read_bytes() == (reference / "table.csv").read_bytes()
    assert (out / "table.md").read_bytes() == (reference / "table.md").read_bytes()
