"""Figure of a mapping: the core grid coloured by layer, replicas marked."""

from __future__ import annotations

import os
from pathlib import Path

from .mapping import Mapping

__all__ = ["plot_core_grid"]


def plot_core_grid(m: Mapping, path: str | os.PathLike[str], *, dpi: int = 120) -> Path:
    """Draw the core grid of ``m`` to an image file (PNG, SVG, PDF by suffix); return the path.

    Each core is a square coloured by its layer and labelled with the layer name and block
    index; a replica other than the first is labelled ``rN`` and hatched. Excluded cores are
    grey with a cross; unused cores are white. Uses matplotlib's Agg canvas (no display and no
    global backend change).

    Examples
    --------
    >>> import tempfile
    >>> from chipsim.mapping import map_workload
    >>> from chipsim.spec import hermes16
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> m = map_workload([LoweredLayer("fc", "linear", 504, 50, 1)], hermes16())
    >>> with tempfile.TemporaryDirectory() as d:
    ...     plot_core_grid(m, Path(d) / "grid.png").stat().st_size > 0
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    rows, cols = m.grid
    names = [ly.name for ly in m.layers]
    cmap = _colors(len(names))
    colour = dict(zip(names, cmap, strict=True))
    cell = 0.9 if max(rows, cols) <= 16 else 0.45
    fig = Figure(figsize=(max(4.0, cols * cell + 2.4), max(3.0, rows * cell + 0.8)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    on_core = m.core_blocks()
    small = max(3.0, 7.0 - 0.15 * max(rows, cols))
    for core in range(m.n_cores):
        r, c = divmod(core, cols)
        b = on_core.get(core)
        if core in m.excluded_cores:
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor="0.6", edgecolor="white"))
            ax.plot([c + 0.2, c + 0.8], [r + 0.2, r + 0.8], color="0.2", lw=1)
            ax.plot([c + 0.2, c + 0.8], [r + 0.8, r + 0.2], color="0.2", lw=1)
            continue
        if b is None:
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor="white", edgecolor="0.8"))
            continue
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour[b.layer], edgecolor="white",
                               hatch="//" if b.replica else None, lw=1))
        label = f"{_short(b.layer)}\n{b.index}" + (f" r{b.replica}" if b.replica else "")
        ax.text(c + 0.5, r + 0.5, label, ha="center", va="center", fontsize=small)
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_xticks([i + 0.5 for i in range(cols)], [str(i) for i in range(cols)], fontsize=7)
    ax.set_yticks([i + 0.5 for i in range(rows)], [str(i) for i in range(rows)], fontsize=7)
    ax.tick_params(length=0)
    title = f"{m.workload or 'workload'} on {m.chip}: {m.cores_used}/{m.n_cores} cores"
    ax.set_title(title, fontsize=9)
    handles = [Patch(facecolor=colour[ly.name],
                     label=f"{ly.name} ×{ly.replicas}" if ly.replicas > 1 else ly.name)
               for ly in m.layers]
    if any(ly.replicas > 1 for ly in m.layers):
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="//",
                             label="replica ≥ 1"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
              frameon=False)
    fig.tight_layout()
    p = Path(path)
    fig.savefig(p, dpi=dpi)
    return p


def _short(name: str) -> str:
    return name if len(name) <= 8 else name.rsplit(".", 1)[-1][:8]


def _colors(n: int) -> list:
    from matplotlib import colormaps

    base = colormaps["tab20"].colors + colormaps["tab20b"].colors
    if n <= len(base):
        return list(base[:n])
    cm = colormaps["hsv"]
    return [cm(i / n) for i in range(n)]
