"""The event kernel of the timing engine: times, events, same-time order, daemons, deadlock."""

import pytest

from chipsim.timing.kernel import Deadlock, Env, Signal
from chipsim.timing.ports import Port


def test_processes_resume_at_their_times_and_on_events():
    env = Env()
    log = []
    ev = env.event()

    def sleeper(name, t):
        yield t
        log.append((name, env.now))
        yield t  # a time not after now: no wait
        log.append((name + " again", env.now))

    def waiter():
        yield ev
        log.append(("woken", env.now))
        yield ev  # already fired: goes on at once
        log.append(("still", env.now))

    def firer():
        yield 7000
        ev.succeed()

    for p in (sleeper("a", 5000), waiter(), firer(), sleeper("b", 3000)):
        env.process(p)
    env.run()
    assert log == [("b", 3000), ("b again", 3000), ("a", 5000), ("a again", 5000),
                   ("woken", 7000), ("still", 7000)]


@pytest.mark.parametrize("make", [Env.event, Signal], ids=["event", "signal"])
def test_same_time_entries_run_in_the_order_they_were_made(make):
    # a SimPy event and the units' leaner Signal wake their waiters in the same order
    env = Env()
    log = []
    ev = make(env)

    def early():  # scheduled for t=10 before the event that wakes "late" is fired
        yield 10
        log.append("early")

    def late():
        yield ev
        log.append("late")

    def fire():
        yield 10
        ev.succeed()
        log.append("fired")

    for p in (fire(), late(), early()):
        env.process(p)
    env.run()
    # fire (scheduled first) runs, then early (scheduled before late became ready), then late
    assert log == ["fired", "early", "late"]


def test_timeouts_call_their_callbacks():
    env = Env()
    seen = []
    env.timeout(2500).callbacks.append(lambda ev: seen.append(env.now))

    def proc():
        yield 5000

    env.process(proc())
    env.run()
    assert seen == [2500]


def test_daemons_do_not_keep_the_run_alive():
    env = Env()
    ticks = []

    def daemon():
        k = 1
        while True:
            yield k * 1000
            ticks.append(env.now)
            k += 1

    def work():
        yield 3500

    env.daemon(daemon())
    env.process(work())
    env.run()
    assert ticks == [1000, 2000, 3000] and env.now == 3500


@pytest.mark.parametrize("with_daemon", [False, True])
def test_a_process_left_waiting_is_a_deadlock(with_daemon):
    env = Env()

    def stuck():
        yield env.event()  # nobody fires it

    def forever():
        while True:
            yield env.now + 1000

    env.process(stuck())
    if with_daemon:
        env.daemon(forever())
    with pytest.raises(Deadlock):
        env.run()


def test_ports_run_on_the_kernel():
    env = Env()
    p = Port(env, 1)
    got = []

    def consumer():
        yield 1000
        p.release(1, at=4000)  # the credit comes back in the future

    def producer():
        assert p.acquire() is None
        ev = p.acquire()
        assert ev is not None
        yield ev
        got.append(env.now)

    env.process(producer())
    env.process(consumer())
    env.run()
    assert got == [4000]
