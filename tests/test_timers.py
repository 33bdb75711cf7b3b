"""Timer semantics of the hub contract, on every hub and variant."""

from __future__ import annotations

import itertools
import math
import random
import socket
import time
from typing import Any

import greenlet
import pytest
from conftest import run_until_dead, wait_until

import eventhub
from eventhub import hubs


class FakeClock:
    """A clock the test moves by hand, so deadlines can be equal on purpose."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fire_due(hub: Any) -> None:
    hub.prepare_timers()
    hub.fire_timers(hub.clock())


def test_timers_fire_in_deadline_order(hub: Any) -> None:
    fired: list[float] = []
    for delay in (0.03, 0.01, 0.02, 0.0):
        hub.schedule_call_global(delay, fired.append, delay)
    eventhub.sleep(0.05)
    assert fired == [0.0, 0.01, 0.02, 0.03]


def test_equal_deadlines_fire_in_scheduling_order(hub_class: Any) -> None:
    clock = FakeClock()
    hub = hub_class(clock=clock)
    fired: list[int] = []
    for i in range(50):
        hub.schedule_call_global(1.0, fired.append, i)
    clock.now += 1.0
    fire_due(hub)
    assert fired == list(range(50))


@pytest.mark.parametrize("seed", range(5))
def test_sorted_and_unsorted_batches_fire_in_deadline_order(hub_class: Any, seed: int) -> None:
    # The compiled heap stays a sorted array while timers arrive in deadline
    # order and becomes a heap when one does not; the order must not care.
    rng = random.Random(seed)
    clock = FakeClock()
    hub = hub_class(clock=clock)
    fired: list[int] = []
    expected: list[tuple[float, int]] = []
    pending: dict[int, tuple[float, Any]] = {}
    keys = itertools.count()
    for _ in range(40):
        ordered = rng.random() < 0.6  # most batches in deadline order, like sleep(0)
        delays = sorted(rng.random() for _ in range(rng.choice((1, 5, 100)))) if ordered else [
            rng.random() for _ in range(rng.choice((1, 5, 100)))
        ]
        for delay in delays:
            key = next(keys)  # increasing: breaks deadline ties like scheduling order
            pending[key] = (clock.now + delay, hub.schedule_call_global(delay, fired.append, key))
        for key in rng.sample(sorted(pending), len(pending) // 10):  # cancel some
            pending.pop(key)[1].cancel()
        clock.now += rng.random() * 0.5
        due = sorted((deadline, key) for key, (deadline, _) in pending.items() if deadline <= clock.now)
        for _, key in due:
            del pending[key]
        expected.extend(due)
        fire_due(hub)
        assert fired == [key for _, key in expected]


def test_timer_not_due_does_not_fire(hub_class: Any) -> None:
    clock = FakeClock()
    hub = hub_class(clock=clock)
    fired: list[str] = []
    hub.schedule_call_global(1.0, fired.append, "late")
    clock.now += 0.5
    fire_due(hub)
    assert fired == []
    clock.now += 0.5
    fire_due(hub)
    assert fired == ["late"]


def test_callback_gets_args_and_kwargs(hub_class: Any) -> None:
    clock = FakeClock()
    hub = hub_class(clock=clock)
    got: list[Any] = []
    hub.schedule_call_global(0, lambda *a, **kw: got.append((a, kw)), 1, 2, x=3)
    fire_due(hub)
    assert got == [((1, 2), {"x": 3})]


def test_cancelled_timer_never_fires(hub: Any) -> None:
    fired: list[int] = []
    t = hub.schedule_call_global(0.01, fired.append, 1)
    assert t.pending
    t.cancel()
    assert not t.pending
    t.cancel()  # a second cancel is harmless
    eventhub.sleep(0.03)
    assert fired == []


def test_pending_false_after_firing(hub: Any) -> None:
    t = hub.schedule_call_global(0, lambda: None)
    eventhub.sleep(0.01)
    assert not t.pending
    assert t.called


def test_timer_scheduled_while_firing_waits_for_next_pass(hub_class: Any) -> None:
    clock = FakeClock()
    hub = hub_class(clock=clock)
    fired: list[str] = []

    def first() -> None:
        fired.append("first")
        hub.schedule_call_global(0, fired.append, "scheduled during firing")

    hub.schedule_call_global(0, first)
    fire_due(hub)
    assert fired == ["first"]
    fire_due(hub)
    assert fired == ["first", "scheduled during firing"]


def test_a_callback_goes_on_as_soon_as_the_greenlet_it_switched_to_blocks(hub: Any) -> None:
    order: list[str] = []
    never, peer = socket.socketpair()

    def blocks() -> None:
        order.append("greenlet blocks")
        hubs.trampoline(never, read=True)

    g = greenlet.greenlet(blocks, parent=hub.greenlet)

    def callback() -> None:
        g.switch()
        order.append("callback goes on")

    def sleeper() -> None:
        eventhub.sleep(0.05)
        order.append("next timer's greenthread")

    eventhub.spawn(sleeper)
    eventhub.sleep(0)  # its timer is queued
    hub.schedule_call_global(0, callback)  # due first
    time.sleep(0.06)  # both due at the next pass
    eventhub.sleep(0)
    with never, peer:
        wait_until(lambda: len(order) == 3, eventhub.sleep)
        # The callback runs in the loop's greenlet: when g blocks, the loop
        # (the callback) goes on before the next timer fires.
        assert order == ["greenlet blocks", "callback goes on", "next timer's greenthread"]
        peer.send(b"x")
        run_until_dead(g, eventhub.sleep)


def test_local_timer_dies_with_its_greenthread(hub: Any) -> None:
    fired: list[str] = []
    timers: list[Any] = []

    def schedule() -> None:
        timers.append(hub.schedule_call_local(0.01, fired.append, "local"))
        timers.append(hub.schedule_call_global(0.01, fired.append, "global"))

    eventhub.spawn(schedule).wait()
    assert not timers[0].pending  # its greenthread is dead
    eventhub.sleep(0.03)
    assert fired == ["global"]


def test_local_timer_fires_while_its_greenthread_lives(hub: Any) -> None:
    fired: list[str] = []

    def schedule_and_wait() -> None:
        hub.schedule_call_local(0.01, fired.append, "local")
        eventhub.sleep(0.03)

    eventhub.spawn(schedule_and_wait).wait()
    assert fired == ["local"]


def test_exception_in_timer_is_printed_and_loop_goes_on(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fired: list[str] = []

    def boom() -> None:
        raise ZeroDivisionError("timer failed")

    hub.schedule_call_global(0, boom)
    hub.schedule_call_global(0.005, fired.append, "after")
    eventhub.sleep(0.02)
    assert fired == ["after"]
    assert "ZeroDivisionError: timer failed" in capsys.readouterr().err


def test_timer_exceptions_can_be_silenced(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    hub.set_timer_exceptions(False)
    hub.schedule_call_global(0, lambda: 1 / 0)
    eventhub.sleep(0.01)
    assert "ZeroDivisionError" not in capsys.readouterr().err


def test_keyboard_interrupt_in_timer_reaches_main_greenlet(hub: Any) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    hub.schedule_call_global(0, interrupt)
    with pytest.raises(KeyboardInterrupt):
        eventhub.sleep(1)
    assert not hub.running
    # The hub recovers: a new MAINLOOP is started on the next switch.
    eventhub.sleep(0)
    fired: list[int] = []
    hub.schedule_call_global(0, fired.append, 1)
    eventhub.sleep(0.01)
    assert fired == [1]


def test_system_exit_in_timer_reaches_main_greenlet(hub: Any) -> None:
    hub.schedule_call_global(0, lambda: (_ for _ in ()).throw(SystemExit(3)))
    with pytest.raises(SystemExit):
        eventhub.sleep(1)


def test_cancelled_timers_are_compacted(hub: Any) -> None:
    timers = [hub.schedule_call_global(10, lambda: None) for _ in range(5000)]
    eventhub.sleep(0)  # move them into the queue proper
    assert hub.get_timers_count() == 5000
    for t in timers[:4000]:
        t.cancel()
    # Compaction keeps the queue from holding mostly dead entries.
    assert hub.get_timers_count() < 3000
    for t in timers[4000:]:
        assert t.pending
    for t in timers[4000:]:
        t.cancel()
    eventhub.sleep(0)
    assert hub.get_timers_count() < 1100


def test_compaction_while_timers_fire_forgets_the_fired_ones(hub_class: Any) -> None:
    """A callback that cancels enough timers to compact the queue, with more
    due timers still to fire in the same pass: those fire once and are gone."""
    clock = FakeClock()
    hub = hub_class(clock=clock)
    far = [hub.schedule_call_global(100, lambda: None) for _ in range(2000)]
    fired: list[int] = []

    def cancel_far() -> None:
        for t in far[:1500]:
            t.cancel()

    hub.schedule_call_global(1, cancel_far)
    for i in range(300):
        hub.schedule_call_global(2, fired.append, i)
    hub.prepare_timers()
    clock.now += 5
    hub.fire_timers(clock.now)
    assert fired == list(range(300))
    # The 500 far timers still pending, plus cancelled entries not compacted yet.
    assert hub.get_timers_count() == 500 + hub.timers_canceled
    clock.now += 200
    fire_due(hub)
    assert fired == list(range(300))
    assert hub.get_timers_count() == 0
    assert hub.timers_canceled == 0


def test_get_timers_count_counts_scheduled_timers(hub_class: Any) -> None:
    hub = hub_class(clock=FakeClock())
    assert hub.get_timers_count() == 0
    hub.schedule_call_global(1, lambda: None)
    hub.schedule_call_global(2, lambda: None)
    assert hub.get_timers_count() == 2


class ForeignTimer:
    """A timer object of another library (eventlet's Timer has this shape)."""

    def __init__(self, seconds: float, log: list[str], name: str) -> None:
        self.seconds = seconds
        self.called = False
        self.log = log
        self.name = name

    def __call__(self) -> None:
        self.called = True
        self.log.append(self.name)

    def cancel(self, hub: Any) -> None:
        self.called = True
        hub.timer_canceled(self)


def test_foreign_timers_are_accepted(hub: Any) -> None:
    log: list[str] = []
    kept = ForeignTimer(0.01, log, "kept")
    dropped = ForeignTimer(0.01, log, "dropped")
    deadline = hub.add_timer(kept)
    assert deadline == pytest.approx(hub.clock() + 0.01, abs=0.5)
    hub.add_timer(dropped)
    dropped.cancel(hub)
    eventhub.sleep(0.03)
    assert log == ["kept"]


def test_scheduling_queues_into_the_hub_not_through_an_add_timer_override(hub_class: Any) -> None:
    """``add_timer`` is for foreign timers; the compiled core never calls an
    override of it from ``schedule_call_*``, so the pure hub must not either."""
    seen: list[Any] = []

    def add_timer(self: Any, timer: Any) -> float:
        seen.append(timer)
        return float(hub_class.add_timer(self, timer))

    hubs.use_hub(type("Watched", (hub_class,), {"add_timer": add_timer}))
    try:
        hub = hubs.get_hub()
        fired: list[str] = []
        hub.schedule_call_global(0, fired.append, "global")
        hub.schedule_call_local(0, fired.append, "local")
        assert hub.get_timers_count() == 2
        eventhub.sleep(0)
        assert fired == ["global", "local"]
        assert seen == []
        hub.add_timer(ForeignTimer(0, fired, "foreign"))  # called directly, it is the override
        assert len(seen) == 1
    finally:
        hubs.use_hub(hub_class)


@pytest.mark.parametrize("delay", [math.nan, math.inf, -math.inf])
def test_non_finite_delay_is_refused(hub: Any, delay: float) -> None:
    with pytest.raises(ValueError):
        hub.schedule_call_global(delay, lambda: None)
    assert hub.get_timers_count() == 0


@pytest.mark.parametrize("delay", ["1", None, [1], b"1"])
def test_non_number_delay_is_refused(hub: Any, delay: Any) -> None:
    with pytest.raises(TypeError):
        hub.schedule_call_global(delay, lambda: None)
    with pytest.raises(TypeError):
        eventhub.sleep(delay)
    assert hub.get_timers_count() == 0


def test_negative_delay_means_now(hub: Any) -> None:
    fired: list[str] = []
    hub.schedule_call_global(0.01, fired.append, "later")
    hub.schedule_call_global(-5, fired.append, "now")
    eventhub.sleep(0.03)
    assert fired == ["now", "later"]


def test_non_callable_timer_callback_is_refused(hub: Any) -> None:
    with pytest.raises(TypeError):
        hub.schedule_call_global(0, "not callable")
    with pytest.raises(TypeError):
        hub.schedule_call_local(0, 42)
    assert hub.get_timers_count() == 0


def test_sleep_zero_lets_io_poll_run(hub: Any) -> None:
    """A greenthread spinning on sleep(0) cannot starve a ready reader."""
    import socket

    a, b = socket.socketpair()
    try:
        b.send(b"x")
        spins: list[int] = []
        woke_after: list[int] = []

        def reader() -> None:
            hubs.trampoline(a, read=True)
            woke_after.append(len(spins))

        def spinner() -> None:
            for i in range(100):
                spins.append(i)
                eventhub.sleep(0)
                if woke_after:
                    return

        r = eventhub.spawn(reader)
        s = eventhub.spawn(spinner)
        s.wait()
        r.wait()
        assert woke_after and woke_after[0] <= 2
    finally:
        a.close()
        b.close()


def test_default_sleep_is_overridable_per_instance(hub: Any) -> None:
    assert hub.default_sleep() == 60.0
    hub.default_sleep = lambda: 0.01
    assert hub.default_sleep() == 0.01
