"""combine_phases against its NumPy reference; saturation in both read modes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipsim.kernels import combine_phases, reference

from ._kernel_strategies import SETTINGS, log_uniform, rng_of, seeds, shapes2d


@SETTINGS
@given(shape=shapes2d, seed=seeds, one_phase=st.booleans(),
       i_sat=st.floats(1e-3, 1e4, allow_nan=False), mode=st.sampled_from(["uniform", "log"]))
def test_combine_phases_matches_reference(shape, seed, one_phase, i_sat, mode):
    rng = rng_of(seed)
    if mode == "uniform":  # around the saturation current, so some lines saturate
        p = rng.uniform(0.0, 2.5 * i_sat, size=(4, *shape))
    else:
        p = log_uniform(rng, (4, *shape), -40, 40)
    p = p.astype(np.float32)
    got = combine_phases(p, one_phase, i_sat)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_array_equal(got, reference.combine_phases(p, one_phase, i_sat))


def _products(p0, p1, p2, p3):
    return np.array([p0, p1, p2, p3], dtype=np.float32).reshape(4, 1, -1)


@pytest.mark.parametrize(
    ("p", "four_phase", "one_phase"),
    [
        ((20, 10, 5, 1), 6, 6),  # nothing saturates: both modes agree
        ((150, 60, 0, 0), 40, 90),  # 4-ph clips p0 alone; 1-ph line current 90 is in range
        ((250, 60, 0, 0), 40, 100),  # 1-ph positive line saturates
        ((0, 0, 30, 180), 70, 100),  # 4-ph clips p3 to 100; 1-ph negative line -150 -> -100
        ((130, 0, 120, 0), 0, 0),  # both lines saturate equally
        ((-150, 0, 0, 0), -100, -100),  # symmetric clip
    ],
)
def test_saturation_in_both_modes(p, four_phase, one_phase):
    products = _products(*p)
    assert combine_phases(products, False, 100.0)[0, 0] == four_phase
    assert combine_phases(products, np.True_, 100.0)[0, 0] == one_phase


def test_float64_non_contiguous_and_empty_inputs():
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 200, size=(4, 10, 6))
    view = p[:, ::2, ::-1]  # float64 and strided: converted to float32 C order
    want = reference.combine_phases(np.ascontiguousarray(view, dtype=np.float32), False, 150.0)
    np.testing.assert_array_equal(combine_phases(view, False, 150.0), want)
    assert combine_phases(np.zeros((4, 0, 3)), True, 1.0).shape == (0, 3)
