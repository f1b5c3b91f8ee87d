"""The Pareto figures of a sweep (PNG, matplotlib's Agg canvas, no pyplot state).

Four figures over the points with status ``ok`` (:data:`FIGURES`):

``pareto_accuracy_vs_tops_per_w.png``
    Chip accuracy against TOPS/W.
``pareto_accuracy_vs_tops_per_mm2.png``
    Chip accuracy against TOPS/mm² (of all cores' MVM area).
``pareto_accuracy_vs_throughput.png``
    Chip accuracy against throughput (inferences per second).
``pareto_tops_per_w_vs_cores.png``
    TOPS/W against the chip's number of cores (fewer is better).

Accuracy is better when higher for ``top1`` and when lower for ``bpc``; its bars are the 95 %
confidence interval over the chip instances. Pareto-optimal points
(:func:`~chipsim.explore.pareto.pareto_front`) are drawn in red, joined by a dashed line and
labelled with their settings; the others are grey and labelled with their index. Points at the
same place share one label (and the title says how many distinct positions there are); labels
of nearby points are stacked; an axis whose values differ by less than 10 % of their size is
widened to that span, so that near-equal values look near-equal. A figure whose
values were not measured (no accuracy: a model without a task, or ``run.accuracy=false``; no
timing) is not written. The PNGs carry no date: equal records give equal bytes.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

__all__ = ["FIGURES", "DPI", "figure_png", "write_figures", "point_label"]

#: resolution of the figures (dots per inch)
DPI = 90

#: file name -> (x column, y column): columns of :func:`_value`
FIGURES = {
    "pareto_accuracy_vs_tops_per_w.png": ("tops_per_w", "accuracy"),
    "pareto_accuracy_vs_tops_per_mm2.png": ("tops_per_mm2", "accuracy"),
    "pareto_accuracy_vs_throughput.png": ("throughput_inf_per_s", "accuracy"),
    "pareto_tops_per_w_vs_cores.png": ("cores", "tops_per_w"),
}

_LABELS = {"tops_per_w": "TOPS/W (whole chip)", "throughput_inf_per_s": "throughput (inf/s)",
           "tops_per_mm2": "TOPS/mm² (MVM area)",
           "cores": "cores on the chip"}


def point_label(settings: dict[str, Any]) -> str:
    """Short label of a point: the last part of each key and its value.

    Examples
    --------
    >>> point_label({"core.adc_bits": 4, "chip.cores": 64})
    'adc_bits=4, cores=64'
    """
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in settings.items())


def _value(rec: dict[str, Any], column: str) -> float:
    s = rec.get("summary") or {}
    if column == "accuracy":
        v = s.get("chip_mean")
    elif column == "cores":
        v = rec.get("cores", s.get("cores"))
    else:
        v = s.get(column)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan


def _better_high(column: str, metric: str | None) -> bool:
    if column == "accuracy":
        return metric != "bpc"
    return column != "cores"


#: an axis spans at least this fraction of its largest value, so that equal-looking values
#: are not stretched over the whole axis
MIN_SPAN = 0.1


def _honest_limits(ax: Any, xy: Any) -> None:
    """Widen an axis whose values differ by less than :data:`MIN_SPAN` of their size to that
    span around their middle (0.6202 and 0.6219 TOPS/W then look as close as they are)."""
    for k, setter in ((0, ax.set_xlim), (1, ax.set_ylim)):
        lo, hi = float(xy[:, k].min()), float(xy[:, k].max())
        size = max(abs(lo), abs(hi))
        if size > 0 and hi - lo < MIN_SPAN * size:
            mid = (lo + hi) / 2
            setter(mid - MIN_SPAN * size / 2, mid + MIN_SPAN * size / 2)


def _places(pts: list, front: Any) -> list[tuple[tuple[float, float], list]]:
    """The points grouped by position (equal values to 1e-9 relative): ``((x, y), [(record,
    on the front), ...])`` in the order of their first point."""
    groups: dict[tuple[float, float], list] = {}
    for (rec, px, py), on in zip(pts, front, strict=True):
        key = (float(f"{px:.9g}"), float(f"{py:.9g}"))
        groups.setdefault(key, []).append((rec, bool(on)))
    return list(groups.items())


def _shift(at: tuple[float, float], placed: list[tuple[float, float]]) -> int:
    """How many labels already sit at nearly the same place (1 % of the larger coordinate):
    the next one goes one line lower per label."""
    return sum(1 for p in placed
               if all(abs(a - b) <= 0.01 * max(abs(a), abs(b), 1e-12) for a, b in zip(
                   at, p, strict=True)))


def figure_png(records: list[dict[str, Any]], x: str, y: str) -> bytes | None:
    """One Pareto figure of ``y`` against ``x`` (columns of :data:`FIGURES`), or None.

    None when fewer than one ``ok`` point has both values.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .pareto import pareto_front

    ok = [r for r in records if r.get("status") == "ok"]
    pts = [(r, _value(r, x), _value(r, y)) for r in ok]
    pts = [p for p in pts if math.isfinite(p[1]) and math.isfinite(p[2])]
    if not pts:
        return None
    metric = next((r["summary"].get("metric") for r, _, _ in pts if r["summary"].get("metric")),
                  None)
    xy = np.array([[px, py] for _, px, py in pts])
    front = pareto_front(xy, [_better_high(x, metric), _better_high(y, metric)])

    fig = Figure(figsize=(6.4, 4.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if y == "accuracy":  # the chip instances' 95 % interval
        ci = np.array([(r["summary"].get("chip_ci95") or [py, py]) for r, _, py in pts],
                      dtype=float)
        err = np.abs(np.stack([xy[:, 1] - ci[:, 0], ci[:, 1] - xy[:, 1]]))
        ax.errorbar(xy[:, 0], xy[:, 1], yerr=err, fmt="none", ecolor="0.75", lw=1, zorder=1)
    ax.scatter(xy[~front, 0], xy[~front, 1], c="0.6", s=28, label="dominated", zorder=2)
    ax.scatter(xy[front, 0], xy[front, 1], c="tab:red", s=46, label="Pareto-optimal",
               zorder=3)
    _honest_limits(ax, xy)
    placed: list[tuple[float, float]] = []
    order = np.argsort(xy[front, 0], kind="stable")
    ax.plot(xy[front, 0][order], xy[front, 1][order], "--", c="tab:red", lw=1, zorder=1)
    for (px, py), group in _places(pts, front):
        on = any(f for _, f in group)
        text = " | ".join(point_label(r["settings"]) if f else f"#{r['index']}"
                          for r, f in group)
        ax.annotate(text, (px, py), textcoords="offset points", xytext=(4, 4 - 10 * _shift(
            (px, py), placed)), fontsize=7, color="black" if on else "0.45")
        placed.append((px, py))
    ylab = {"top1": "chip top-1 accuracy (%) ↑", "bpc": "chip bits per character ↓"}
    ax.set_xlabel(_LABELS.get(x, x) + (" ↓" if not _better_high(x, metric) else " ↑"))
    ax.set_ylabel(ylab.get(metric, "chip accuracy") if y == "accuracy"
                  else _LABELS.get(y, y) + " ↑")
    model = pts[0][0]["summary"].get("model", "")
    places = len(_places(pts, front))
    same = f" at {places} distinct positions" if places < len(pts) else ""
    ax.set_title(f"{model}: {len(pts)} points{same}, {int(front.sum())} Pareto-optimal",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def write_figures(records: list[dict[str, Any]], folder: str | Path) -> dict[str, Path]:
    """Write every figure of :data:`FIGURES` that has data into ``folder``; return the paths.

    A figure of an earlier run that now has no data is removed, so the folder matches the
    records.
    """
    from ..fileio import atomic_write

    folder = Path(folder)
    out = {}
    for name, (x, y) in FIGURES.items():
        png = figure_png(records, x, y)
        path = folder / name
        if png is None:
            path.unlink(missing_ok=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        out[name] = atomic_write(path, png)
    return out
