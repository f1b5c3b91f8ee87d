"""The event calendar of a timing run: a ``simpy.Environment`` with integer time (ps).

The processes of :mod:`chipsim.timing.units` and :mod:`chipsim.timing.host` are generators
that yield

- an ``int``: resume at that simulated time (ps, absolute; a time not after ``now`` goes on at
  once, without an event);
- an event (``env.event()``, ``env.timeout()``): resume when it fires (at once if it already
  has been triggered).

:class:`Env` runs them as SimPy processes: an absolute time becomes a ``Timeout`` of the
difference, so a process only touches the calendar when it must wait. Entries of the same time
are served in the order they were made (SimPy's event order).

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

import simpy
from simpy.events import Timeout

__all__ = ["Env", "Deadlock"]


class Deadlock(RuntimeError):
    """Processes are left waiting and nothing is scheduled that could wake them."""


class Env:
    """SimPy's environment, driving processes that yield absolute times or events."""

    __slots__ = ("sim", "_procs", "_done")

    def __init__(self) -> None:
        self.sim = simpy.Environment()
        self._procs: list[simpy.Process] = []
        self._done: simpy.Event | None = None

    @property
    def now(self) -> int:
        """Simulated time (ps)."""
        return self.sim.now

    def event(self) -> simpy.Event:
        """A new event, fired by its ``succeed()``."""
        return self.sim.event()

    def timeout(self, delay: int) -> Timeout:
        """An event that fires ``delay`` ps from now."""
        return self.sim.timeout(delay)

    def process(self, gen) -> None:
        """Start the process ``gen`` (a generator) at the current time."""
        self._procs.append(self.sim.process(self._drive(gen)))

    def daemon(self, gen) -> None:
        """Start the daemon ``gen``: a generator that yields only times (when to run next)
        and that the run does not wait for."""
        self.sim.process(self._drive_daemon(gen))

    def run(self) -> None:
        """Run until every non-daemon process has finished.

        Raises
        ------
        Deadlock
            If some are left waiting and only daemons (or nothing) can still happen.
        """
        self._done = self.sim.all_of(self._procs)
        try:
            self.sim.run(until=self._done)
        except RuntimeError as exc:  # SimPy: no events left before ``until`` fired
            left = sum(not p.triggered for p in self._procs)
            raise Deadlock(f"{left} processes wait for events that cannot happen") from exc

    # -- drivers ---------------------------------------------------------------------------
    def _drive(self, gen):
        sim = self.sim
        send = gen.send
        while True:
            try:
                y = send(None)
            except StopIteration:
                return
            if type(y) is int:
                if y > sim.now:
                    yield sim.timeout(y - sim.now)
            elif not y.triggered or type(y) is Timeout:
                yield y

    def _drive_daemon(self, gen):
        sim = self.sim
        for t in gen:
            # nothing else scheduled: the processes wait for what cannot happen; stop, so that
            # run() sees the deadlock instead of the daemon ticking forever
            if self._done is not None and not self._done.triggered and not sim._queue:
                return
            yield sim.timeout(max(t - sim.now, 0))
