"""Figure of a mapping: the core grid coloured by layer, replicas marked."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ..escape import plot_text
from ..fileio import atomic_write
from .mapping import BlockPlacement, LayerMapping, Mapping

__all__ = ["plot_core_grid", "draw_core_grid", "layer_colors", "grid_axes"]


def plot_core_grid(m: Mapping | dict[str, Any], path: str | os.PathLike[str], *,
                   dpi: int = 120) -> Path:
    """Draw the core grid of ``m`` to an image file (PNG, SVG, PDF by suffix); return the path.

    Each core is a square coloured by its layer and labelled with the layer name and block
    index; a replica other than the first is labelled ``rN`` and hatched. Excluded cores are
    grey with a cross; unused cores are white. Uses matplotlib's Agg canvas (no display and no
    global backend change); the file is written atomically.

    Parameters
    ----------
    m
        A mapping, or its plain dict (:func:`~chipsim.mapping.mapping_to_dict`, e.g. the
        ``mapping`` section of a report).
    path
        Image file to write.
    dpi
        Resolution of raster formats.

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

    m = _as_mapping(m)
    rows, cols = _extent(m)
    cell = 0.9 if max(rows, cols) <= 16 else 0.45 if max(rows, cols) <= 40 else 0.2
    fig = Figure(figsize=(max(4.0, cols * cell + 2.4), max(3.0, rows * cell + 0.8)))
    FigureCanvasAgg(fig)
    draw_core_grid(fig.add_subplot(), m)
    fig.tight_layout()
    p = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format=p.suffix.lstrip(".").lower() or "png")
    return atomic_write(p, buf.getvalue())


def grid_axes(ax: Any, rows: int, cols: int) -> None:
    """Axes of a ``rows × cols`` core grid: one unit square per core, row 0 on top, row and
    column numbers as ticks."""
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_xticks([i + 0.5 for i in range(cols)], [str(i) for i in range(cols)], fontsize=7)
    ax.set_yticks([i + 0.5 for i in range(rows)], [str(i) for i in range(rows)], fontsize=7)
    ax.tick_params(length=0)


def draw_core_grid(ax: Any, m: Mapping | dict[str, Any]) -> None:
    """Draw the core grid of mapping ``m`` (or its plain dict) on matplotlib axes ``ax``.

    The picture of :func:`plot_core_grid`, for callers that lay out their own figure.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from chipsim.mapping import map_workload
    >>> from chipsim.spec import hermes16
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> m = map_workload([LoweredLayer("fc", "linear", 504, 50, 1)], hermes16())
    >>> draw_core_grid(Figure().add_subplot(), m)
    """
    from matplotlib.patches import Patch, Rectangle

    m = _as_mapping(m)
    rows, cols = m.grid
    colour = layer_colors([ly.name for ly in m.layers])
    on_core = m.core_blocks()
    height, width = _extent(m)
    small = max(3.0, 7.0 - 0.15 * max(rows, cols))
    labels = height * width <= 1024 or m.chips == 1
    for core in range(m.n_cores):
        r, c = _cell(m, core)
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
        if labels:
            label = (f"{plot_text(_short(b.layer))}\n{b.index}"
                     + (f" r{b.replica}" if b.replica else ""))
            ax.text(c + 0.5, r + 0.5, label, ha="center", va="center", fontsize=small)
    if m.chips == 1:
        grid_axes(ax, rows, cols)
        where = m.chip
    else:  # the chips side by side, each outlined and named
        ax.set_xlim(-0.2, width + 0.2)
        ax.set_ylim(height + 0.2, -0.8)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        for k in range(m.chips):
            r, c = _cell(m, k * m.cores_per_chip)
            ax.add_patch(Rectangle((c, r), cols, rows, fill=False, edgecolor="0.2", lw=1))
            ax.text(c + cols / 2, r - 0.15, f"chip {k}", ha="center", va="bottom",
                    fontsize=max(4.0, small))
        where = f"{m.chips} × {m.chip}"
    title = plot_text(f"{m.workload or 'workload'} on {where}: {m.cores_used}/{m.n_cores} "
                      "cores")
    ax.set_title(title, fontsize=9)
    handles = [Patch(facecolor=colour[ly.name], label=plot_text(
                     f"{ly.name} ×{ly.replicas}" if ly.replicas > 1 else ly.name))
               for ly in m.layers]
    if any(ly.replicas > 1 for ly in m.layers):
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="//",
                             label="replica ≥ 1"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
              frameon=False)


def _chips_per_row(m: Mapping) -> int:
    return max(1, round(m.chips ** 0.5 * (m.grid[0] / m.grid[1]) ** 0.5)) if m.chips > 1 else 1


#: the gap between two chips of a system in the picture, in cores
_GAP = 1


def _extent(m: Mapping) -> tuple[int, int]:
    """Height and width of the picture, in cores (the chips of a system side by side)."""
    rows, cols = m.grid
    per_row = _chips_per_row(m)
    n_rows = -(-m.chips // per_row)
    return n_rows * (rows + _GAP) - _GAP, per_row * (cols + _GAP) - _GAP


def _cell(m: Mapping, core: int) -> tuple[int, int]:
    """(row, column) of ``core``'s square in the picture."""
    rows, cols = m.grid
    k, local = divmod(core, m.cores_per_chip)
    r, c = divmod(local, cols)
    per_row = _chips_per_row(m)
    return (k // per_row) * (rows + _GAP) + r, (k % per_row) * (cols + _GAP) + c


def layer_colors(names: list[str]) -> dict[str, Any]:
    """Layer name → the colour the core-grid picture gives it (stable for a layer order)."""
    return dict(zip(names, _colors(len(names)), strict=True))


def _as_mapping(m: Mapping | dict[str, Any]) -> Mapping:
    """``m`` itself, or a :class:`Mapping` rebuilt from its plain dict (for drawing only:
    not checked against a chip or a workload)."""
    if isinstance(m, Mapping):
        return m
    layers = tuple(LayerMapping(ly["name"], ly["rows"], ly["cols"], ly["vectors"],
                                ly["blocks"], ly["replicas"], ly["cores"], ly["utilization"])
                   for ly in m["layers"])
    blocks = tuple(BlockPlacement(b["layer"], b["replica"], b["index"], tuple(b["rows"]),
                                  tuple(b["cols"]), b["core"]) for b in m["blocks"])
    return Mapping(chip=m["chip"], grid=tuple(m["grid"]), n_cores=m["n_cores"],
                   core_rows=m["core"][0], core_cols=m["core"][1], workload=m["workload"],
                   layers=layers, blocks=blocks, placement_cost=m["placement_cost"],
                   excluded_cores=tuple(m.get("excluded_cores", ())), chips=m.get("chips", 1))


def _short(name: str) -> str:
    return name if len(name) <= 8 else name.rsplit(".", 1)[-1][:8]


def _colors(n: int) -> list:
    from matplotlib import colormaps

    base = colormaps["tab20"].colors + colormaps["tab20b"].colors
    if n <= len(base):
        return list(base[:n])
    cm = colormaps["hsv"]
    return [cm(i / n) for i in range(n)]
