"""The figures of a report, drawn from its JSON content alone, as small PNG images.

Each figure function takes ``Report.to_dict()`` and returns PNG bytes (or None when the report
has nothing to show, e.g. no timing). Figures use matplotlib's Agg canvas directly: no display, no
pyplot state, no change of the global backend. The PNGs carry no date, so the same report gives
the same bytes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

from ..escape import plot_text
from .tables import fmt_ns

__all__ = ["DPI", "FIGURES", "render_figures", "warm_up", "core_grid_png", "links_png",
           "timeline_png", "utilization_png", "energy_png", "accuracy_time_png"]

#: resolution of every figure (dots per inch)
DPI = 90


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def core_grid_png(data: dict[str, Any]) -> bytes | None:
    """The core grid coloured by layer (the picture of ``chipsim map --out``)."""
    from ..mapping.plot import draw_core_grid

    m = data["mapping"]
    rows, cols = m["grid"]
    cell = 0.85 if max(rows, cols) <= 16 else 0.4
    fig = _figure(max(4.0, cols * cell + 2.4), max(3.0, rows * cell + 0.8))
    draw_core_grid(fig.add_subplot(), m)
    fig.tight_layout()
    return _png(fig)


def _parse_link(name: str) -> tuple[int, int] | None:
    a, _, b = name.partition("->")
    return (int(a), int(b)) if a.isdigit() and b.isdigit() else None


def links_png(data: dict[str, Any]) -> bytes | None:
    """Per-link utilization drawn on the core grid (line width and colour by busy fraction).

    A link ``a->b`` is a line from core ``a`` towards core ``b``, shifted to the right of its
    direction so the two directions of a pair are both visible; host links are listed in the
    title.
    """
    t = data.get("timing")
    if not t or not t.get("link_utilization"):
        return None
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    from ..mapping.plot import grid_axes, layer_colors

    m = data["mapping"]
    rows, cols = m["grid"]
    util = t["link_utilization"]
    peak = max(util.values()) or 1.0
    norm = Normalize(0.0, peak)
    cmap = colormaps["viridis"]
    cell = 0.75 if max(rows, cols) <= 16 else 0.4
    fig = _figure(max(4.0, cols * cell + 2.0), max(3.0, rows * cell + 0.9))
    ax = fig.add_subplot()
    colour = layer_colors([ly["name"] for ly in m["layers"]])
    layer_of = {b["core"]: b["layer"] for b in m["blocks"]}
    for core in range(m["n_cores"]):
        r, c = divmod(core, cols)
        face = colour.get(layer_of.get(core), "white")
        ax.add_patch(Rectangle((c + 0.2, r + 0.2), 0.6, 0.6, facecolor=face, alpha=0.35,
                               edgecolor="0.7", lw=0.5))
    host, segments, colours, widths = [], [], [], []
    for name, u in sorted(util.items(), key=lambda kv: kv[1]):
        ends = _parse_link(name)
        if ends is None:
            host.append(f"{name.replace('->', '→')} {u:.0%}")
            continue
        (ra, ca), (rb, cb) = divmod(ends[0], cols), divmod(ends[1], cols)
        xa, ya, xb, yb = ca + 0.5, ra + 0.5, cb + 0.5, rb + 0.5
        dx, dy = xb - xa, yb - ya
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / length, dy / length
        ox, oy = -uy * 0.09, ux * 0.09  # shift to one side of the direction
        sx, sy = ux * 0.2, uy * 0.2  # stop short of the cores
        segments.append(((xa + ox + sx, ya + oy + sy), (xb + ox - sx, yb + oy - sy)))
        colours.append(cmap(norm(u)))
        widths.append(0.6 + 4.0 * u / peak)
    # one collection, drawn in this order (a line each took a third of the figure's time)
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths,
                                     capstyle="butt"))
    grid_axes(ax, rows, cols)
    title = "link utilization (busy fraction of the run)"
    if host:
        title += "\nhost links: " + ", ".join(host)
    ax.set_title(title, fontsize=8)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.046, pad=0.03)
    bar.ax.tick_params(labelsize=7)
    bar.set_label("busy fraction", fontsize=7)
    fig.tight_layout()
    return _png(fig)


def _core_order(data: dict[str, Any]) -> tuple[list[int], dict[int, str]]:
    """The mapped cores in layer order (then replica, block), and each core's layer."""
    m = data["mapping"]
    rank = {ly["name"]: i for i, ly in enumerate(m["layers"])}
    blocks = sorted(m["blocks"], key=lambda b: (rank.get(b["layer"], 0), b["replica"],
                                                b["index"], b["core"]))
    order, layer = [], {}
    for b in blocks:
        if b["core"] not in layer:
            order.append(b["core"])
            layer[b["core"]] = b["layer"]
    return order, layer


