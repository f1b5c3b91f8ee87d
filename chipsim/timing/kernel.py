"""The event calendar of a timing run: a hand-rolled, SimPy-compatible discrete-event kernel.

A timing run needs very little of SimPy: processes that wait until a time or until an event,
and events that wake them. :class:`Env` does exactly that with one heap of ``(time, seq,
item)`` entries and a FIFO of processes ready at the current time, which makes a process
switch several times cheaper than SimPy's. A process is a generator that yields

- an ``int``: resume at that simulated time (ps, absolute; a time not after ``now`` resumes at
  once, without going through the calendar);
- an :class:`Event`: resume when it fires (at once if it already has).

:class:`Event` offers the part of SimPy's event interface the buffers of
:mod:`chipsim.timing.ports` use (``succeed``, ``triggered``, ``callbacks``), and
:meth:`Env.event` / :meth:`Env.timeout` mirror SimPy's, so a
:class:`~chipsim.timing.ports.Port` works on either kernel. Entries of the same time are served in
the order they were made, as in SimPy.

*Daemons* (recurring GDC calibration, :meth:`Env.daemon`) do not keep the run alive:
:meth:`Env.run` returns when every process has finished, and reports a deadlock when some
have not but nothing except daemons is left to happen.

Examples
--------
>>> env = Env()
>>> log = []
>>> def ping(env, ev):
...     yield 5000
...     log.append(("ping", env.now))
...     ev.succeed()
>>> def pong(env, ev):
...     yield ev
...     log.append(("pong", env.now))
>>> ev = env.event()
>>> env.process(ping(env, ev)); env.process(pong(env, ev))
>>> env.run()
>>> log
[('ping', 5000), ('pong', 5000)]
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush
from types import GeneratorType

__all__ = ["Env", "Event", "Deadlock"]


class Deadlock(RuntimeError):
    """Processes are left waiting and nothing is scheduled that could wake them."""


class Event:
    """Something processes can wait for; :meth:`succeed` wakes them (at the current time).

    ``callbacks`` holds waiting processes (generators) and plain callables ``f(event)``:
    processes become ready, callables are called at once.
    """

    __slots__ = ("env", "callbacks", "triggered")

    def __init__(self, env: Env):
        self.env = env
        self.callbacks: list = []
        self.triggered = False

    def succeed(self, value=None) -> Event:
        """Fire the event now."""
        if self.triggered:
            raise RuntimeError("event has already been triggered")
        self.triggered = True
        self._fire()
        return self

    def _fire(self) -> None:
        cbs = self.callbacks
        if cbs:
            self.callbacks = []
            env = self.env
            ready = env._ready
            for cb in cbs:
                if type(cb) is GeneratorType:
                    env._seq += 1
                    ready.append((env._seq, cb))
                else:
                    cb(self)


class _Timeout(Event):
    """An event the calendar fires at a set time."""

    __slots__ = ()


class _Daemon:
    """A recurring process that does not keep the run alive; it only yields times."""

    __slots__ = ("gen",)

    def __init__(self, gen):
        self.gen = gen


class Env:
    """The calendar and the simulated time ``now`` (integer ps)."""

    __slots__ = ("now", "_heap", "_ready", "_seq", "_active", "_daemons")

    def __init__(self) -> None:
        self.now = 0
        self._heap: list = []
        self._ready: deque = deque()
        self._seq = 0
        self._active = 0  # non-daemon processes not finished
        self._daemons = 0  # daemons in the calendar

    # -- SimPy-compatible helpers ---------------------------------------------------------
    def event(self) -> Event:
        """A new event, fired by :meth:`Event.succeed`."""
        return Event(self)

    def timeout(self, delay: int) -> Event:
        """An event that fires ``delay`` ps from now."""
        ev = _Timeout(self)
        ev.triggered = True  # scheduled: as in SimPy, a timeout is triggered when created
        self._seq += 1
        heappush(self._heap, (self.now + delay, self._seq, ev))
        return ev

    def process(self, gen) -> None:
        """Start the process ``gen`` (a generator) at the current time."""
        self._active += 1
        self._seq += 1
        self._ready.append((self._seq, gen))

    def daemon(self, gen) -> None:
        """Start the daemon ``gen``: a generator that yields only times (when to run next)
        and that the run does not wait for."""
        self._step_daemon(_Daemon(gen), start=True)

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        """Run until every non-daemon process has finished.

        Raises
        ------
        Deadlock
            If some are left waiting and only daemons (or nothing) can still happen.
        """
        heap, ready = self._heap, self._ready
        pop, push = heappop, heappush
        gen_type, int_type, timeout_type = GeneratorType, int, _Timeout
        while self._active:
            # same-time entries in the order they were made (ready ones carry their number)
            if ready and not (heap and heap[0][0] <= self.now and heap[0][1] < ready[0][0]):
                gen = ready.popleft()[1]
            elif len(heap) > self._daemons:
                t, _, gen = pop(heap)
                self.now = t
                if type(gen) is not gen_type:
                    if type(gen) is timeout_type:  # run its callbacks
                        gen._fire()
                    else:
                        self._step_daemon(gen)
                    continue
            else:
                break
            send = gen.send
            while True:
                try:
                    y = send(None)
                except StopIteration:
                    self._active -= 1
                    break
                if type(y) is int_type:
                    if y <= self.now:
                        continue
                    self._seq += 1
                    push(heap, (y, self._seq, gen))
                    break
                if y.triggered and type(y) is not timeout_type:
                    continue
                y.callbacks.append(gen)
                break
        if self._active:
            raise Deadlock(f"{self._active} processes wait for events that cannot happen")

    def _step_daemon(self, d: _Daemon, start: bool = False) -> None:
        if not start:
            self._daemons -= 1
        try:
            t = d.gen.send(None)
        except StopIteration:
            return
        self._daemons += 1
        self._seq += 1
        heappush(self._heap, (max(t, self.now), self._seq, d))
