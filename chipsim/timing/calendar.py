"""Link calendars in arrays: the reservations of every link of a run, for compiled code.

The first building block of the compiled timing engine (one event per run of vectors, its
bookings in compiled structures): the same calendars as :class:`~chipsim.timing.links.Link`
and the same multicast booking as :meth:`~chipsim.timing.links.Network.transfer_tree`, held in
integer arrays that a Numba function updates, for the compiled engine's loop to call
(``tests/timing/test_calendar.py`` books random trees both ways, and replays every booking of a
ResNet-9 run, comparing every time and statistic). Called from Python, one booking costs more
than the Python walk it replaces (ResNet-9's 30,208 bookings of a 4-inference run, trees of
1.8 links on average: 1.9 against 1.5 µs a booking, most of it the call's 17 arguments): the
gain comes only with the loop that calls it compiled too.

Link ``l`` keeps its bookings in row ``l`` of ``starts`` and ``ends`` (ps), in time order, in
the columns ``[head[l], head[l] + size[l])``; a booking that ends at or before the time of a
new one is forgotten (``last_end[l]`` keeps the end of the latest forgotten when the row
empties). A row that fills is compacted to its start, and the caller grows the arrays when a
row is full (:meth:`Calendars.transfer_tree` does).

Examples
--------
>>> import numpy as np
>>> cal = Calendars(value_ps=np.array([2500, 2500]), latency_ps=np.array([2500, 2500]))
>>> fs, ls = cal.transfer_tree(0, np.array([0, 1]), np.array([0, 1]), 0, 0, 4)
>>> fs.tolist(), ls.tolist()  # at the source, after link 0, after link 1 (fed by link 0)
([0, 5000, 10000], [0, 12500, 17500])
>>> cal.busy_ps.tolist(), cal.peak.tolist()
([10000, 10000], [1, 1])
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["Calendars", "transfer_tree"]

_FULL = -1


@njit(cache=True, nogil=True, _nrt=False)
def _first_above(row, lo, hi, x):
    """The first index in ``[lo, hi)`` of the sorted ``row`` whose value is > ``x``
    (``bisect_right``)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if x < row[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True, _nrt=False)
