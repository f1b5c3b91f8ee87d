"""The event calendar of a timing run: a ``simpy.Environment`` with integer time (ps).

The processes of :mod:`chipsim.timing.units` and :mod:`chipsim.timing.host` are generators
that yield

- an ``int``: resume at that simulated time (ps, absolute; a time not after ``now`` goes on at
  once, without an event);
- an event (``env.event()``, ``env.timeout()``): resume when it fires (at once if it already
  has been triggered).

:class:`Env` is a ``simpy.Environment`` that runs them as processes of its own, lighter than
SimPy's ``Process`` but with the same calendar entries (one to start, one per wait, one at the
end): an absolute time becomes an entry at that time (one reusable event per process instead
of a fresh ``Timeout``), so a process only touches the calendar when it must wait. Entries of
the same time are served in the order they were made (SimPy's event order). The units fire
their events with :class:`Signal`, SimPy's ``Event`` with a leaner ``succeed``.

*Daemons* (recurring GDC calibration, :meth:`Env.daemon`) do not keep the run alive:
:meth:`Env.run` returns when every process has finished, and reports a :class:`Deadlock` when
some have not but nothing except daemons is left to happen.

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

from heapq import heappush

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL, PENDING, URGENT, Event, Timeout

__all__ = ["Env", "Deadlock", "Signal"]


class Deadlock(RuntimeError):
    """Processes are left waiting and nothing is scheduled that could wake them."""


class Env(simpy.Environment):
    """SimPy's environment, driving processes that yield absolute times or events."""

    def __init__(self) -> None:
        super().__init__()
        # bind event(), timeout(), all_of() ... to this instance, as SimPy does for its own
        # class only (BoundClass.bind_early looks at type(self), a subclass here)
        for name, obj in simpy.Environment.__dict__.items():
            if type(obj) is BoundClass and name != "process":
                setattr(self, name, getattr(self, name))
        self._procs: list[_Process] = []
        self._done: simpy.Event | None = None

    def process(self, gen) -> None:
        """Start the process ``gen`` (a generator) at the current time."""
        self._procs.append(_Process(self, gen))

    def daemon(self, gen) -> None:
        """Start the daemon ``gen``: a generator that yields only times (when to run next)
        and that the run does not wait for."""
        simpy.Process(self, self._drive_daemon(gen))

    def run(self) -> None:
        """Run until every non-daemon process has finished.

        Raises
        ------
        Deadlock
            If some are left waiting and only daemons (or nothing) can still happen.
        """
        self._done = self.all_of(self._procs)
        try:
            super().run(until=self._done)
        except RuntimeError as exc:  # SimPy: no events left before ``until`` fired
            left = sum(not p.triggered for p in self._procs)
            raise Deadlock(f"{left} processes wait for events that cannot happen") from exc

    def _drive_daemon(self, gen):
        for t in gen:
            # nothing else scheduled: the processes wait for what cannot happen; stop, so that
            # run() sees the deadlock instead of the daemon ticking forever
            if self._done is not None and not self._done.triggered and not self._queue:
                return
            yield self.timeout(max(t - self._now, 0))


class Signal(Event):
    """An event that one unit fires once for the processes waiting on it: SimPy's ``Event``
    with a leaner :meth:`succeed` (the same calendar entry, without the checks)."""

    def succeed(self, value=None) -> Signal:
        """Fire now: the waiting processes resume in this time step, after what is already
        scheduled for it."""
        self._ok, self._value = True, value
        env = self.env
        heappush(env._queue, (env._now, NORMAL, next(env._eid), self))
        return self


class _Wake(Event):
    """The calendar entry of a process that waits until a time: one object per process,
    scheduled again for every wait (a fresh ``Timeout`` each time would cost more)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.callbacks = None
        self._ok = True
        self._value = None


class _Process(Event):
    """A process of the module docstring: SimPy's ``Process`` for generators that yield
    absolute times or events, with the same calendar entries (a start, one per wait, an end),
    so that same-time entries keep SimPy's order."""

    def __init__(self, env: Env, gen) -> None:
        self.env = env
        self.callbacks = []
        self._send = gen.send
        self._wake = _Wake(env)
        self._again = [self._resume]  # the wake's callbacks
        start = Event(env)
        start.callbacks = [self._resume]
        start._ok, start._value = True, None
        env.schedule(start, URGENT)

    def _resume(self, _event) -> None:
        env, send = self.env, self._send
        try:
            while True:
                y = send(None)
                if type(y) is int:
                    if y > env._now:
                        self._wake.callbacks = self._again
                        heappush(env._queue, (y, NORMAL, next(env._eid), self._wake))
                        return
                elif y._value is PENDING or type(y) is Timeout:
                    callbacks = y.callbacks
                    if callbacks is not None:  # not yet processed: wait for it
                        callbacks.append(self._resume)
                        return
        except StopIteration:
            self._ok, self._value = True, None
        except BaseException as exc:  # SimPy's Process: the failure ends the run
            self._ok, self._value = False, exc
        env.schedule(self)
