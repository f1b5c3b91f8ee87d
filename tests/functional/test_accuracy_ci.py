"""The 95 % interval of the chip score: Student-t over instances, inside the metric's range."""

import numpy as np
import pytest
from scipy import stats

from chipsim.functional.accuracy import _ci95


def test_t_interval_of_the_instance_mean():
    v = np.array([96.0, 96.5, 97.0])
    half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / np.sqrt(3)
    assert _ci95(v, "top1") == pytest.approx((v.mean() - half, v.mean() + half))


@pytest.mark.parametrize("metric, values, bounds", [
    ("top1", [100.0, 100.0, 95.0], (None, 100.0)),  # t interval reaches past 100 %
    ("top1", [1.0, 1.0, 40.0], (0.0, None)),        # ... and below 0 %
    ("bpc", [0.1, 0.1, 3.0], (0.0, None)),           # bits per character are >= 0
])
def test_interval_stays_in_the_metric_range(metric, values, bounds):
    v = np.array(values)
    lo, hi = _ci95(v, metric)
    low, high = bounds
    if low is not None:
        assert lo == low
    if high is not None:
        assert hi == high
    assert lo <= v.mean() <= hi


def test_one_instance_has_no_spread():
    assert _ci95(np.array([97.0]), "top1") == (97.0, 97.0)
