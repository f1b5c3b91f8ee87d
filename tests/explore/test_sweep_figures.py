"""The sweep's Pareto figures: honest axes for near-equal values, one label for points at the
same place, and a title that says how many places there are."""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from chipsim.explore import figures


def _records(values):
    return [{"status": "ok", "index": i, "settings": {"core.adc_bits": bits},
             "summary": {"model": "m", "metric": "top1", "chip_mean": acc,
                         "chip_ci95": [acc - 0.5, acc + 0.5], "tops_per_w": tpw}}
            for i, (bits, tpw, acc) in enumerate(values)]


def test_near_equal_values_get_an_axis_of_ten_percent():
    ax = Figure().add_subplot()
    FigureCanvasAgg(ax.figure)
    xy = np.array([[0.6202, 97.0], [0.6219, 98.0]])
    ax.scatter(xy[:, 0], xy[:, 1])
    figures._honest_limits(ax, xy)
    lo, hi = ax.get_xlim()
    assert hi - lo >= 0.1 * 0.6219 * 0.999 and lo < 0.6202 and hi > 0.6219
    wide = np.array([[1.0, 50.0], [2.0, 98.0]])  # already spread: left to matplotlib
    ax2 = Figure().add_subplot()
    before = ax2.get_xlim()
    figures._honest_limits(ax2, wide)
    assert ax2.get_xlim() == before


def test_points_at_the_same_place_share_a_label():
    recs = _records([(6, 0.62, 97.0), (8, 0.61, 98.0), (10, 0.61, 98.0)])
    pts = [(r, r["summary"]["tops_per_w"], r["summary"]["chip_mean"]) for r in recs]
    places = figures._places(pts, np.array([True, True, True]))
    assert [len(g) for _, g in places] == [1, 2]
    assert figures._shift((0.61, 98.0), [(0.6101, 98.05)]) == 1
    assert figures._shift((0.61, 98.0), [(0.70, 98.0)]) == 0
    png = figures.figure_png(recs, "tops_per_w", "accuracy")
    assert png.startswith(b"\x89PNG")
