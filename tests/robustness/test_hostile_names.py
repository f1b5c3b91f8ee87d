"""Hostile names (of a model file, its layers, a chip) in what chipsim shows and writes.

A name may hold Markdown, HTML, ``|``, control characters (NUL, ESC, newline), bidirectional
overrides (U+202E) and matplotlib's ``$...$``. In report.md and the sweep's table.md it
renders as itself: no live HTML, no link, no table cell split, invisible characters shown as
escapes; the HTML page, the terminal summary and the figures show it escaped as well.
"""

from __future__ import annotations

import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from chipsim import RunConfig, simulate
from chipsim.escape import markdown_code, markdown_text, plot_text, visible
from chipsim.explore.table import table_markdown
from chipsim.report import terminal_text
from chipsim.report.figures import render_figures
from chipsim.report.html import render_html
from chipsim.report.markdown import render_markdown
from chipsim.workload import from_onnx

#: a layer name with every kind of trouble (an ONNX node name keeps it; '/' becomes '.')
LAYER = "fc|x<script>alert(1)<.script>\u202e\x00\x1b[2J_[a](b) $\\frac{$ `x` &amp;"
#: how it reads once shown: every invisible character escaped
SHOWN = "fc|x<script>alert(1)<.script>\\u202e\\x00\\x1b[2J_[a](b) $\\frac{$ `x` &amp;"
INVISIBLE = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (split at the pipes not escaped by a backslash)."""
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("evil") / "m|<b>x.onnx"
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    node = helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, name=LAYER)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(helper.make_model(graph), path)
    workload = from_onnx(path)
    assert workload.lowered()[0].name == LAYER
    return simulate(workload, config=RunConfig(inferences=1),
                    command="chipsim run 'm|<b>x.onnx'\n```\n<script>")


def test_report_md_shows_names_as_text(report):
    md = render_markdown(report.to_dict(), [])
    # the command line in a fence that the backticks and the newline inside cannot close
    block = md.split("\n\n")[2]
    assert block == "````\nchipsim run 'm|<b>x.onnx'\n```\n<script>\n````"
    md = md.replace(block, "")
    assert not INVISIBLE.search(md.replace("\n", ""))
    assert "<script" not in md.replace("\\<script", "")  # only as escaped text
    assert "[a](b)" not in md and "[a\\](b)" in md  # no link
    assert md.startswith("# chipsim report: m\\|\\<b>x on hermes\n")
    head = next(ln for ln in md.splitlines() if ln.startswith("| layer |"))
    row = next(ln for ln in md.splitlines() if ln.startswith("| fc"))
    assert len(_cells(row)) == len(_cells(head))  # the '|' in the name splits no cell
    assert _cells(row)[0].strip() == markdown_text(LAYER)


def test_html_terminal_and_figures_show_names_escaped(report):
    data = report.to_dict()
    page = render_html(data, {})
    assert "<script>" not in page and not INVISIBLE.search(page.replace("\n", ""))
    text = terminal_text(report)
    assert "m|<b>x" in text and not INVISIBLE.search(text.replace("\n", ""))
    figures = render_figures(data)  # '$\frac{$' is drawn as text, not parsed as maths
    assert {"core_grid", "timeline"} <= set(figures)


def test_the_sweep_table_escapes_text():
    rec = {"index": 0, "settings": {"chip.name": "a|<img src=x>"}, "status": "infeasible",
           "reason": f"layer '{LAYER}' needs 9 cores", "summary": None, "cores": 64}
    lines = table_markdown([rec], ["chip.name"]).splitlines()
    assert len(_cells(lines[2])) == len(_cells(lines[0]))
    assert "a\\|\\<img src=x>" in lines[2] and markdown_text(LAYER) in lines[2]
    assert not INVISIBLE.search(lines[2])


@pytest.mark.parametrize("text, md", [
    ("a|b", "a\\|b"), ("<script>", "\\<script>"), ("[a](b) ![i][r]", "[a\\](b) ![i\\][r]"),
    ("[LG]'s [96.8, 98.5] %", "[LG]'s [96.8, 98.5] %"),
    ("**x** _y_ z_w", "\\*\\*x\\*\\* \\_y\\_ z_w"), ("`x`", "\\`x\\`"), ("&amp;", "\\&amp;"),
    ("~~s~~ $m$", "\\~\\~s\\~\\~ \\$m\\$"), ("a\\b", "a\\\\b"),
    ("nul\x00 esc\x1b bidi\u202e lri\u2066 nl\n", "nul\\x00 esc\\x1b bidi\\u202e lri\\u2066 nl\\n"),
    ("résumé ∑ conv0", "résumé ∑ conv0"),
])
def test_markdown_text(text, md):
    assert markdown_text(text) == md


def test_visible_code_and_plot_text():
    assert visible(LAYER) == SHOWN
    assert markdown_code("a``b") == "```a``b```"
    assert markdown_code("x\n````\ny", block=True) == "`````\nx\n````\ny\n`````"
    assert plot_text("$\\frac{$\x00") == "\\$\\frac{\\$\\x00"
