"""Bounded receive buffers with credit-based flow control, keyed by vector.

A :class:`Port` is a buffer of a unit (a core's input or activation buffer, a partial-sum or
residual FIFO, a GDPU input) holding whole vectors, each possibly in several pieces (one per
sending core). A sender takes one credit per piece before it sends; without a free credit it
waits: that is back-pressure. The receiver returns the credits when it no longer needs the
vector, at a time that may lie ahead of the current simulated time (the end of the stream that
consumes it): the return is then applied lazily, with an event only when a sender waits.

A *windowed* port (an activation line buffer fed by several producer replicas, whose vectors
may arrive out of order) holds the vectors ``[base, base + capacity)``: vector ``key`` may be
sent once ``key < base + capacity``, and the receiver moves ``base`` forward
(:meth:`Port.advance`) as its sliding window moves. Counting credits there would let one fast
producer fill the buffer with vectors far ahead and starve the one the receiver needs.

Data arrive with time stamps (:class:`~chipsim.timing.stream.Stream`) that may lie in the
future: a sender delivers when it reserves the links, and the receiver waits until the stamps.
A port also keeps the simulated time of each delivery (:meth:`Port.delivered_at`): a receiver
that looks at a vector later than it was delivered still knows when it could have started.

A port runs on a ``simpy.Environment`` (the engine's :class:`~chipsim.timing.kernel.Env`): it
reads the time, makes timeouts and fires :class:`~chipsim.timing.kernel.Signal` events.

Examples
--------
>>> from chipsim.timing.kernel import Env
>>> p = Port(Env(), capacity=1)
>>> p.acquire() is None, p.acquire() is None
(True, False)
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from .kernel import Signal
from .stream import Stream

__all__ = ["Port", "Fifo"]


class Port:
    """A keyed buffer of ``capacity`` credits (``None``: unbounded).

    Attributes
    ----------
    pieces
        Pieces that make up one vector (e.g. one per producing core).
    peak
        The most credits held at once (vectors × pieces in the buffer or on the way).
    values
        Values delivered into the buffer (for the buffer-access energy).

    Items are ``[pieces delivered, first arrival, last arrival, time of the last delivery]``.
    """

    __slots__ = ("env", "capacity", "pieces", "used", "peak", "values", "_items", "_waiters",
                 "_credit_waiters", "_pending", "_wake_at", "_drained", "window", "base",
                 "_key_waiters", "_held", "_adv", "_seq")

    def __init__(self, env, capacity: int | None, pieces: int = 1,
                 window: bool = False):
        self.env = env
        self.window = window and capacity is not None
        self.capacity = None if capacity is None else capacity * (1 if self.window else pieces)
        self.pieces = pieces
        self.base = 0
        self._key_waiters: list = []  # heap of (key, seq, event)
        self._seq = itertools.count()  # waiters of one key in the order they came
        self._held: set[int] = set()
        self._adv: deque[tuple[int, int]] = deque()  # future (time, base) of a windowed port
        self.used = 0
        self.peak = 0
        self.values = 0
        self._items: dict[int, list] = {}
        self._waiters: dict = {}
        self._credit_waiters: deque = deque()
        self._pending: list[int] = []  # times of future credit returns (heap)
        self._wake_at: int | None = None
        self._drained = False

    # -- credits --------------------------------------------------------------------------
    def _mature(self) -> None:
        now = self.env._now
        pend = self._pending
        while pend and pend[0] <= now:
            heapq.heappop(pend)
            if self._credit_waiters:  # _return_one, inline
                self._credit_waiters.popleft().succeed()
            else:
                self.used -= 1
        adv = self._adv
        if adv and adv[0][0] <= now:  # the window's moves that are due: only the last counts
            base = adv.popleft()[1]
            while adv and adv[0][0] <= now:
                base = adv.popleft()[1]
            self._advance(base)

    def _return_one(self) -> None:
        if self._credit_waiters:
            self._credit_waiters.popleft().succeed()  # the credit passes to the waiter
        else:
            self.used -= 1

    def acquire(self, key: int = 0):
        """Take a credit for (a piece of) vector ``key``: ``None`` when granted now, else an
        event that fires when granted."""
        if self.window:
            adv = self._adv
            if adv and adv[0][0] <= self.env._now:  # _mature, inline (no credits here)
                now = self.env._now
                base = adv.popleft()[1]
                while adv and adv[0][0] <= now:
                    base = adv.popleft()[1]
                self._advance(base)
            base = self.base
            if key < base + self.capacity:
                held = self._held
                if key >= base and key not in held:  # _hold, inline
                    held.add(key)
                    if len(held) > self.peak:
                        self.peak = len(held)
                return None
            ev = Signal(self.env)
            heapq.heappush(self._key_waiters, (key, next(self._seq), ev))
            self._schedule_wake()
            return ev
        if self.capacity is None:
            self.used += 1
            self.peak = max(self.peak, self.used)
            return None
        pend = self._pending
        if pend and pend[0] <= self.env._now:
            self._mature()
        if self.used < self.capacity and not self._credit_waiters:
            self.used += 1
            if self.used > self.peak:
                self.peak = self.used
            return None
        ev = Signal(self.env)
        self._credit_waiters.append(ev)
        self._schedule_wake()
        return ev

    def release(self, count: int = 1, at: int | None = None) -> None:
        """Return ``count`` credits at time ``at`` (default now)."""
        if self.capacity is None:
            self.used -= count
            return
        if at is None or at <= self.env._now:
            for _ in range(count):
                self._return_one()
            return
        for _ in range(count):
            heapq.heappush(self._pending, at)
        if self._credit_waiters:
            self._schedule_wake()

    def _schedule_wake(self) -> None:
        if self._pending:
            t = self._pending[0]
            if self._adv and self._adv[0][0] < t:
                t = self._adv[0][0]
        elif self._adv:
            t = self._adv[0][0]
        else:
            return
        if self._wake_at is not None and self._wake_at <= t:
            return
        self._wake_at = t
        ev = self.env.timeout(t - self.env._now)
        ev.callbacks.append(self._on_wake)

    def _on_wake(self, _ev) -> None:
        self._wake_at = None
        self._mature()
        if self._credit_waiters or self._key_waiters:
            self._schedule_wake()

    def _hold(self, key: int) -> None:
        if key >= self.base and key not in self._held:
            self._held.add(key)
            if len(self._held) > self.peak:
                self.peak = len(self._held)

    def advance(self, base: int, at: int | None = None) -> None:
        """Windowed port: from time ``at`` (default now) the receiver needs no vector below
        ``base`` any more."""
        if at is not None and at > self.env._now:
            self._adv.append((at, base))
            if self._key_waiters:
                self._schedule_wake()
            return
        self._advance(base)

    def _advance(self, base: int) -> None:
        if base <= self.base:
            return
        old, self.base = self.base, base
        items = self._items
        if base - old > len(items):
            for key in [k for k in items if k < base]:
                del items[key]
            self._held = {k for k in self._held if k >= base}
        else:
            for key in range(old, base):
                items.pop(key, None)
                self._held.discard(key)
        limit = base + self.capacity
        w = self._key_waiters
        while w and w[0][0] < limit:
            key, _, ev = heapq.heappop(w)
            self._hold(key)
            ev.succeed()

    # -- data -----------------------------------------------------------------------------
    def deliver(self, key: int, s: Stream) -> None:
        """One piece of vector ``key`` arrives as stream ``s``."""
        self.put(key, s.first, s.last, s.n)

    def put(self, key: int, first: int, last: int, n: int) -> None:
        """One piece of ``n`` values of vector ``key`` arrives, its first value at ``first``
        and its last at ``last`` (:meth:`deliver` without the stream)."""
        self.values += n
        items = self._items
        item = items.get(key)
        if item is None:
            item = items[key] = [1, first, last, self.env._now]
        else:
            if first > item[1]:
                item[1] = first
            if last > item[2]:
                item[2] = last
            item[3] = self.env._now
            item[0] += 1
        if key < self.base:  # a windowed port that no longer needs it
            del items[key]
            return
        if self._drained:
            self.pop(key)
            return
        if item[0] == self.pieces and self._waiters:
            ev = self._waiters.pop(key, None)
            if ev is not None:
                ev.succeed()

    def ready(self, key: int):
        """``None`` when every piece of ``key`` has been delivered, else an event for it."""
        item = self._items.get(key)
        if item is not None and item[0] == self.pieces:
            return None
        ev = self._waiters.get(key)
        if ev is None:
            ev = self._waiters[key] = Signal(self.env)
        return ev

    def stream(self, key: int) -> Stream:
        """First and last arrival of the (complete) vector ``key``."""
        item = self._items[key]
        return Stream(item[1], item[2], 0)

    def delivered_at(self, key: int) -> int:
        """Simulated time at which the last piece of the (complete) vector ``key`` was
        delivered (its links were booked)."""
        return self._items[key][3]

    def drain(self, at: int | None = None) -> None:
        """The receiver needs nothing more (from time ``at``): free what is held and whatever
        still arrives."""
        if self.window:
            self.advance(1 << 62, at)
            return
        self._drained = True
        for key in list(self._items):
            self.pop(key, at)

    def pop(self, key: int, at: int | None = None) -> bool:
        """Forget vector ``key`` and return its credits at ``at``; False if never delivered."""
        item = self._items.pop(key, None)
        if item is None:
            return False
        if at is not None and self.capacity is not None and at > self.env._now:
            for _ in range(item[0]):  # release, inline: its common case
                heapq.heappush(self._pending, at)
            if self._credit_waiters:
                self._schedule_wake()
            return True
        self.release(item[0], at)
        return True


class Fifo:
    """An unkeyed queue of ``(tag, stream)`` items for a unit that serves in arrival order."""

    __slots__ = ("env", "_items", "_getter")

    def __init__(self, env):
        self.env = env
        self._items: deque = deque()
        self._getter = None

    def put(self, item) -> None:
        """Append ``item`` (never blocks: the sender took a credit of the matching port)."""
        self._items.append(item)
        if self._getter is not None:
            ev, self._getter = self._getter, None
            ev.succeed()

    def get(self):
        """``None`` when an item is waiting (take it with :meth:`take`), else an event."""
        if self._items:
            return None
        self._getter = Signal(self.env)
        return self._getter

    def take(self):
        """The oldest item."""
        return self._items.popleft()
