"""Reports of a design point: the :class:`Report` data, its JSON file, Markdown/HTML and figures.

- :mod:`~chipsim.report.model`: the :class:`Report`, its typed sections
  (:mod:`~chipsim.report.sections`) and its JSON form;
- :mod:`~chipsim.report.tables`: the tables shared by the terminal, Markdown and HTML views,
  and the flat summary of ``chipsim run --json``;
- :mod:`~chipsim.report.terminal`: what ``chipsim run`` prints (text or JSON);
- :mod:`~chipsim.report.figures`: the PNG figures (core grid, links, timeline, energy,
  accuracy versus time);
- :mod:`~chipsim.report.markdown`, :mod:`~chipsim.report.html`: the two documents;
- :mod:`~chipsim.report.writer`: the report directory, written atomically, and its redraw.
"""

from .model import Report
from .terminal import json_summary, terminal_text
from .writer import render_report_dir, write_report

__all__ = ["Report", "json_summary", "terminal_text", "write_report", "render_report_dir"]