def _layer_axis(ax: Any, order: list[int], layer: dict[int, str], colours: dict) -> None:
    """Rows grouped by layer: each layer's name at its first row, thin lines between them."""
    ticks, names = [], []
    for i, core in enumerate(order):
        if i == 0 or layer[order[i - 1]] != layer[core]:
            ticks.append(i + 0.5)
            names.append(layer[core])
            if i:
                ax.axhline(i, color="0.8", lw=0.5)
    ax.set_yticks(ticks, [plot_text(n) for n in names], fontsize=6)
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        tick.set_color(colours.get(name, "black"))


def timeline_png(data: dict[str, Any]) -> bytes | None:
    """Gantt chart of the cores over the first inferences (MVM, LDPU and GDC spans), one row
    per core grouped by layer in the network's order, with the moments inferences were
    complete and the first inference's critical path: each of its layers outlined from its
    first MVM to its last output of that inference."""
    t = data.get("timing")
    if not t or not t.get("timeline"):
        return None
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch, Rectangle

    from ..mapping.plot import layer_colors

    spans = t["timeline"]
    order, layer = _core_order(data)
    order += sorted({e[0] for e in spans} - set(order))
    layer.update({c: "?" for c in order if c not in layer})
    row = {c: i for i, c in enumerate(order)}
    colours = layer_colors([ly["name"] for ly in data["mapping"]["layers"]])
    style = {"mvm": ("tab:blue", 0.05, 0.42), "ldpu": ("tab:orange", 0.5, 0.42),
             "gdc": ("tab:red", 0.05, 0.87)}
    fig = _figure(8.0, min(9.0, 1.6 + 0.11 * len(order)))
    ax = fig.add_subplot()
    # one collection per action (a broken_barh per core made 128 of them: half the figure's
    # time)
    for action, (col, off, h) in style.items():
        bars = []
        for core, start, end, act in spans:
            if act == action:
                x0, x1 = start / 1e6, start / 1e6 + max(end - start, 1) / 1e6
                y0 = row[core] + off
                bars.append(((x0, y0), (x0, y0 + h), (x1, y0 + h), (x1, y0)))
        if bars:
            ax.add_collection(PolyCollection(bars, facecolors=col, linewidths=0))
    window = t.get("timeline_window_ns") or [0.0, max(e[2] for e in spans) / 1e3]
    ax.set_xlim(window[0] / 1e3, window[1] / 1e3)
    ax.set_ylim(len(order), 0)
    _layer_axis(ax, order, layer, colours)
    handles = [Patch(color=c, label=a) for a, (c, _, _) in style.items()]
    for ly in data["layers"]:
        rows = [row[c] for c in order if layer[c] == ly["name"]]
        if ly.get("critical") and ly.get("first_inference_ns") and rows:
            start, end = (v / 1e3 for v in ly["first_inference_ns"])
            ax.add_patch(Rectangle((start, min(rows)), end - start, max(rows) + 1 - min(rows),
                                   fill=False, ec="black", lw=1.0))
    if any(ly.get("critical") for ly in data["layers"]):
        handles.append(Patch(fill=False, ec="black", label="inference 1 critical path"))
    done = [c / 1e3 for c in t.get("completion_ns", []) if c <= window[1]]
    for k, when in enumerate(done):
        ax.axvline(when, color="0.3", ls="--", lw=0.8)
        ax.text(when, 0, f" inference {k + 1} done", fontsize=6, va="top", rotation=90,
                color="0.3")
    ax.set_ylabel("cores, by layer", fontsize=8)
    ax.set_xlabel("simulated time (µs)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    gap = t.get("timeline_merge_gap_ns")
    title = f"core activity, first {window[1] / 1e3:.4g} µs of the run"
    if gap:
        title += f" (spans less than {fmt_ns(gap)} apart merged)"
    ax.set_title(title, fontsize=8, loc="left")
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.05),
              ncols=len(handles), frameon=False)
    fig.tight_layout()
    return _png(fig)


