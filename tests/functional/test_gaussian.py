"""The read-out's standard-normal draws: seeded, split over two threads above a size."""

import numpy as np
import pytest

from chipsim.functional.gaussian import PARALLEL_MIN, standard_normal


@pytest.mark.parametrize("shape", [(7, 5), (PARALLEL_MIN // 64 + 1, 64)])
def test_same_seed_same_draws_and_float32(shape):
    a = standard_normal(np.random.default_rng(4), shape)
    b = standard_normal(np.random.default_rng(4), shape)
    assert a.shape == shape and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, standard_normal(np.random.default_rng(5), shape))


def test_small_draws_are_the_generators_own():
    got = standard_normal(np.random.default_rng(4), (10, 3))
    assert np.array_equal(got, np.random.default_rng(4).standard_normal((10, 3), np.float32))


def test_split_draws_are_standard_normal_and_the_halves_independent():
    z = standard_normal(np.random.default_rng(6), (1000, 200)).reshape(-1)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(np.mean(z**4) - 3) < 0.05  # Gaussian kurtosis
    half = z.size // 2
    assert abs(np.corrcoef(z[:half], z[half:])[0, 1]) < 0.01
    assert not np.array_equal(z[:half], z[half:])
    # successive draws from one generator differ (each spawns new children)
    rng = np.random.default_rng(6)
    assert not np.array_equal(standard_normal(rng, (1000, 200)),
                              standard_normal(rng, (1000, 200)))
