"""``chipsim run --ci-width W`` / ``--set run.ci_width=W``: bad targets, the report's text and
the sweep table of sequential measurements (the measurement itself:
tests/functional/test_accuracy_sequential.py)."""

import pytest

from chipsim import RunConfig
from chipsim.cli import main
from chipsim.explore.grid import apply_setting, parse_axis
from chipsim.explore.table import SEQUENTIAL_COLUMNS, table_columns, table_csv, table_markdown
from chipsim.report.tables import ACCURACY_KEYS, _accuracy_text, flat_summary
from chipsim.spec import hermes


@pytest.mark.parametrize(("argv", "needles"), [
    (["--ci-width", "0"], ["--ci-width", "> 0"]),
    (["--ci-width", "-1"], ["--ci-width", "> 0"]),
    (["--ci-width", "nan"], ["--ci-width", "finite"]),
    (["--ci-width", "inf"], ["--ci-width", "finite"]),
    (["--ci-width", "two"], ["--ci-width", "'two'"]),
    (["--set", "run.ci_width=0"], ["run.ci_width", "> 0"]),
    (["--set", "run.ci_width=two"], ["run.ci_width", "must be a number"]),
    (["--set", "run.ci_width=.nan"], ["run.ci_width", "must be a number"]),
    (["--ci-width", "2", "--instances", "1"], ["run.ci_width", "--ci-width", "2 chip instances"]),
])
def test_bad_target_is_a_one_line_error(capsys, argv, needles):
    assert main(["run", "--no-timing", "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chipsim run: error: ")
    for needle in needles:
        assert needle in err


def test_target_is_a_run_setting_and_a_sweep_axis():
    _, cfg = apply_setting(hermes(), RunConfig(), "run.ci_width", 1.5)
    assert cfg.ci_width == 1.5
    assert parse_axis("run.ci_width=1,2.5").values == (1, 2.5)


def _acc(reached, width, samples, instances, target=2.0):
    return {"metric": "top1", "software": 97.0, "chip_mean": 96.0,
            "chip_ci95": [96.0 - width / 2, 96.0 + width / 2], "instances": instances,
            "samples": samples, "chip": [96.0] * instances, "t_seconds": 3600.0, "gdc": True,
            "ci95_width": width, "ci_target": target, "ci_reached": reached,
            "samples_max": 300, "instances_max": 5, "ci_stages": [], "data": "resnet9"}


def test_report_says_whether_the_target_was_reached():
    text = _accuracy_text(_acc(True, 1.5, 200, 3))
    assert "CI width 1.5 ≤ target 2: reached with 3 of 5 instances × 200 of 300 samples" in text
    text = _accuracy_text(_acc(False, 2.5, 300, 5))
    assert "CI width 2.5 > target 2: not reached with 5 of 5 instances × 300 of 300" in text
    plain = _accuracy_text({**_acc(None, 2.5, 300, 3), "ci_target": None})
    assert "target" not in plain
    out = flat_summary({"summary": {}, "timing": None, "accuracy": _acc(True, 1.5, 200, 3)})
    assert set(out["accuracy"]) == set(ACCURACY_KEYS)


def test_sweep_table_shows_samples_instances_and_reached_of_sequential_points():
    keys = ["run.ci_width"]
    summary = {"metric": "top1", "software": 97.0, "chip_mean": 96.0,
               "chip_ci95": [95.0, 96.5], "ci_target": 2.0, "ci_reached": True,
               "samples": 200, "instances": 3}
    recs = [{"index": 0, "settings": {"run.ci_width": 2.0}, "status": "ok", "reason": None,
             "summary": summary}]
    cols = table_columns(keys, True)
    at = cols.index("chip_ci95_hi")
    assert tuple(cols[at + 1: at + 4]) == SEQUENTIAL_COLUMNS
    header, row = table_csv(recs, keys).splitlines()
    assert header.split(",") == cols and ",true,200,3," in row
    assert "| ci_reached | samples | instances |" in table_markdown(recs, keys)
    plain = [{**recs[0], "summary": {k: v for k, v in summary.items()
                                     if k not in ("ci_target", "ci_reached")}}]
    assert "ci_reached" not in table_csv(plain, keys)


def test_one_instance_shows_no_interval():
    one = {**_acc(None, 0.0, 300, 1), "ci_target": None, "chip_ci95": [96.0, 96.0]}
    text = _accuracy_text(one)
    assert "chip 96.00 %" in text and "[" not in text and "no interval" in text
    assert "[95.00, 97.00]" in _accuracy_text({**_acc(None, 2.0, 300, 3), "ci_target": None})