def utilization_png(data: dict[str, Any]) -> bytes | None:
    """Per core, the fraction of the run its MVM unit and its LDPU were busy, cores grouped by
    layer (bars in the layer's colour of the core grid; LDPU as black ticks)."""
    t = data.get("timing")
    if not t or not t.get("core_utilization"):
        return None
    from ..mapping.plot import layer_colors

    order, layer = _core_order(data)
    order = [c for c in order if str(c) in t["core_utilization"]]
    if not order:
        return None
    colours = layer_colors([ly["name"] for ly in data["mapping"]["layers"]])
    mvm = [t["core_utilization"][str(c)] for c in order]
    ldpu = [t.get("ldpu_utilization", {}).get(str(c), 0.0) for c in order]
    fig = _figure(8.0, min(9.0, 1.4 + 0.11 * len(order)))
    ax = fig.add_subplot()
    ys = [i + 0.5 for i in range(len(order))]
    ax.barh(ys, mvm, height=0.8, color=[colours.get(layer[c], "0.5") for c in order])
    ax.plot(ldpu, ys, "|", color="black", ms=4, label="LDPU busy")
    ax.set_ylim(len(order), 0)
    ax.set_xlim(0, 1)
    _layer_axis(ax, order, layer, colours)
    ax.set_xlabel("fraction of the run busy (bars: MVM unit)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_title(f"core utilization: MVM mean {sum(mvm) / len(mvm):.0%} over "
                 f"{len(order)} cores", fontsize=9, loc="left")
    fig.tight_layout()
    return _png(fig)


def energy_png(data: dict[str, Any]) -> bytes | None:
    """Energy per inference by component (horizontal bars, µJ)."""
    t = data.get("timing")
    if not t or not t.get("energy_breakdown"):
        return None
    parts = sorted(t["energy_breakdown"].items(), key=lambda kv: (kv[1], kv[0]))
    total = sum(v for _, v in parts) or 1.0
    fig = _figure(6.0, 0.8 + 0.25 * len(parts))
    ax = fig.add_subplot()
    ax.barh([k for k, _ in parts], [v for _, v in parts], color="tab:green")
    for i, (_, v) in enumerate(parts):
        ax.text(v, i, f" {v:.3g} ({v / total:.0%})", va="center", fontsize=7)
    ax.set_xlim(0, max(v for _, v in parts) * 1.3 or 1.0)
    ax.set_xlabel("µJ per inference", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"energy per inference: {total:.4g} µJ", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def accuracy_time_png(data: dict[str, Any]) -> bytes | None:
    """Chip accuracy (mean and CI95) versus time since programming, software as a line."""
    rows = data.get("accuracy_vs_time")
    if not rows:
        return None
    rows = sorted(rows, key=lambda e: e["t_seconds"])
    ts = [e["t_seconds"] for e in rows]
    mean = [e["chip_mean"] for e in rows]
    lo = [e["chip_mean"] - e["chip_ci95"][0] for e in rows]
    hi = [e["chip_ci95"][1] - e["chip_mean"] for e in rows]
    acc = data.get("accuracy") or {}
    metric = acc.get("metric") or (data.get("summary") or {}).get("metric", "")
    fig = _figure(5.5, 3.2)
    ax = fig.add_subplot()
    ax.errorbar(ts, mean, yerr=[lo, hi], marker="o", ms=4, capsize=3, label="chip (CI95)")
    if "software" in acc:
        ax.axhline(acc["software"], color="0.4", ls="--", lw=1, label="software")
    if min(ts) > 0:
        ax.set_xscale("log")
    ax.set_xlabel("time since programming (s)", fontsize=8)
    ax.set_ylabel({"top1": "top-1 accuracy (%)", "bpc": "bits per character"}.get(
        metric, metric), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("accuracy versus time since programming", fontsize=9)
    fig.tight_layout()
    return _png(fig)


#: figure name (file ``figures/<name>.png``) → (caption, function)
FIGURES: dict[str, tuple[str, Callable[[dict[str, Any]], bytes | None]]] = {
    "core_grid": ("Core grid coloured by layer (hatched: replicas)", core_grid_png),
    "links": ("Link utilization on the core grid", links_png),
    "timeline": ("Core timeline of the first inferences, by layer, with the moments "
                 "inferences were complete", timeline_png),
    "utilization": ("Per-core utilization (MVM unit and LDPU), by layer", utilization_png),
    "energy": ("Energy per inference by component", energy_png),
    "accuracy_vs_time": ("Accuracy versus time since programming", accuracy_time_png),
}


_warming: threading.Thread | None = None


def _draw_nothing() -> None:
    fig = _figure(1.0, 1.0)
    fig.add_subplot().set_title("x", fontsize=8)
    _png(fig)


def warm_up() -> None:
    """Import matplotlib and load its fonts on a background thread (about 0.4 s that
    :func:`render_figures` would otherwise spend at the end of a run); it waits for it."""
    global _warming
    if _warming is None:
        _warming = threading.Thread(target=_draw_nothing, name="chipsim-figures", daemon=True)
        _warming.start()


def render_figures(data: dict[str, Any]) -> dict[str, bytes]:
    """Every figure the report has data for: name → PNG bytes, in :data:`FIGURES` order."""
    if _warming is not None:
        _warming.join()
    out = {}
    for name, (_caption, fn) in FIGURES.items():
        png = fn(data)
        if png is not None:
            out[name] = png
    return out
