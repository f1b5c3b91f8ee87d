"""``report.md``: the report as Markdown, with the figures as files under ``figures/``.

Every text taken from the report (names of the model, its layers and the chip, file paths,
the command line) goes through :mod:`chipsim.escape`, so it renders as itself: no
Markdown or HTML of its own, no table cell split by ``|``, control characters and
bidirectional overrides shown as escapes.
"""

from __future__ import annotations

import json
from typing import Any

from ..escape import markdown_code, markdown_text
from .figures import FIGURES
from .tables import (
    accuracy_time_rows,
    critical_path_text,
    energy_explained,
    energy_rows,
    layer_rows,
    summary_rows,
    system_rows,
    system_text,
)

__all__ = ["render_markdown", "title"]


def title(data: dict[str, Any]) -> str:
    """``chipsim report: resnet9 on hermes``."""
    s = data["summary"]
    return f"chipsim report: {s['model']} on {s['chip']}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(markdown_text(h) for h in head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(markdown_text(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_markdown(data: dict[str, Any], figures: list[str]) -> str:
    """The Markdown text of a report.

    Parameters
    ----------
    data
        The report's JSON content (``Report.to_dict()``).
    figures
        Names of the figures written beside it (``figures/<name>.png``).

    Examples
    --------
    >>> from chipsim import RunConfig, simulate
    >>> report = simulate("resnet9", config=RunConfig(accuracy=False, inferences=1))
    >>> render_markdown(report.to_dict(), ["core_grid"]).startswith("# chipsim report")
    True
    """
    p = data.get("provenance") or {}
    md = markdown_text
    out = [f"# {md(title(data))}\n",
           f"chipsim {md(p.get('chipsim', '?'))}, seed {md(p.get('seed', '?'))}, spec hash "
           f"{markdown_code(p.get('spec_hash', '?'))}, {md(p.get('date', ''))}; array "
           f"products: {md(p.get('products', 'float32 BLAS'))}\n"]
    if p.get("command"):
        out.append(markdown_code(p["command"], block=True) + "\n")
    out += ["## Summary\n", _table(["quantity", "value"], [list(r) for r in summary_rows(data)])]

    def figure(name: str) -> None:
        if name in figures:
            out.append(f"![{FIGURES[name][0]}](figures/{name}.png)\n")

    if data.get("accuracy_vs_time"):
        out.append("## Accuracy versus time since programming\n")
        out.append(_table(*accuracy_time_rows(data)))
        figure("accuracy_vs_time")
    out += ["## Layers\n", _table(*layer_rows(data))]
    if critical_path_text(data):
        out.append(md(critical_path_text(data)) + "\n")
    out.append("## Mapping\n")
    figure("core_grid")
    if system_rows(data) is not None:
        out += ["## Chips\n", _table(*system_rows(data)), md(system_text(data)) + "\n"]
    if data.get("timing"):
        out.append("## Links\n")
        figure("links")
        out.append("## Timeline\n")
        figure("timeline")
        figure("utilization")
        out += ["## Energy\n", _table(*energy_rows(data)), md(energy_explained(data)) + "\n"]
        figure("energy")
    # (json.dumps writes every non-ASCII or control character as an escape)
    out += ["## Chip\n", "```json\n" + json.dumps(data.get("chip"), indent=1) + "\n```\n",
            "## Run configuration\n",
            "```json\n" + json.dumps(data.get("config"), indent=1) + "\n```\n"]
    return "\n".join(out)
