"""Kernels split over two threads give the single-thread results, bit for bit."""

import numpy as np
import pytest

from chipsim.functional.gaussian import standard_normal
from chipsim.kernels import (
    _threads,
    accumulate_int8,
    analog_readout,
    duty_square,
    int_codes,
    ldpu_affine,
    requantize_int8,
)


def _calls(rng):
    b, c = 700, 200  # above MIN_ITEMS: split when two threads are allowed
    assert b * c >= _threads.MIN_ITEMS
    x = rng.normal(0, 40, (b, c)).astype(np.float32)
    codes = int_codes(x, 0.5, 127)
    counts = rng.integers(-127, 128, (b, c)).astype(np.int32)
    products = rng.random((4, b, c), dtype=np.float32) * 200
    var = rng.random((b, c), dtype=np.float32)
    z = rng.standard_normal((b, c), dtype=np.float32)
    gain, offset = rng.uniform(0.9, 1.1, c), rng.normal(0, 1, c)
    v = ldpu_affine(counts, offset, np.full(c, 0.01), np.zeros(c), relu=True)
    return [codes, *duty_square(codes, 127)[:3], v, requantize_int8(v, 0.01),
            accumulate_int8(v, requantize_int8(v, 0.02), 0.02),
            analog_readout(products, var, z, saturating=True, one_phase=True, v_read_v=0.2,
                           i_sat_ua=30.0, noise_scale=0.04, noise_offset=0.001, gain=gain,
                           offset_lsb=offset, full_scale_ua=40.0, levels=127),
            standard_normal(rng, (b, c))]


@pytest.mark.parametrize("seed", [0, 1])
def test_two_threads_equal_one(monkeypatch, seed):
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    if _threads.threads() < 2:
        pytest.fail("this test needs a machine with at least two cores")
    two = _calls(np.random.default_rng(seed))
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    assert _threads.threads() == 1
    one = _calls(np.random.default_rng(seed))
    for a, b in zip(two, one, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_run_both_returns_both_results_and_waits_on_error(monkeypatch):
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    done = []
    assert _threads.run_both(lambda: 1, lambda: done.append(2) or 2) == (1, 2)

    def boom():
        raise ValueError("first half")

    with pytest.raises(ValueError, match="first half"):
        _threads.run_both(boom, lambda: done.append(3))
    assert done == [2, 3]  # the other half finished before the error came out
