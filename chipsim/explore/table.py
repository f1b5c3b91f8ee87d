"""The table of a sweep: one row per point, in the grid's order, as CSV and as Markdown.

Columns (:func:`table_columns`): ``index``; one column per grid key (the point's value);
``status`` (``ok``, ``infeasible``, ``error``); ``metric`` (``top1`` in %, ``bpc`` bits per
character); ``software`` (float forward), ``chip_mean``, ``chip_ci95_lo``, ``chip_ci95_hi``
(accuracy over the chip instances); ``latency_ns``, ``throughput_inf_per_s``, ``tops``,
``energy_uj_per_inference``, ``tops_per_w`` (the report summary's timing figures);
``area_mm2`` (the die) and ``tops_per_mm2`` (TOPS over all cores' MVM area, the chip paper's
convention), from the report summary; ``cores``
(of the chip) and ``cores_used`` (holding a block); ``static_power_mw`` (average static power
over the timing run, :attr:`~chipsim.report.sections.TimingSection.static_power_mw`);
``reason`` (why a point is infeasible or failed). Empty cells: not measured, or not ok. When a
point measured its accuracy sequentially (``run.ci_width``), three columns follow ``chip_ci95_hi``:
``ci_reached`` (the interval reached the target width), ``samples`` and ``instances`` (those
the point used).

The CSV holds full-precision numbers (Python's shortest repr), so equal records give
byte-identical files; the Markdown rounds for reading and escapes text (a setting's value, a
reason naming a layer) so that it renders as itself (:mod:`chipsim.escape`).

Examples
--------
>>> rec = {"index": 0, "settings": {"core.adc_bits": 4}, "status": "infeasible",
...        "reason": "needs 40 cores", "summary": None, "cores": 32}
>>> print(table_csv([rec], ["core.adc_bits"]).splitlines()[1])
0,4,infeasible,,,,,,,,,,,,,32,,,needs 40 cores
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..escape import markdown_text

__all__ = ["RESULT_COLUMNS", "SEQUENTIAL_COLUMNS", "SYSTEM_COLUMNS", "table_columns",
           "table_rows", "table_csv", "table_markdown"]

#: the columns after the grid keys
RESULT_COLUMNS = ("status", "metric", "software", "chip_mean", "chip_ci95_lo", "chip_ci95_hi",
                  "latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
                  "tops_per_w", "area_mm2", "tops_per_mm2", "cores", "cores_used",
                  "static_power_mw", "reason")

_SUMMARY_KEYS = ("metric", "software", "chip_mean", "latency_ns", "throughput_inf_per_s",
                 "tops", "energy_uj_per_inference", "tops_per_w", "area_mm2", "tops_per_mm2",
                 "cores_used")


#: the columns after ``chip_ci95_hi`` when a point measured its accuracy sequentially
SEQUENTIAL_COLUMNS = ("ci_reached", "samples", "instances")


#: the columns of a sweep with systems of several chips (after ``cores_used``): chips, chips
#: used, and the share of energy and latency that crossing chips costs (the report's system
#: section)
SYSTEM_COLUMNS = ("chips", "chips_used", "c2c_energy_share", "c2c_latency_share")


def _sequential(records: list[dict[str, Any]]) -> bool:
    return any((r.get("summary") or {}).get("ci_target") is not None for r in records)


def _systems(records: list[dict[str, Any]]) -> bool:
    return any((r.get("summary") or {}).get("chips") is not None for r in records)


def table_columns(keys: list[str], sequential: bool = False, systems: bool = False
                  ) -> list[str]:
    """The header: ``index``, the grid keys, :data:`RESULT_COLUMNS` (with
    :data:`SEQUENTIAL_COLUMNS` after ``chip_ci95_hi`` when ``sequential``, and
    :data:`SYSTEM_COLUMNS` after ``cores_used`` when ``systems``)."""
    cols = list(RESULT_COLUMNS)
    if sequential:
        at = cols.index("chip_ci95_hi") + 1
        cols[at:at] = SEQUENTIAL_COLUMNS
    if systems:
        at = cols.index("cores_used") + 1
        cols[at:at] = SYSTEM_COLUMNS
    return ["index", *keys, *cols]


def table_rows(records: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """One ``{column: value}`` per record (None where there is no value), in records' order."""
    rows = []
    cols = table_columns(keys, _sequential(records), _systems(records))
    for rec in records:
        s = rec.get("summary") or {}
        row: dict[str, Any] = {"index": rec["index"]}
        row.update({k: rec["settings"].get(k) for k in keys})
        row["status"] = rec["status"]
        row.update({k: s.get(k) for k in _SUMMARY_KEYS})
        ci = s.get("chip_ci95") or [None, None]
        row["chip_ci95_lo"], row["chip_ci95_hi"] = ci
        row["cores"] = rec.get("cores", s.get("cores"))
        row["static_power_mw"] = rec.get("static_power_mw")
        row["reason"] = rec.get("reason")
        row.update({k: s.get(k) for k in SEQUENTIAL_COLUMNS + SYSTEM_COLUMNS})
        rows.append({c: row.get(c) for c in cols})
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return repr(value) if isinstance(value, float) else str(value)


def table_csv(records: list[dict[str, Any]], keys: list[str]) -> str:
    """The table as CSV text (header line, then one line per record)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = table_columns(keys, _sequential(records), _systems(records))
    w.writerow(cols)
    for row in table_rows(records, keys):
        w.writerow([_cell(row[c]) for c in cols])
    return buf.getvalue()


def _short(value: Any, column: str) -> str:
    if isinstance(value, float):
        if column in ("software", "chip_mean", "chip_ci95_lo", "chip_ci95_hi"):
            return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return markdown_text(_cell(value))


def table_markdown(records: list[dict[str, Any]], keys: list[str]) -> str:
    """The table as a Markdown (GitHub) table, numbers rounded (4 significant digits, whole
    numbers from 1000 on).

    The two CI columns are merged into ``chip_ci95`` (``[lo, hi]``).
    """
    cols = [c for c in table_columns(keys, _sequential(records), _systems(records))
            if c not in ("chip_ci95_lo", "chip_ci95_hi")]
    at = cols.index("chip_mean") + 1
    cols.insert(at, "chip_ci95")
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in table_rows(records, keys):
        cells = []
        for c in cols:
            if c == "chip_ci95":
                lo, hi = row["chip_ci95_lo"], row["chip_ci95_hi"]
                cells.append("" if lo is None else f"[{_short(lo, c + '_lo')}, "
                             f"{_short(hi, c + '_hi')}]")
            else:
                cells.append(_short(row[c], c))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
