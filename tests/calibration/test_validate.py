"""Table I through the engine: all 24 cells within the golden file's tolerance."""

import json

import pytest

from chipsim.calibration import load_table1
from chipsim.calibration.usecases import use_case_metrics
from chipsim.calibration.validate import rows_from_runs
from chipsim.cli import main

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


def test_all_24_cells_within_tolerance_from_one_parameter_set(use_case_runs):
    table = load_table1()
    rows = rows_from_runs(use_case_runs)
    assert len(rows) == 24
    assert {(r.use_case, r.mode) for r in rows} == {
        (u, m) for u in table["use_cases"] for m in ("1ph", "4ph")}
    for r in rows:
        ref = table["use_cases"][r.use_case]["modes"][r.mode][r.metric]
        assert r.reference == ref
        assert abs(r.rel_error) <= table["tolerance"], r
        assert r.rel_error == r.simulated / r.reference - 1
    # one parameter set: every run used the chip's (default) energy table
    specs = {r.energy_spec for r in use_case_runs.values()}
    assert len(specs) == 1


def test_use_cases_use_the_cores_and_units_of_table1(use_case_runs):
    cores = {u: load_table1()["use_cases"][u]["cores"] for u in load_table1()["use_cases"]}
    for (uc, _), r in use_case_runs.items():
        m = use_case_metrics(r)
        assert m["cores"] == cores[uc]
        assert all(c["mvms"] == 1 for c in r.core_counts.values())
    lstm = use_case_runs[("lstm_step", "4ph")]
    assert sum(g["inputs"] for g in lstm.gdpu_counts.values()) == 2016
    assert sum(g["outputs"] for g in lstm.gdpu_counts.values()) == 504
    assert len(lstm.gdpu_counts) == 8
    resnet = use_case_runs[("resnet_layer", "1ph")]
    assert resnet.counts.ldpu_values == 8 * 224
    assert resnet.counts.link_bit_hops == 7 * 224 * 8  # a chain down one grid column
    allc = use_case_runs[("all_cores", "1ph")]
    assert allc.counts.ldpu_values == 0 and allc.energy.total_pj == allc.energy.mvm_pj


def test_validate_cli_json(capsys):
    assert main(["validate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"rows", "tolerance", "max_abs_rel_error", "held_out"}
    rows = out["rows"]
    assert len(rows) == 24
    assert set(rows[0]) == {"use_case", "mode", "metric", "simulated", "reference",
                            "rel_error"}
    assert {r["metric"] for r in rows} == {"tops", "tops_per_w", "energy_uj", "latency_ns"}
    assert out["max_abs_rel_error"] == max(abs(r["rel_error"]) for r in rows) <= 0.05
    folds = out["held_out"]
    assert [f["held_out"] for f in folds] == ["all_cores", "resnet_layer", "lstm_step"]
    for f in folds:
        assert len(f["rows"]) == 8 and f["held_out"] not in f["fitted_on"]
        assert {r["use_case"] for r in f["rows"]} == {f["held_out"]}
        assert f["max_abs_rel_error"] == max(abs(r["rel_error"]) for r in f["rows"])


def test_validate_cli_table_and_failure_status(capsys, tmp_path):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "largest error" in out and "held-out check" in out
    assert "lstm_step: largest error" in out and "at prior: gdpu_pipeline_cycles" in out
    chip = tmp_path / "slow.yaml"
    chip.write_text("core: {phase_overhead_cycles: 40}\n")
    assert main(["validate", "--chip", str(chip), "--no-held-out"]) == 1
    out = capsys.readouterr().out
    assert "outside" in out and "held-out" not in out
    assert main(["validate", "--json", "--no-held-out"]) == 0
    assert json.loads(capsys.readouterr().out)["held_out"] is None
