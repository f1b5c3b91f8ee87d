"""``report.html``: one self-contained page (inline CSS, figures as base64 PNG data URIs).

The page loads nothing: no script, no font, no stylesheet, no image from elsewhere.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from ..escape import visible
from .figures import FIGURES
from .markdown import title
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

__all__ = ["render_html"]

_CSS = """
body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}
table.kv td{text-align:left}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
figcaption{font-size:.85em;color:#555}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;font-size:.8em}
.muted{color:#666;font-size:.85em}
"""


def _e(text: Any) -> str:
    """``text`` as HTML text: escaped, and with invisible characters shown
    (:func:`~chipsim.escape.visible`)."""
    return html.escape(visible(text), quote=True)


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    h = "".join(f"<th>{_e(c)}</th>" for c in head) if any(head) else ""
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table{attr}>" + (f"<tr>{h}</tr>" if h else "") + body + "</table>\n"


def _img(name: str, png: bytes) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    caption = _e(FIGURES[name][0])
    return (f'<figure><img alt="{caption}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{caption}</figcaption></figure>\n")


def render_html(data: dict[str, Any], figures: dict[str, bytes]) -> str:
    """The HTML page of a report.

    Parameters
    ----------
    data
        The report's JSON content (``Report.to_dict()``).
    figures
        Figure name → PNG bytes (:func:`~chipsim.report.figures.render_figures`), inlined.

    Examples
    --------
    >>> from chipsim import RunConfig, simulate
    >>> from chipsim.report.figures import render_figures
    >>> report = simulate("resnet9", config=RunConfig(accuracy=False, inferences=1))
    >>> "<img" in render_html(report.to_dict(), render_figures(report.to_dict()))
    True
    """
    p = data.get("provenance") or {}
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{_e(title(data))}</title><style>{_CSS}</style></head><body>\n",
           f"<h1>{_e(title(data))}</h1>\n",
           f"<p class=\"muted\">chipsim {_e(p.get('chipsim', '?'))}, seed "
           f"{_e(p.get('seed', '?'))}, spec hash <code>{_e(p.get('spec_hash', '?'))}</code>, "
           f"{_e(p.get('date', ''))}; array products: "
           f"{_e(p.get('products', 'float32 BLAS'))}</p>\n"]
    if p.get("command"):
        out.append(f"<pre>{_e(p['command'])}</pre>\n")
    out += ["<h2>Summary</h2>\n", _table(["", ""], [list(r) for r in summary_rows(data)],
                                         "kv")]

    def figure(name: str) -> None:
        if name in figures:
            out.append(_img(name, figures[name]))

    if data.get("accuracy_vs_time"):
        out.append("<h2>Accuracy versus time since programming</h2>\n")
        out.append(_table(*accuracy_time_rows(data)))
        figure("accuracy_vs_time")
    out += ["<h2>Layers</h2>\n", _table(*layer_rows(data))]
    if critical_path_text(data):
        out.append(f"<p>{_e(critical_path_text(data))}</p>\n")
    out.append("<h2>Mapping</h2>\n")
    figure("core_grid")
    if system_rows(data) is not None:
        out += ["<h2>Chips</h2>\n", _table(*system_rows(data)),
                f"<p>{_e(system_text(data))}</p>\n"]
    if data.get("timing"):
        out.append("<h2>Links</h2>\n")
        figure("links")
        out.append("<h2>Timeline</h2>\n")
        figure("timeline")
        figure("utilization")
        out += ["<h2>Energy</h2>\n", _table(*energy_rows(data)),
                f"<p>{_e(energy_explained(data))}</p>\n"]
        figure("energy")
    for head, key in (("Chip", "chip"), ("Run configuration", "config")):
        text = html.escape(json.dumps(data.get(key), indent=1))  # ASCII: escapes are shown
        out.append(f"<h2>{head}</h2>\n<pre>{text}</pre>\n")
    out.append("</body></html>\n")
    return "".join(out)
