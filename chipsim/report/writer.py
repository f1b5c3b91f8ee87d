"""The report directory: ``report.json``, ``report.md``, ``report.html`` and
``figures/*.png``, written as every output directory of chipsim is (:mod:`chipsim.outdir`).

The directory is built as a hidden temporary sibling and renamed into place at the end, so a
crash never leaves a partial directory under the final name; an existing report directory is
replaced only then. A directory that holds anything chipsim did not write there (a file added
or edited by hand, or the directory of another command) is never replaced.

Examples
--------
>>> import tempfile, pathlib
>>> from chipsim import RunConfig, simulate
>>> report = simulate("resnet9", config=RunConfig(accuracy=False, inferences=1))
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = write_report(report, pathlib.Path(tmp) / "example")
...     sorted(p.name for p in out.iterdir())
['.chipsim-files.json', 'figures', 'report.html', 'report.json', 'report.md']
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ChipsimError
from ..fileio import atomic_write
from ..inputs import read_text
from ..outdir import building, check_output_dir
from .figures import render_figures
from .html import render_html
from .markdown import render_markdown
from .model import REPORT_FILE, Report

__all__ = ["write_report", "render_report_dir"]

#: what ``chipsim report`` carries into the redrawn directory as it is
_KEEP = ("report.json",)


def _render(report: Report, source: str | None) -> tuple[dict[str, bytes], str, str]:
    """Figures, Markdown and HTML of ``report``; a report read from ``source`` that lacks
    what they need is a :class:`ChipsimError`."""
    try:
        data = report.to_dict()
        figures = render_figures(data)
        return figures, render_markdown(data, list(figures)), render_html(data, figures)
    except ChipsimError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        if source is None:
            raise
        raise ChipsimError(f"{source}: incomplete or malformed chipsim report "
                           f"({type(exc).__name__}: {exc})") from None


def _build(target: Path, json_text: str, report: Report, source: str | None = None,
           keep: tuple[str, ...] = ()) -> Path:
    """Write every file into a temporary sibling of ``target`` and rename it into place."""
    check_output_dir(target, "report", keep=keep)  # before rendering
    figures, md, page = _render(report, source)
    with building(target, "report", keep=keep) as tmp:
        (tmp / "figures").mkdir()
        for name, png in figures.items():
            atomic_write(tmp / "figures" / f"{name}.png", png)
        atomic_write(tmp / "report.json", json_text)
        atomic_write(tmp / "report.md", md)
        atomic_write(tmp / "report.html", page)
    return target


def write_report(report: Report, directory: str | os.PathLike) -> Path:
    """Write ``report`` as a report directory (JSON, Markdown, HTML, figures); return its path.

    Raises
    ------
    ChipsimError
        When the directory cannot be written there, or exists and is not a report directory
        chipsim wrote (:func:`chipsim.outdir.check_output_dir`).
    """
    return _build(Path(directory), report.to_json(), report)


def render_report_dir(directory: str | os.PathLike) -> Path:
    """Redraw ``report.md``, ``report.html`` and the figures of a report directory from its
    ``report.json`` alone (kept byte for byte); return the directory.

    Raises
    ------
    ChipsimError
        When ``directory/report.json`` is missing or is not a chipsim report, or the directory
        holds a file chipsim did not write (``report.json`` may have been edited: it is kept).
    """
    target = check_output_dir(directory, "report", option="DIR", keep=_KEEP)
    src = target / "report.json"
    text = read_text(src, REPORT_FILE)
    report = Report.from_json(text, str(src))
    return _build(target, text, report, str(src), _KEEP)
