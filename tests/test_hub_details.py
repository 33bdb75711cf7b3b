"""Contract details every hub keeps, compiled or pure (run through the ``hub`` fixture).

These pin down what the compiled core had to reproduce: listener slots and
their errors, fd validation and reuse, timer ordering and compaction, the
loop's introspection attributes.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import greenlet
import pytest

from eventhub import hubs, sleep, spawn
from eventhub.hubs import IOClosed, trampoline


def _noop(*a: Any) -> None:
    pass


@pytest.fixture
def pair() -> Any:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


# -- listeners ----------------------------------------------------------------


def test_add_returns_listener_with_attributes(hub: Any, pair: Any) -> None:
    a, _ = pair
    listener = hub.add(hub.READ, a, _noop, _noop, None)
    assert listener.evtype == hub.READ
    assert listener.fileno == a.fileno()
    assert listener.cb is _noop
    assert listener.spent is False
    assert listener.greenlet is greenlet.getcurrent()
    assert hub.get_readers() == [listener]
    assert hub.get_writers() == []
    hub.remove(listener)
    assert listener.spent is True
    assert hub.get_readers() == []
    hub.remove(listener)  # spent: a no-op


def test_evtype_equal_strings_are_accepted(hub: Any, pair: Any) -> None:
    a, _ = pair
    listener = hub.add("".join(["re", "ad"]), a.fileno(), _noop, _noop, None)
    assert listener.evtype is hub.READ
    hub.remove(listener)
    with pytest.raises(ValueError):
        hub.add("readwrite", a.fileno(), _noop, _noop, None)


@pytest.mark.parametrize("bad", [-1, "3", 3.0, None, True])
def test_bad_fileno_types(hub: Any, bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        hub.add(hub.READ, bad, _noop, _noop, None)
    assert hub.get_readers() == []


def test_uncallable_callbacks(hub: Any, pair: Any) -> None:
    a, _ = pair
    with pytest.raises(TypeError):
        hub.add(hub.READ, a, None, _noop, None)
    with pytest.raises(TypeError):
        hub.add(hub.READ, a, _noop, _noop, 42)
    assert hub.get_readers() == []


def test_closed_fd_at_add_leaves_nothing_behind(hub: Any) -> None:
    a, b = socket.socketpair()
    fd = a.fileno()
    a.close()
    b.close()
    with pytest.raises(OSError):
        hub.add(hub.READ, fd, _noop, _noop, None)
    assert hub.get_readers() == []
    # The fd number is usable again afterwards.
    c, d = socket.socketpair()
    try:
        listener = hub.add(hub.READ, c, _noop, _noop, None)
        hub.remove(listener)
    finally:
        c.close()
        d.close()


def test_huge_fd_numbers_are_refused_without_growing(hub: Any) -> None:
    for fd in (10**6, 2**31 - 1):
        with pytest.raises((ValueError, OSError)):
            hub.add(hub.READ, fd, _noop, _noop, None)
    with pytest.raises(ValueError):
        hub.add(hub.READ, 2**40, _noop, _noop, None)
    assert hub.get_readers() == []


def test_regular_file_fd(hub: Any, tmp_path: Any, hub_spec: Any) -> None:
    with open(tmp_path / "f", "wb") as f:
        # pyevent runs on libevent's epoll backend on Linux: it refuses them too.
        if hub_spec[0] == "epolls" or getattr(hub, "method", None) == "epoll":
            with pytest.raises(OSError):  # EPERM: epoll refuses regular files
                hub.add(hub.READ, f, _noop, _noop, None)
            assert hub.get_readers() == []
        else:
            hub.remove(hub.add(hub.READ, f, _noop, _noop, None))


def test_second_reader_is_an_error(hub: Any, pair: Any) -> None:
    a, _ = pair
    first = hub.add(hub.READ, a, _noop, _noop, None)
    with pytest.raises(RuntimeError, match="Second simultaneous read"):
        hub.add(hub.READ, a, _noop, _noop, None)
    assert hub.get_readers() == [first]
    writer = hub.add(hub.WRITE, a, _noop, _noop, None)  # the other direction is fine
    hub.remove(first)
    hub.remove(writer)


def test_multiple_readers_queue_and_promote(hub: Any, pair: Any) -> None:
    a, b = pair
    hub.prevent_multiple_readers = False
    fired: list[str] = []
    first = hub.add(hub.READ, a, lambda fd: fired.append("first"), _noop, None)
    second = hub.add(hub.READ, a, lambda fd: fired.append("second"), _noop, None)
    third = hub.add(hub.READ, a, lambda fd: fired.append("third"), _noop, None)
    assert hub.get_readers() == [first]
    hub.remove(second)  # a queued one just leaves the queue
    hub.remove(first)
    assert hub.get_readers() == [third]
    b.send(b"x")
    hub.wait(1)
    assert fired == ["third"]
    hub.remove(third)
    assert hub.get_readers() == []


def test_get_readers_keeps_insertion_order(hub: Any) -> None:
    socks = [socket.socketpair() for _ in range(3)]
    try:
        listeners = [hub.add(hub.READ, s[0], _noop, _noop, None) for s in reversed(socks)]
        assert hub.get_readers() == listeners
        for listener in listeners:
            hub.remove(listener)
    finally:
        for s in socks:
            s[0].close()
            s[1].close()


def test_readiness_is_level_triggered(hub: Any, pair: Any) -> None:
    a, b = pair
    calls: list[int] = []
    listener = hub.add(hub.READ, a, calls.append, _noop, None)
    b.send(b"x")
    hub.wait(1)
    hub.wait(1)
    assert calls == [a.fileno(), a.fileno()]
    hub.remove(listener)
    hub.wait(0)
    assert len(calls) == 2


def test_interest_follows_add_and_remove(hub: Any, pair: Any) -> None:
    """Repeated block/unblock on one fd (the registration cache) keeps working."""
    a, b = pair
    calls: list[str] = []
    for i in range(5):
        r = hub.add(hub.READ, a, lambda fd: calls.append("r"), _noop, None)
        b.send(b"x")
        hub.wait(1)
        hub.remove(r)
        a.recv(10)
        w = hub.add(hub.WRITE, a, lambda fd: calls.append("w"), _noop, None)
        hub.wait(1)
        hub.remove(w)
        b.send(b"y")  # readable, but nobody listens
        hub.wait(0)
        a.recv(10)
    assert calls == ["r", "w"] * 5


def test_readiness_nobody_wants_does_not_spin(hub: Any, pair: Any) -> None:
    a, b = pair
    hub.remove(hub.add(hub.READ, a, _noop, _noop, None))
    b.send(b"x")  # a stays readable with no listener
    calls: list[int] = []
    w = hub.add(hub.WRITE, b, calls.append, _noop, None)
    hub.wait(0)
    hub.remove(w)
    assert calls == [b.fileno()]
    hub.wait(0)
    assert calls == [b.fileno()]


def test_fd_reused_behind_the_hubs_back(hub: Any) -> None:
    """An fd closed (no notify) and reused is watched as the new file."""
    a, b = socket.socketpair()
    hub.remove(hub.add(hub.READ, a, _noop, _noop, None))
    fd = a.fileno()
    a.close()
    b.close()
    c, d = socket.socketpair()
    try:
        assert fd in (c.fileno(), d.fileno())
        mine = c if c.fileno() == fd else d
        other = d if mine is c else c
        calls: list[int] = []
        listener = hub.add(hub.READ, mine, calls.append, _noop, None)
        other.send(b"x")
        hub.wait(1)
        hub.remove(listener)
        assert calls == [fd]
    finally:
        c.close()
        d.close()


def test_dup_of_closed_fd_still_registered(hub: Any) -> None:
    a, b = socket.socketpair()
    keep = os.dup(a.fileno())
    try:
        hub.remove(hub.add(hub.READ, a, _noop, _noop, None))
        a.close()  # `keep` holds the file open: epoll still has it under the old number
        b.send(b"x")
        hub.wait(0)  # must not spin forever or raise
        c, d = socket.socketpair()
        try:
            calls: list[int] = []
            listener = hub.add(hub.READ, c, calls.append, _noop, None)
            d.send(b"y")
            hub.wait(1)
            hub.remove(listener)
            assert calls == [c.fileno()]
        finally:
            c.close()
            d.close()
    finally:
        os.close(keep)
        b.close()


def test_notify_close_defangs_and_throws_ioclosed(hub: Any, pair: Any) -> None:
    a, _ = pair
    marked: list[bool] = []
    seen: list[BaseException] = []

    def waiter() -> None:
        try:
            trampoline(a, read=True, mark_as_closed=lambda: marked.append(True))
        except IOClosed as e:
            seen.append(e)

    g = spawn(waiter)
    sleep(0)
    assert len(hub.get_readers()) == 1
    hub.notify_close(a.fileno())
    assert marked == [True]
    assert hub.get_readers() == []
    g.wait()
    assert len(seen) == 1


def test_mark_as_reopened_wakes_waiters_on_the_old_fd(hub: Any, pair: Any) -> None:
    a, _ = pair
    seen: list[str] = []

    def waiter(write: bool) -> None:
        try:
            trampoline(a, read=not write, write=write)
        except IOClosed:
            seen.append("closed")

    hub.prevent_multiple_readers = False
    gs = [spawn(waiter, False), spawn(waiter, False)]
    sleep(0)
    hub.mark_as_reopened(a.fileno())
    for g in gs:
        g.wait()
    assert seen == ["closed", "closed"]
    # The fd works as new afterwards.
    listener = hub.add(hub.READ, a, _noop, _noop, None)
    hub.remove(listener)


def test_notify_unknown_fds_is_harmless(hub: Any) -> None:
    for fd in (0, 999_999, 2**40, -1, "x"):
        hub.notify_close(fd)
        hub.mark_as_reopened(fd)
        hub.remove_descriptor(fd)


def test_remove_descriptor_wakes_every_listener(hub: Any, pair: Any) -> None:
    a, _ = pair
    hub.prevent_multiple_readers = False
    calls: list[str] = []
    listeners = [
        hub.add(hub.READ, a, lambda fd: calls.append("r1"), _noop, None),
        hub.add(hub.READ, a, lambda fd: calls.append("r2"), _noop, None),
        hub.add(hub.WRITE, a, lambda fd: calls.append("w"), _noop, None),
    ]
    hub.remove_descriptor(a.fileno())
    assert calls == ["r2", "r1", "w"]
    assert all(listener.spent for listener in listeners)
    assert hub.get_readers() == [] and hub.get_writers() == []


def test_callback_error_is_squelched_and_descriptor_removed(hub: Any, pair: Any, capsys: Any) -> None:
    a, b = pair

    def boom(fd: int) -> None:
        raise ZeroDivisionError("boom")

    hub.add(hub.READ, a, boom, _noop, None)
    b.send(b"x")
    hub.wait(1)
    assert hub.get_readers() == []
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "Removing descriptor" in err


def test_system_exceptions_propagate_from_callbacks(hub: Any, pair: Any) -> None:
    a, b = pair

    def stop(fd: int) -> None:
        raise KeyboardInterrupt

    listener = hub.add(hub.READ, a, stop, _noop, None)
    b.send(b"x")
    with pytest.raises(KeyboardInterrupt):
        hub.wait(1)
    hub.remove(listener)


def test_debug_listeners_remember_where(hub: Any, pair: Any) -> None:
    a, _ = pair
    hub.set_debug_listeners(True)
    listener = hub.add(hub.READ, a, _noop, _noop, None)
    assert "test_debug_listeners_remember_where" in repr(listener)
    hub.remove(listener)
    hub.set_debug_listeners(False)
    listener = hub.add(hub.READ, a, _noop, _noop, None)
    assert not hasattr(listener, "where_called")
    hub.remove(listener)


def test_many_fds(hub: Any, hub_spec: Any) -> None:
    """Slot tables grow; hundreds of fds are watched at once."""
    socks = [socket.socketpair() for _ in range(300)]
    try:
        calls: list[int] = []
        listeners = [hub.add(hub.READ, s[0], calls.append, _noop, None) for s in socks]
        for s in socks[::7]:
            s[1].send(b"x")
        hub.wait(1)
        assert sorted(calls) == sorted(s[0].fileno() for s in socks[::7])
        for listener in listeners:
            hub.remove(listener)
    finally:
        for s in socks:
            s[0].close()
            s[1].close()


# -- timers -------------------------------------------------------------------


def test_equal_deadlines_fire_in_order(hub: Any) -> None:
    order: list[int] = []
    clock_value = [100.0]
    hub.clock = lambda: clock_value[0]
    for i in range(50):
        hub.schedule_call_global(1, order.append, i)
    clock_value[0] = 101.0
    hub.prepare_timers()
    hub.fire_timers(hub.clock())
    assert order == list(range(50))


def test_timers_fire_by_deadline(hub: Any) -> None:
    order: list[float] = []
    now = [0.0]
    hub.clock = lambda: now[0]
    import random

    delays = [random.random() for _ in range(500)]
    for d in delays:
        hub.schedule_call_global(d, order.append, d)
    hub.prepare_timers()
    now[0] = 0.5
    hub.fire_timers(hub.clock())
    assert order == sorted(d for d in delays if d <= 0.5)
    now[0] = 2.0
    hub.fire_timers(hub.clock())
    assert order == sorted(delays)
    assert hub.get_timers_count() == 0


def test_clock_constructor_argument(hub_class: Any) -> None:
    hub = hub_class(clock=lambda: 42.0)
    try:
        assert hub.clock() == 42.0
        t = hub.schedule_call_global(3, _noop)
        assert t.scheduled_time == 45.0
        assert hub.sleep_until() is None  # still in next_timers
        hub.prepare_timers()
        assert hub.sleep_until() == 45.0
    finally:
        hub.destroy()


def test_timer_attributes_and_cancel(hub: Any) -> None:
    t = hub.schedule_call_global(10, _noop)
    assert t.pending and not t.called and t.seconds == 10
    assert "pending" in repr(t)
    assert hub.get_timers_count() == 1
    t.cancel()
    assert not t.pending and t.called
    t.cancel()
    assert hub.timers_canceled == 1


@pytest.mark.parametrize("bad", ["1", None, float("nan"), float("inf"), True])
def test_bad_delays(hub: Any, bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        hub.schedule_call_global(bad, _noop)
    assert hub.get_timers_count() == 0


def test_negative_delay_means_now(hub: Any) -> None:
    now = [5.0]
    hub.clock = lambda: now[0]
    t = hub.schedule_call_global(-3, _noop)
    assert t.scheduled_time == 5.0


def test_uncallable_timer_callback(hub: Any) -> None:
    with pytest.raises(TypeError):
        hub.schedule_call_global(0, 42)
    with pytest.raises(TypeError):
        hub.schedule_call_local(0, 42)


def test_timer_scheduled_while_firing_waits_a_pass(hub: Any) -> None:
    fired: list[str] = []

    def first() -> None:
        fired.append("first")
        hub.schedule_call_global(0, fired.append, "second")

    hub.schedule_call_global(0, first)
    hub.prepare_timers()
    hub.fire_timers(hub.clock() + 1)
    assert fired == ["first"]
    hub.prepare_timers()
    hub.fire_timers(hub.clock() + 1)
    assert fired == ["first", "second"]


def test_cancelled_timers_are_compacted(hub: Any) -> None:
    timers = [hub.schedule_call_global(100, _noop) for _ in range(3000)]
    for t in timers[:2000]:
        t.cancel()
    assert hub.get_timers_count() < 3000
    assert hub.get_timers_count() >= 1000
    for t in timers[2000:]:
        t.cancel()


def test_foreign_timer_objects(hub: Any) -> None:
    class Foreign:
        def __init__(self) -> None:
            self.seconds = 0
            self.called = False
            self.calls = 0

        def __call__(self) -> None:
            self.called = True
            self.calls += 1

    f = Foreign()
    deadline = hub.add_timer(f)
    assert isinstance(deadline, float)
    sleep(0)
    sleep(0)
    assert f.calls == 1
    g = Foreign()
    hub.add_timer(g)
    g.called = True
    hub.timer_canceled(g)
    sleep(0)
    sleep(0)
    assert g.calls == 0


def test_local_timer_skipped_when_its_greenthread_died(hub: Any) -> None:
    fired: list[str] = []

    def schedule() -> None:
        hub.schedule_call_local(0, fired.append, "local")
        hub.schedule_call_global(0, fired.append, "global")

    spawn(schedule).wait()
    sleep(0)
    sleep(0)
    assert fired == ["global"]


def test_timer_exceptions_are_printed_and_the_loop_goes_on(hub: Any, capsys: Any) -> None:
    def boom() -> None:
        raise ZeroDivisionError("in a timer")

    fired: list[int] = []
    hub.schedule_call_global(0, boom)
    hub.schedule_call_global(0, fired.append, 1)
    sleep(0.01)
    assert fired == [1]
    assert "in a timer" in capsys.readouterr().err
    hub.set_timer_exceptions(False)
    assert hub.debug_exceptions is False
    hub.schedule_call_global(0, boom)
    sleep(0.01)
    assert capsys.readouterr().err == ""


def test_timers_snapshot(hub: Any) -> None:
    t = hub.schedule_call_global(5, _noop)
    hub.prepare_timers()
    entries = list(hub.timers)
    assert len(entries) == 1 and entries[0][2] is t
    t.cancel()


def test_timers_snapshot_is_in_firing_order(hub: Any) -> None:
    a, b, c, d, e = (hub.schedule_call_global(delay, _noop) for delay in (5, 3, 3, 9, 1))
    hub.prepare_timers()
    f, g, h = (hub.schedule_call_global(delay, _noop) for delay in (8, 2, 3))  # a non-empty queue
    hub.prepare_timers()
    assert [entry[2] for entry in hub.timers] == [e, g, b, c, h, a, f, d]
    for t in (a, b, c, d, e, f, g, h):
        t.cancel()


# -- the loop -----------------------------------------------------------------


def test_instance_attributes_can_be_set(hub: Any) -> None:
    hub.some_attribute = 5
    assert hub.some_attribute == 5
    hub.debug_blocking_resolution = 0.5
    assert hub.debug_blocking_resolution == 0.5


def test_default_sleep_overridable_per_instance(hub: Any) -> None:
    hub.default_sleep = lambda: 0.001
    assert hub.default_sleep() == 0.001
    g = spawn(sleep, 0.01)
    g.wait()


def test_wait_overridable_per_instance(hub: Any) -> None:
    calls: list[float] = []
    real_wait = hub.wait

    def wait(seconds: float) -> None:
        calls.append(seconds)
        real_wait(seconds)

    hub.wait = wait
    sleep(0)
    sleep(0)
    assert calls


def test_run_twice_is_an_error(hub: Any) -> None:
    errors: list[BaseException] = []

    def nested() -> None:
        try:
            hub.run()
        except RuntimeError as e:
            errors.append(e)

    hub.schedule_call_global(0, nested)
    sleep(0.001)
    assert errors and "Already running" in str(errors[0])


def test_switch_from_the_hub_greenlet_is_an_error(hub: Any) -> None:
    errors: list[BaseException] = []

    def in_loop() -> None:
        try:
            hub.switch()
        except RuntimeError as e:
            errors.append(e)

    hub.schedule_call_global(0, in_loop)
    sleep(0.001)
    assert errors


def test_switch_out_is_called(hub: Any) -> None:
    calls: list[int] = []

    class Green(greenlet.greenlet):
        def switch_out(self) -> None:
            calls.append(1)

    def body() -> None:
        sleep(0)

    g = Green(body, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    sleep(0.001)
    sleep(0.001)
    assert calls


def test_abort_and_ensure_greenlet(hub: Any) -> None:
    sleep(0)
    assert hub.running
    hub.abort(wait=True)
    assert not hub.running and not hub.stopping
    assert hub.greenlet.dead
    hub.ensure_greenlet()
    assert not hub.greenlet.dead
    sleep(0)  # a fresh loop runs
    assert hub.running


def test_system_exit_in_timer_reaches_main(hub: Any) -> None:
    def stop() -> None:
        raise SystemExit(3)

    hub.schedule_call_global(0, stop)
    with pytest.raises(SystemExit):
        sleep(0.01)


def test_run_accepts_and_ignores_arguments(hub_class: Any) -> None:
    hub = hub_class()
    hub.default_sleep = lambda: 0.0  # abort() alone does not cut a wait short
    try:
        hub.schedule_call_global(0, hub.abort)
        hub.run(1, 2, x=3)
        assert not hub.running
        assert hub.get_timers_count() == 0
    finally:
        hub.destroy()


def test_block_detection_methods_exist(hub: Any) -> None:
    hub.block_detect_pre()
    hub.block_detect_post()
    hubs.use_hub(type(hub))


def test_ioclosed_is_not_delayed_by_an_idle_wait(hub: Any, pair: Any) -> None:
    """notify_close from outside the loop: the waiter hears of it on the next
    pass, not after default_sleep() (60 s) of waiting for unrelated I/O."""
    import time

    a, _ = pair
    seen: list[str] = []

    def waiter() -> None:
        try:
            trampoline(a, read=True)
        except IOClosed:
            seen.append("closed")

    g = spawn(waiter)
    sleep(0)
    hub.notify_close(a.fileno())
    start = time.monotonic()
    g.wait()
    assert seen == ["closed"]
    assert time.monotonic() - start < 5


def test_round_robin_order_of_sleep0(hub: Any) -> None:
    order: list[int] = []

    def worker(i: int) -> None:
        for _ in range(4):
            order.append(i)
            sleep(0)

    threads = [spawn(worker, i) for i in range(5)]
    for t in threads:
        t.wait()
    assert order == [0, 1, 2, 3, 4] * 4


def test_errors_and_timeouts_among_switching_greenthreads(hub: Any, capsys: Any) -> None:
    from eventhub import Timeout

    results: list[str] = []

    def failing() -> None:
        sleep(0)
        raise ZeroDivisionError("from a greenthread")

    def timed() -> None:
        try:
            with Timeout(0.01):
                while True:
                    sleep(0)
        except Timeout:
            results.append("timed out")

    def busy() -> None:
        for _ in range(50):
            sleep(0)
        results.append("busy done")

    threads = [spawn(failing), spawn(timed), spawn(busy)]
    with pytest.raises(ZeroDivisionError):
        threads[0].wait()
    threads[1].wait()
    threads[2].wait()
    assert sorted(results) == ["busy done", "timed out"]
    assert "from a greenthread" in capsys.readouterr().err


def test_cancelled_sleep_timers_between_switches(hub: Any) -> None:
    """Greenthreads woken early (timers cancelled while due) still all run."""
    from eventhub import Event

    ev: Any = Event()
    woken: list[int] = []

    def sleeper(i: int) -> None:
        sleep(0)
        woken.append(i)

    def waiter() -> None:
        woken.append(ev.wait())

    ts = [spawn(sleeper, i) for i in range(3)] + [spawn(waiter)]
    sleep(0)
    ev.send(99)
    for t in ts:
        t.wait()
    assert sorted(woken) == [0, 1, 2, 99]


def test_dropped_hub_with_pending_work_is_collected(hub_class: Any) -> None:
    """A hub dropped with timers and listeners pending is freed by the GC."""
    import gc
    import weakref

    a, b = socket.socketpair()
    try:
        h = hub_class()
        h.schedule_call_global(60, _noop)
        h.schedule_call_local(60, _noop)
        h.add(h.READ, a, _noop, _noop, None)
        h.greenlet  # the MAINLOOP's run refers back to the hub
        ref = weakref.ref(h)
        del h
        gc.collect()
        assert ref() is None
    finally:
        a.close()
        b.close()


def test_timer_outliving_its_hub(hub_class: Any) -> None:
    import gc

    h = hub_class()
    timer = h.schedule_call_global(60, _noop)
    fired = h.schedule_call_global(0, _noop)
    h.destroy()
    del h
    gc.collect()
    assert fired.pending
    timer.cancel()
    assert not timer.pending and timer.called
