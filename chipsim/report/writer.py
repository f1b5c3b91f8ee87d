"""The report directory, written atomically: ``report.json``, ``report.md``, ``report.html``
and ``figures/*.png``.

The directory is built as a hidden temporary sibling and renamed into place at the end, so a
crash never leaves a partial directory under the final name; an existing report directory is
replaced only then. A directory that holds anything else than a report's files is never
replaced.

Examples
--------
>>> import tempfile, pathlib
>>> from chipsim import RunConfig, simulate
>>> report = simulate("resnet9", config=RunConfig(accuracy=False, inferences=1))
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = write_report(report, pathlib.Path(tmp) / "example")
...     sorted(p.name for p in out.iterdir())
['figures', 'report.html', 'report.json', 'report.md']
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from ..errors import ChipsimError
from ..fileio import atomic_write
from ..inputs import read_text
from .figures import render_figures
from .html import render_html
from .markdown import render_markdown
from .model import REPORT_FILE, Report

__all__ = ["REPORT_FILES", "write_report", "render_report_dir", "check_output_dir"]

#: what a report directory holds (``figures`` is a folder of PNG files)
REPORT_FILES = ("report.json", "report.md", "report.html", "figures")


def _replaceable(target: Path) -> None:
    """Raise unless ``target`` is absent, an empty folder or a report directory."""
    if not (target.exists() or target.is_symlink()):
        return
    if target.is_symlink() or not target.is_dir():
        raise ChipsimError(f"{target}: exists and is not a directory; choose another output "
                           "directory")
    for entry in target.iterdir():
        ok = entry.name in REPORT_FILES
        if ok and entry.name == "figures":
            ok = entry.is_dir() and all(f.suffix == ".png" and f.is_file()
                                        for f in entry.iterdir())
        if not ok:
            raise ChipsimError(f"{target}: exists and is not a chipsim report directory (it "
                               f"holds {entry.name!r}); choose another output directory")


def check_output_dir(directory: str | os.PathLike) -> Path:
    """Check early (before a long run) that a report can be written to ``directory``.

    Creates the parent folders and a temporary folder beside ``directory`` (removed again), and
    checks that an existing ``directory`` is a report directory or empty.

    Raises
    ------
    ChipsimError
        Naming the directory and the reason (not a directory, permission denied, ...).
    """
    target = Path(directory)
    for up in target.parents:
        if up.exists() or up.is_symlink():
            if not up.is_dir():
                raise ChipsimError(f"{target}: cannot write the report directory there: {up} "
                                   "is not a directory")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.")).rmdir()
    except OSError as exc:
        raise ChipsimError(f"{target}: cannot write the report directory there: "
                           f"{exc.strerror or exc}") from None
    _replaceable(target)
    return target


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


def _build(target: Path, json_text: str, report: Report, source: str | None = None) -> Path:
    """Write every file into a temporary sibling of ``target`` and rename it into place."""
    check_output_dir(target)
    figures, md, page = _render(report, source)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        (tmp / "figures").mkdir()
        for name, png in figures.items():
            atomic_write(tmp / "figures" / f"{name}.png", png)
        atomic_write(tmp / "report.json", json_text)
        atomic_write(tmp / "report.md", md)
        atomic_write(tmp / "report.html", page)
        _install(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _install(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``, replacing an existing report directory last."""
    _replaceable(target)
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(report: Report, directory: str | os.PathLike) -> Path:
    """Write ``report`` as a report directory (JSON, Markdown, HTML, figures); return its path.

    Raises
    ------
    ChipsimError
        When the directory cannot be written, or exists and is not a report directory.
    """
    target = Path(directory)
    return _build(target, report.to_json(), report)


def render_report_dir(directory: str | os.PathLike) -> Path:
    """Redraw ``report.md``, ``report.html`` and the figures of a report directory from its
    ``report.json`` alone (kept byte for byte); return the directory.

    Raises
    ------
    ChipsimError
        When ``directory/report.json`` is missing or is not a chipsim report.
    """
    target = Path(directory)
    src = target / "report.json"
    text = read_text(src, REPORT_FILE)
    report = Report.from_json(text, str(src))
    return _build(target, text, report, str(src))
