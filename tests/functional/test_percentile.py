"""``executor.percentile``, the calibration's fast percentile: NumPy's value bit for bit."""

import numpy as np
import pytest

from chipsim.functional import executor
from chipsim.functional.executor import percentile

QS = (99.99, 99.9, 99.999, 50.0, 12.5, 0.0, 100.0)


def _arrays(rng):
    for n in (1, 7, 4 * executor._SAMPLE, 4 * executor._SAMPLE + 1, 300_001, 2_500_000):
        yield rng.random(n, dtype=np.float32)
        yield np.maximum(rng.normal(size=n), 0).astype(np.float32)  # ReLU: many zeros
        yield np.abs(rng.standard_t(2, size=n)).astype(np.float32)  # heavy tail
        yield rng.integers(0, 5, size=n).astype(np.float32)  # ties everywhere
        yield rng.random(n)  # float64
        yield rng.integers(0, 1000, size=n)  # token ids (an LSTM's input)


@pytest.mark.parametrize("q", QS)
def test_equals_numpy_bit_for_bit(q):
    for a in _arrays(np.random.default_rng(int(q * 1000))):
        assert percentile(a, q) == float(np.percentile(a, q)), (a.size, a.dtype)


def test_a_misleading_sample_falls_back_to_numpy(monkeypatch):
    """Large values on sampled positions only: the sample's threshold leaves fewer elements
    above it than the percentile needs, and the value is NumPy's (which is called)."""
    rng = np.random.default_rng(3)
    n = 1_000_000
    a = rng.random(n, dtype=np.float32)
    step = n // executor._SAMPLE
    a[np.arange(0, n, step)[:60]] = 10.0 + rng.random(60, dtype=np.float32)
    want = float(np.percentile(a, 99.99))  # needs the 101 largest; 60 lie above 1
    calls = []
    real = np.percentile
    monkeypatch.setattr(np, "percentile", lambda *args: calls.append(1) or real(*args))
    assert percentile(a, 99.99) == want and calls == [1]


def test_a_large_array_is_not_partitioned_whole(monkeypatch):
    a = np.abs(np.random.default_rng(4).normal(size=2_000_000)).astype(np.float32)
    want = float(np.percentile(a, 99.99))
    monkeypatch.setattr(np, "percentile", lambda *args: pytest.fail("np.percentile called"))
    assert percentile(a, 99.99) == want