def _first_at_least(row, lo, hi, x):
    """The first index in ``[lo, hi)`` of the sorted ``row`` whose value is >= ``x``
    (``bisect_left``)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if row[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, _nrt=False)
def _insert(starts, ends, head, size, link, i, t, end):
    """Insert the booking ``[t, end)`` at column ``i`` of row ``link`` (absolute; the later
    bookings move one column right), compacting the row first when its last column is used;
    the row must not be full."""
    h, n = head[link], size[link]
    if h + n == starts.shape[1]:  # compact: the row's bookings to its start
        for j in range(n):
            starts[link, j] = starts[link, h + j]
            ends[link, j] = ends[link, h + j]
        i -= h
        h = 0
        head[link] = 0
    for j in range(h + n, i, -1):
        starts[link, j] = starts[link, j - 1]
        ends[link, j] = ends[link, j - 1]
    starts[link, i] = t
    ends[link, i] = end
    size[link] = n + 1


@njit(cache=True, nogil=True, _nrt=False)
def _book_gap(starts, ends, head, size, busy, peak, link, first, last_in, span, vp):
    """:meth:`~chipsim.timing.links.Link._book_gap`: the earliest gap of row ``link`` long
    enough for the stream, when some booking ends after ``first``; ``(start, end)``."""
    h = head[link]
    n_end = h + size[link]
    s_row, e_row = starts[link], ends[link]
    i = _first_above(e_row, h, n_end, first)  # the first booking that ends after ``first``
    t = first
    if i < n_end and (s_row[i] < last_in + vp or s_row[i] < first + span + vp):
        i = _first_at_least(s_row, i + 1, n_end, last_in + vp)
        gap = span + vp
        while i < n_end and s_row[i] - e_row[i - 1] < gap:
            i += 1
        t = e_row[i - 1]
    end = t + span
    if last_in > end:
        end = last_in
    end += vp
    _insert(starts, ends, head, size, link, i, t, end)
    busy[link] += end - t
    if size[link] > peak[link]:
        peak[link] = size[link]
    return t, end


@njit(cache=True, nogil=True, _nrt=False)
def transfer_tree(starts, ends, head, size, busy, peak, last_end, value_ps, latency_ps,
                  now, links, feeder, first, last, n, fs, ls):
    """Book ``n`` values whose first and last are at the source at ``first`` and ``last``
    on the multicast tree ``links`` (link ids, each after the link that feeds it;
    ``feeder[j]`` the position in ``fs``/``ls`` of link ``j``'s source: 0 the tree's source,
    ``p + 1`` the far end of its link ``p``) at time ``now``: the first and last arrival at
    the tree's source (position 0) and at the far end of each link (position ``j + 1``) into
    ``fs`` and ``ls``, as :meth:`~chipsim.timing.links.Network.transfer_tree` books them.

    Returns the number of links booked, or ``-1`` (and books nothing) when a row of the
    calendar that a booking may need is full: grow the arrays and call again.
    """
    cap = starts.shape[1]
    for j in range(len(links)):
        if size[links[j]] >= cap:
            return _FULL
    span_n = n - 1 if n > 1 else 0
    fs[0] = first
    ls[0] = last
    for j in range(len(links)):
        lk = links[j]
        f = fs[feeder[j]]
        la = ls[feeder[j]]
        vp = value_ps[lk]
        hop = latency_ps[lk]
        span = span_n * vp
        h, cnt = head[lk], size[lk]
        if cnt:  # forget bookings that are over
            if ends[lk, h + cnt - 1] <= now:
                last_end[lk] = ends[lk, h + cnt - 1]
                head[lk] = 0
                size[lk] = 0
                h = cnt = 0
            else:
                if ends[lk, h] <= now:
                    k = _first_above(ends[lk], h, h + cnt, now)
                    size[lk] = cnt - (k - h)
                    head[lk] = k
                    h, cnt = k, cnt - (k - h)
                if f < ends[lk, h + cnt - 1]:
                    start, end = _book_gap(starts, ends, head, size, busy, peak, lk, f, la,
                                           span, vp)
                    fs[j + 1] = start + vp + hop
                    ls[j + 1] = end + hop
                    continue
        # after every booking: the stream takes the link as it comes
        end = f + span
        if la > end:
            end = la
        end += vp
        _insert(starts, ends, head, size, lk, h + cnt, f, end)
        busy[lk] += end - f
        if size[lk] > peak[lk]:
            peak[lk] = size[lk]
        fs[j + 1] = f + vp + hop
        ls[j + 1] = end + hop
    return len(links)


class Calendars:
    """The calendars of ``len(value_ps)`` links (value period and hop latency in ps each),
    with their statistics: ``busy_ps`` (time reserved), ``peak`` (the most bookings held at
    once) and ``last_end`` (end of the latest booking forgotten), all int64 per link.

    Parameters
    ----------
    value_ps, latency_ps
        Per link, serialisation time of one value and latency of the hop (ps).
    capacity
        Bookings a row holds before it grows (doubling).
    """

    def __init__(self, value_ps: np.ndarray, latency_ps: np.ndarray, capacity: int = 64):
        links = len(value_ps)
        self.value_ps = np.asarray(value_ps, dtype=np.int64)
        self.latency_ps = np.asarray(latency_ps, dtype=np.int64)
        self.starts = np.zeros((links, capacity), dtype=np.int64)
        self.ends = np.zeros((links, capacity), dtype=np.int64)
        self.head = np.zeros(links, dtype=np.int64)
        self.size = np.zeros(links, dtype=np.int64)
        self.busy_ps = np.zeros(links, dtype=np.int64)
        self.peak = np.zeros(links, dtype=np.int64)
        self.last_end = np.zeros(links, dtype=np.int64)

    def bookings(self, link: int) -> tuple[list[int], list[int]]:
        """The starts and ends of the bookings that link ``link`` holds, in time order."""
        h, n = self.head[link], self.size[link]
        return self.starts[link, h:h + n].tolist(), self.ends[link, h:h + n].tolist()

    def transfer_tree(self, now: int, links: np.ndarray, feeder: np.ndarray, first: int,
                      last: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`transfer_tree` on these calendars (growing them when a row is full): the
        first and last times at the source and at the far end of each link (int64 arrays of
        ``len(links) + 1``)."""
        fs = np.empty(len(links) + 1, dtype=np.int64)
        ls = np.empty(len(links) + 1, dtype=np.int64)
        while transfer_tree(self.starts, self.ends, self.head, self.size, self.busy_ps,
                            self.peak, self.last_end, self.value_ps, self.latency_ps, now,
                            links, feeder, first, last, n, fs, ls) == _FULL:
            self._grow()
        return fs, ls

    def _grow(self) -> None:
        links, cap = self.starts.shape
        for name in ("starts", "ends"):
            old = getattr(self, name)
            new = np.zeros((links, 2 * cap), dtype=np.int64)
            new[:, :cap] = old
            setattr(self, name, new)
