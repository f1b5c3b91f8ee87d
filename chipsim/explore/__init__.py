"""Design-space sweeps: a grid of settings over a base design point, run anywhere, resumable.

``chipsim sweep`` is a thin layer over :func:`run_sweep`. The pieces:

- :mod:`~chipsim.explore.grid`: keys (chip spec paths, ``run.`` options, ``chip.cores``),
  values, validation and the cartesian product of points;
- :mod:`~chipsim.explore.worker`: one point → one record (status, summary, static power);
- :mod:`~chipsim.explore.executors`: in-process, a local process pool, or a Dask scheduler;
- :mod:`~chipsim.explore.sweep`: the sweep directory, resume, and the run;
- :mod:`~chipsim.explore.table`, :mod:`~chipsim.explore.figures`: the CSV/Markdown table and
  the Pareto figures; :mod:`~chipsim.explore.pareto`: the Pareto front.

Names are imported lazily (so a pool worker starts without numpy and caps its threads first).

Examples
--------
>>> from chipsim.explore import SweepSpec, parse_axis, run_sweep
>>> spec = SweepSpec("resnet9", (parse_axis("core.adc_bits=4,6,8"),
...                              parse_axis("chip.cores=32,64,128")))
>>> result = run_sweep(spec, "sweeps/adc_cores", workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__all__ = ["Axis", "Point", "parse_axis", "parse_setting", "cores_grid", "grid_points",
           "pareto_front", "SweepSpec", "SweepResult", "run_sweep", "point_id", "load_records",
           "table_csv", "table_markdown", "write_figures", "make_executor"]

_WHERE = {
    "Axis": "grid", "Point": "grid", "parse_axis": "grid", "parse_setting": "grid",
    "cores_grid": "grid", "grid_points": "grid", "pareto_front": "pareto",
    "SweepSpec": "sweep", "SweepResult": "sweep", "run_sweep": "sweep", "point_id": "sweep",
    "load_records": "sweep", "table_csv": "table", "table_markdown": "table",
    "write_figures": "figures", "make_executor": "executors",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
