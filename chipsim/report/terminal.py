"""What ``chipsim run`` prints: the key figures as text, or as one JSON object.

Examples
--------
>>> from chipsim import RunConfig, simulate
>>> r = simulate("resnet9", "hermes", config=RunConfig(samples=20, instances=1, timing=False))
>>> print(terminal_text(r).splitlines()[0])
chipsim run: resnet9 on hermes
>>> json_summary(r)["accuracy"]["samples"], json_summary(r)["tops"]
(20, None)
"""

from __future__ import annotations

from typing import Any

from ..escape import visible
from .model import Report
from .tables import ci_text, flat_summary, summary_rows

__all__ = ["terminal_text", "json_summary"]


def json_summary(report: Report) -> dict[str, Any]:
    """The JSON object of ``chipsim run --json`` (:func:`~chipsim.report.tables.flat_summary`)."""
    return flat_summary(report.to_dict())


def terminal_text(report: Report) -> str:
    """The key figures, one per line, and the accuracy at each time of ``accuracy_vs_time``
    (names with control characters or bidirectional overrides show them as escapes)."""
    data = report.to_dict()
    rows = summary_rows(data)
    width = max(len(k) for k, _ in rows)
    lines = [f"chipsim run: {report.workload.name} on {report.chip.name}"]
    lines += [f"  {key:<{width}}  {value}" for key, value in rows]
    n = report.accuracy.instances if report.accuracy is not None else 2
    lines += [f"  {'':<{width}}  t = {e['t_seconds']:g} s: chip {ci_text(e, n)}"
              for e in data["accuracy_vs_time"] or []]
    return "\n".join(visible(line) for line in lines)
