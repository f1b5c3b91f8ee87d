"""The Pareto front function: definition checks on random point sets, and hand-made cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipsim.explore.pareto import dominates, pareto_front

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

values = st.integers(-3, 3).map(float)  # few distinct values: ties and duplicates are common
point_sets = st.integers(1, 3).flatmap(
    lambda d: st.lists(st.lists(values, min_size=d, max_size=d), min_size=0, max_size=12))


@SETTINGS
@given(point_sets, st.data())
def test_front_is_exactly_the_undominated_points(pts, data):
    if not pts:
        assert pareto_front(np.zeros((0, 2))).shape == (0,)
        return
    d = len(pts[0])
    maximize = data.draw(st.lists(st.booleans(), min_size=d, max_size=d))
    front = pareto_front(pts, maximize)
    for i, p in enumerate(pts):
        beaten = any(dominates(q, p, maximize) for q in pts)
        assert front[i] == (not beaten)
    assert front.any()  # a finite non-empty set has a front


@SETTINGS
@given(point_sets, st.randoms(use_true_random=False))
def test_front_does_not_depend_on_order(pts, rnd):
    order = list(range(len(pts)))
    rnd.shuffle(order)
    front = pareto_front(pts) if pts else np.zeros(0, bool)
    shuffled = pareto_front([pts[i] for i in order]) if pts else np.zeros(0, bool)
    assert [bool(front[i]) for i in order] == shuffled.tolist()


@SETTINGS
@given(point_sets)
def test_minimise_is_maximise_of_negated(pts):
    if not pts:
        return
    a = np.array(pts)
    assert pareto_front(a, False).tolist() == pareto_front(-a, True).tolist()


def test_hand_made_cases():
    # accuracy (max) vs TOPS/W (max)
    pts = [[90.0, 1.0], [85.0, 2.0], [80.0, 1.5], [90.0, 1.0], [70.0, 2.0]]
    assert pareto_front(pts).tolist() == [True, True, False, True, False]
    # bpc is better when lower
    assert pareto_front([[1.5, 1.0], [1.4, 0.5], [1.6, 2.0]], [False, True]).tolist() == [
        True, True, True]
    assert pareto_front([[1.5, 1.0], [1.4, 1.0]], [False, True]).tolist() == [False, True]
    assert pareto_front([3.0, 1.0, 3.0]).tolist() == [True, False, True]


def test_nan_rows_are_off_the_front_and_dominate_nothing():
    nan = float("nan")
    front = pareto_front([[nan, 100.0], [1.0, 1.0], [2.0, nan]])
    assert front.tolist() == [False, True, False]
    assert not pareto_front([[nan, nan]]).any()


def test_bad_shapes():
    with pytest.raises(ValueError, match="must be"):
        pareto_front(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="maximize"):
        pareto_front(np.zeros((2, 2)), [True, False, True])
