"""Timing of value streams: a vector of ``n`` values that moves one value per period.

A stream is described by the times of its first and last value. A pipelined unit (LDPU, GDPU)
or a link processes value ``i`` at ``max(own start + i·period, arrival of value i)``; both
terms are affine in ``i``, so the first and last values of every stage are exact, and one
event per vector replaces one per value (the intermediate values are never needed).

Examples
--------
>>> s = through(start=0, n=224, span=223 * 2500, depth=50000)
>>> s.first, s.last
(50000, 607500)
>>> through(start=0, n=224, span=223 * 2500, depth=50000, inputs=(s,)).last
657500
"""

from __future__ import annotations

from typing import NamedTuple

from numba import njit

__all__ = ["Stream", "through", "gdpu_times"]


class Stream(NamedTuple):
    """Times (ps) at which the first and the last of ``n`` values are available."""

    first: int
    last: int
    n: int


def through(start: int, n: int, span: int, depth: int,
            inputs: tuple[Stream, ...] = ()) -> Stream:
    """The output of a pipelined unit that starts at ``start`` and adds ``inputs`` streams.

    Value ``i`` enters at ``max(start + i·period, inputs' value i)`` and leaves ``depth``
    later; ``span = (n - 1)·period`` is the time between its first and last value entering.

    Parameters
    ----------
    start
        Time the unit can take its first value (its own operands are ready).
    n
        Values in the stream.
    span
        Time from the first to the last value entering when the unit runs at full rate.
    depth
        Pipeline latency of one value.
    inputs
        Streams added value by value (partial sums, residuals), each of ``n`` values.
    """
    first = start
    last_in = 0
    for s in inputs:
        first = max(first, s.first)
        last_in = max(last_in, s.last)
    last = max(first + span, last_in)
    return Stream(first + depth, last + depth, n)


@njit(cache=True, nogil=True)
def gdpu_times(start, first, last, n, group, in_period, out_period, depth):
    """A GDPU slice that starts at ``start`` on ``n`` inputs arriving from ``first`` to
    ``last`` (ps), one output per ``group`` inputs: ``(first output, last output, outputs,
    last input taken)``. For both engines (Numba; integers).

    Inputs are taken one per ``in_period``; output ``u`` leaves ``depth`` after its last input
    (input ``(u+1)·group - 1``), and outputs leave at most one per ``out_period``.

    Examples
    --------
    >>> gdpu_times(0, 0, 251 * 2500, 252, 4, 2500, 10000, 100000)
    (107500, 727500, 63, 627500)
    """
    n_out = max(1, n // group)
    first_in = max(start, first)
    span = max(n - 1, 1)
    # arrival of input group-1, interpolated between the stream's ends (exact for a uniform one)
    arr = first + (last - first) * (group - 1) // span if n > 1 else first
    out_first = max(first_in + (group - 1) * in_period, arr) + depth
    last_in = max(first_in + (n - 1) * in_period, last)
    out_last = max(last_in + depth, out_first + (n_out - 1) * out_period)
    return out_first, out_last, n_out, last_in
