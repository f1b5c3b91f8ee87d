"""The report directory of ``chipsim run --out``: files, self-contained HTML, redraw, atomicity."""

import base64
import dataclasses
import html.parser
import io
import json

import pytest
from matplotlib import image

from chipsim.errors import ChipsimError
from chipsim.report import Report, render_report_dir, write_report
from chipsim.report import writer as writer_mod

from .conftest import run_cli

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs, self.links = [], []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "src" and tag == "img":
                self.srcs.append(v)
            elif k in ("src", "href"):
                self.links.append((tag, v))


def test_directory_holds_json_md_html_and_figures(report_run):
    d, out = report_run
    for name in ("report.json", "report.md", "report.html"):
        assert (d / name).stat().st_size > 0
    figs = sorted(p.name for p in (d / "figures").iterdir())
    assert figs == ["accuracy_vs_time.png", "core_grid.png", "energy.png", "links.png",
                    "timeline.png", "utilization.png"]
    text = (d / "report.json").read_text()
    again = Report.from_json(text)  # typed sections, back to the same JSON byte for byte
    assert again.to_json() == text and Report.from_json(again.to_json()) == again
    assert json.loads(text)["summary"] == again.summary
    assert out["report_dir"] == str(d)
    md = (d / "report.md").read_text()
    for needle in ("## Summary", "## Layers", "conv5", "time share", "energy share",
                   "figures/core_grid.png", "figures/timeline.png", "## Accuracy versus time",
                   "counting the MVMs' energy only (Table I's convention", "The rest: ",
                   "figures/utilization.png"):
        assert needle in md
    report = Report.from_json((d / "report.json").read_text())
    done = report.timing.completion_ns
    assert len(done) == report.timing.inferences and list(done) == sorted(done)
    # no stray temporary directories beside the report
    assert [p.name for p in d.parent.iterdir()] == ["rep"]


def test_accuracy_vs_time_section(report_run):
    d, out = report_run
    rows = json.loads((d / "report.json").read_text())["accuracy_vs_time"]
    assert [r["t_seconds"] for r in rows] == [60.0, 3600.0]
    assert rows == out["accuracy_vs_time"]
    for r in rows:
        lo, hi = r["chip_ci95"]
        assert lo <= r["chip_mean"] <= hi
    # the point at the run's own time is the run's accuracy
    assert rows[1]["chip_mean"] == out["accuracy"]["chip_mean"]


def test_html_is_self_contained_with_png_images(report_run):
    d, _ = report_run
    text = (d / "report.html").read_text()
    parser = _Images()
    parser.feed(text)
    assert len(parser.srcs) == 6
    for src in parser.srcs:
        head, _, b64 = src.partition(",")
        assert head == "data:image/png;base64"
        png = base64.b64decode(b64, validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.imread(io.BytesIO(png), format="png").ndim == 3
    assert parser.links == []
    assert "http://" not in text and "https://" not in text
    for needle in ("<table", "conv5", "energy share", "link utilization"):
        assert needle.lower() in text.lower()


def test_report_command_redraws_identical_files(report_run, tmp_path):
    d, _ = report_run
    before = {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}
    rc, text = run_cli("report", str(d))
    assert rc == 0 and "report.html" in text
    after = {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}
    assert after == before


def test_timeline_is_small_and_within_its_window(report_run):
    d, _ = report_run
    t = json.loads((d / "report.json").read_text())["timing"]
    lo, hi = t["timeline_window_ns"]
    assert t["timeline"] and len(t["timeline"]) <= 3000
    for core, start, end, action in t["timeline"]:
        assert action in ("mvm", "ldpu", "gdc") and start < end
        assert lo <= start / 1e3 < hi
        assert 0 <= core < 64


def test_report_of_a_missing_or_bad_directory_is_a_one_line_error(tmp_path, capsys):
    from chipsim.cli import main

    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot read the report" in err and "\n" not in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "report.json").write_text('{"summary": {}}')
    assert main(["report", str(tmp_path / "bad")]) == 2
    assert "not a chipsim report" in capsys.readouterr().err


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda d: d["timing"].pop("latency_ns"), "timing: missing field(s) of TimingSection: "
                                              "latency_ns"),
    (lambda d: d["accuracy"].update(colour="red"), "accuracy.colour: unknown field of "
                                                   "AccuracyResult"),
    (lambda d: d.update(layers={}), "layers: must be a list, got dict"),
    (lambda d: d["mapping"].pop("blocks"), "mapping: not a mapping as chipsim writes it"),
    (lambda d: d["timing"]["core_counts"].update(x={}), "timing.core_counts: keys must be "
                                                        "integers, got 'x'"),
], ids=["missing", "unknown", "not-a-list", "mapping", "core-key"])
def test_a_damaged_report_json_is_a_one_line_error(report_run, edit, needle):
    d, _ = report_run
    data = json.loads((d / "report.json").read_text())
    edit(data)
    with pytest.raises(ChipsimError) as err:
        Report.from_json(json.dumps(data), "x/report.json")
    msg = str(err.value)
    assert msg.startswith("x/report.json: not a chipsim report of this version: ")
    assert needle in msg and "\n" not in msg


@pytest.fixture
def quick_figures(monkeypatch):
    """Writer tests need files, not pictures: one tiny PNG instead of the real figures."""
    from chipsim.report.figures import energy_png

    png = energy_png({"timing": {"energy_breakdown": {"a": 1.0}}})
    monkeypatch.setattr(writer_mod, "render_figures", lambda data: {"energy": png})


def test_a_crash_leaves_the_old_directory_and_no_partial_one(report_run, tmp_path,
                                                             monkeypatch, quick_figures):
    d, _ = report_run
    report = Report.from_json((d / "report.json").read_text())
    target = tmp_path / "out"
    write_report(report, target)
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}

    def boom(*_a, **_k):
        raise RuntimeError("crash while writing")

    monkeypatch.setattr(writer_mod, "atomic_write", boom)
    with pytest.raises(RuntimeError):
        write_report(dataclasses.replace(report, accuracy_vs_time=()), target)
    with pytest.raises(RuntimeError):
        write_report(report, tmp_path / "fresh")
    after = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_never_replaces_a_directory_that_is_not_a_report(report_run, tmp_path,
                                                         quick_figures):
    d, _ = report_run
    report = Report.from_json((d / "report.json").read_text())
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ChipsimError, match="not a chipsim report directory"):
        write_report(report, tmp_path / "mine")
    (tmp_path / "mine" / "report.json").write_text(report.to_json())
    with pytest.raises(ChipsimError, match="not a chipsim report directory"):
        render_report_dir(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "empty").mkdir()
    assert (write_report(report, tmp_path / "empty") / "report.html").is_file()


def test_the_shipped_example_report_is_of_this_version():
    """reports/example (README) reads back and writes the same JSON: regenerate it when the
    report's format changes."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "reports/example/report.json").read_text()
    assert Report.from_json(text).to_json() == text
