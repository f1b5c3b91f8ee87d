"""The progress counter of a pipelined read (chipsim.kernels._sync): a kernel waiting on one
thread for the value another thread publishes."""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from chipsim.kernels._sync import publish, wait_for


@njit(nogil=True)
def _waiter(counter, value):
    return wait_for(counter, value)


def test_a_kernel_waits_until_the_counter_passes_its_value():
    counter = np.zeros(1, dtype=np.int64)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(_waiter, counter, 2)
        publish(counter, 2)
        time.sleep(0.05)
        assert not waiting.done()  # 2 does not exceed 2
        publish(counter, 3)
        assert waiting.result(timeout=60) == 3


def test_a_negative_counter_stops_the_wait():
    counter = np.zeros(1, dtype=np.int64)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(_waiter, counter, 5)
        publish(counter, -1)
        assert waiting.result(timeout=60) == -1
