"""Timeout and Event on every hub."""

from __future__ import annotations

import socket
import time
from typing import Any

import greenlet
import pytest

from eventhub import Event, GreenletExit, GreenThread, Timeout, sleep, spawn
from eventhub.hubs import trampoline

SLOW = 5.0


class Boom(Exception):
    """A test-only error."""


# -- Timeout ------------------------------------------------------------------


def test_timeout_raises_itself(hub: Any) -> None:
    start = time.monotonic()
    with pytest.raises(Timeout) as info:
        with Timeout(0.02) as t:
            sleep(SLOW)
    assert info.value is t
    assert not t.pending
    assert 0.015 <= time.monotonic() - start < SLOW


def test_timeout_not_reached_is_cancelled_on_exit(hub: Any) -> None:
    with Timeout(0.05) as t:
        assert t.pending
        sleep(0)
    assert not t.pending
    sleep(0.1)  # past the deadline: nothing may be thrown at us now


def test_timeout_with_exception_class(hub: Any) -> None:
    with pytest.raises(Boom) as info:
        with Timeout(0.01, Boom):
            sleep(SLOW)
    assert type(info.value) is Boom


def test_timeout_with_exception_instance(hub: Any) -> None:
    err = Boom("custom instance")
    with pytest.raises(Boom) as info:
        with Timeout(0.01, err):
            sleep(SLOW)
    assert info.value is err


def test_timeout_false_ends_block_silently(hub: Any) -> None:
    reached: list[str] = []
    with Timeout(0.01, False) as t:
        sleep(SLOW)
        reached.append("inside after sleep")
    reached.append("after block")
    assert reached == ["after block"]
    assert not t.pending


def test_timeout_false_does_not_swallow_other_exceptions(hub: Any) -> None:
    with pytest.raises(Boom):
        with Timeout(1, False):
            raise Boom("not a timeout")


def test_timeout_none_never_fires(hub: Any) -> None:
    with Timeout(None) as t:
        assert not t.pending
        sleep(0.05)
    t2 = Timeout()
    assert not t2.pending
    sleep(0.02)
    t2.cancel()
    assert str(t2) == ""


def test_timeout_pending_and_cancel(hub: Any) -> None:
    t = Timeout(0.02)
    assert t.pending  # started at construction
    t.cancel()
    assert not t.pending
    t.cancel()  # idempotent
    sleep(0.06)  # would have fired by now


def test_cancelled_timeout_does_not_fire_in_a_greenthread(hub: Any) -> None:
    def work() -> str:
        t = Timeout(0.01)
        t.cancel()
        sleep(0.05)
        return "survived"

    with Timeout(SLOW):
        assert spawn(work).wait() == "survived"


def test_timeout_restart_after_cancel(hub: Any) -> None:
    t = Timeout(0.01)
    with pytest.raises(RuntimeError):
        t.start()  # already pending
    t.cancel()
    t.start()
    assert t.pending
    with pytest.raises(Timeout) as info:
        sleep(SLOW)
    assert info.value is t


def test_timeout_inside_greenthread_only_hits_that_greenthread(hub: Any) -> None:
    def short() -> str:
        try:
            with Timeout(0.01):
                sleep(SLOW)
        except Timeout:
            return "timed out"
        return "not timed out"

    def long() -> str:
        sleep(0.05)
        return "finished"

    a, b = spawn(short), spawn(long)
    with Timeout(SLOW):
        assert a.wait() == "timed out"
        assert b.wait() == "finished"


def test_timeout_interrupts_io_wait(hub: Any) -> None:
    a, b = socket.socketpair()
    try:
        with pytest.raises(Timeout):
            with Timeout(0.02):
                trampoline(a, read=True)
        # The waiter's listener is gone: the fd can be waited on again.
        assert hub.get_readers() == []
        b.send(b"x")
        with Timeout(SLOW):
            trampoline(a, read=True)
        assert a.recv(1) == b"x"
    finally:
        a.close()
        b.close()


def test_nested_inner_shorter(hub: Any) -> None:
    with Timeout(SLOW) as outer:
        with pytest.raises(Timeout) as info:
            with Timeout(0.01) as inner:
                sleep(SLOW)
        assert info.value is inner
        assert outer.pending
        sleep(0.02)  # still inside outer, which has not fired
    assert not outer.pending


def test_nested_inner_longer(hub: Any) -> None:
    with pytest.raises(Timeout) as info:
        with Timeout(0.01) as outer:
            with Timeout(SLOW) as inner:
                sleep(SLOW)
    assert info.value is outer
    assert not inner.pending  # cancelled by its own __exit__ as outer's went by
    sleep(0.02)


def test_nested_silent_inner_does_not_swallow_outer(hub: Any) -> None:
    with pytest.raises(Timeout) as info:
        with Timeout(0.01) as outer:
            with Timeout(SLOW, False):
                sleep(SLOW)
    assert info.value is outer


def test_timeout_str(hub: Any) -> None:
    t = Timeout(2)
    try:
        assert str(t) == "2 seconds"
        assert "pending" in repr(t)
    finally:
        t.cancel()
    assert "pending" not in repr(t)


# -- Event --------------------------------------------------------------------


def test_event_send_then_wait(hub: Any) -> None:
    ev: Event[int] = Event()
    assert not ev.ready()
    ev.send(5)
    assert ev.ready()
    assert ev.wait() == 5
    assert ev.wait(0) == 5


def test_event_wait_then_send(hub: Any) -> None:
    ev: Event[str] = Event()

    def sender() -> None:
        sleep(0.01)
        ev.send("hello")

    spawn(sender)
    with Timeout(SLOW):
        assert ev.wait() == "hello"


def test_event_send_exception(hub: Any) -> None:
    ev: Event[int] = Event()
    err = Boom("sent")

    def sender() -> None:
        sleep(0)
        ev.send_exception(err)

    spawn(sender)
    with Timeout(SLOW):
        with pytest.raises(Boom) as info:
            ev.wait()
    assert info.value is err
    assert ev.ready()
    with pytest.raises(Boom):  # and again, for a late waiter
        ev.wait()


def test_event_wakes_every_waiter(hub: Any) -> None:
    ev: Event[str] = Event()
    got: list[tuple[int, Any]] = []

    def waiter(i: int) -> None:
        got.append((i, ev.wait()))

    gts = [spawn(waiter, i) for i in range(10)]
    sleep(0)
    assert got == []
    ev.send("all")
    with Timeout(SLOW):
        for gt in gts:
            gt.wait()
    assert sorted(got) == [(i, "all") for i in range(10)]


def test_event_wait_timeout_returns_none(hub: Any) -> None:
    ev: Event[int] = Event()
    start = time.monotonic()
    assert ev.wait(0.02) is None
    assert 0.015 <= time.monotonic() - start < SLOW
    assert not ev.ready()
    # A send after the timed-out wait still works for the next waiter.
    ev.send(3)
    assert ev.wait(0.02) == 3


def test_event_wait_timeout_not_reached(hub: Any) -> None:
    ev: Event[int] = Event()
    spawn(ev.send, 9)
    with Timeout(SLOW):
        assert ev.wait(SLOW) == 9
    sleep(0.02)


def test_event_double_send_is_an_error(hub: Any) -> None:
    ev: Event[int] = Event()
    ev.send(1)
    with pytest.raises(RuntimeError):
        ev.send(2)
    with pytest.raises(RuntimeError):
        ev.send_exception(Boom())
    assert ev.wait() == 1  # the first value stands


def test_event_reset(hub: Any) -> None:
    ev: Event[int] = Event()
    with pytest.raises(RuntimeError):
        ev.reset()  # never sent
    ev.send(1)
    ev.reset()
    assert not ev.ready()
    assert ev.wait(0.01) is None
    spawn(ev.send, 2)
    with Timeout(SLOW):
        assert ev.wait() == 2


def test_event_reset_after_exception(hub: Any) -> None:
    ev: Event[int] = Event()
    ev.send_exception(Boom())
    ev.reset()
    ev.send(4)
    assert ev.wait() == 4


def test_killed_waiter_is_not_woken_by_send(hub: Any) -> None:
    """send() schedules a wake-up for each waiter; one killed before that
    wake-up runs must not be switched into by it later."""
    ev: Event[str] = Event()
    other: Event[str] = Event()
    trace: list[str] = []

    def waiter() -> None:
        try:
            ev.wait()
            trace.append("woken by ev")  # must never happen
        except GreenletExit:
            trace.append("killed")
            # Now wait for something else; a stray switch from ev.send()
            # would make this return early with None.
            trace.append(f"other returned {other.wait()!r}")

    def bystander() -> None:
        trace.append(f"bystander got {ev.wait()!r}")

    w = spawn(waiter)
    b = spawn(bystander)
    sleep(0)
    ev.send("value")  # wake-ups are now scheduled for both waiters
    # Kill the waiter in this same pass, keeping it alive in its handler (as
    # kill() does, arrange for the hub to switch back to us once it parks).
    hub.schedule_call_global(0, greenlet.getcurrent().switch)
    w.throw(GreenletExit())
    assert trace[0] == "killed"
    with Timeout(SLOW):
        b.wait()
    for _ in range(5):
        sleep(0)
    sleep(0.02)
    assert trace == ["killed", "bystander got 'value'"]
    assert not w.dead
    other.send("other's value")
    with Timeout(SLOW):
        w.wait()
    assert trace[-1] == "other returned \"other's value\""


def test_killed_waiter_dies_and_send_still_wakes_others(hub: Any) -> None:
    ev: Event[int] = Event()
    results: list[int] = []

    def waiter() -> None:
        v = ev.wait()
        assert v is not None
        results.append(v)

    doomed = spawn(waiter)
    ok = spawn(waiter)
    sleep(0)
    doomed.kill()
    assert doomed.dead
    ev.send(1)
    with Timeout(SLOW):
        ok.wait()
    assert results == [1]
    with pytest.raises(GreenletExit):
        doomed.wait()


def test_timed_out_waiter_is_not_woken_later(hub: Any) -> None:
    """A waiter that left wait() through a Timeout must not get ev's wake-up,
    even when send() scheduled it before the Timeout fired."""
    ev: Event[str] = Event()
    other: Event[str] = Event()
    trace: list[str] = []

    def waiter() -> None:
        try:
            with Timeout(0.01):
                ev.wait()
        except Timeout:
            trace.append("timed out")
        trace.append(f"other returned {other.wait()!r}")

    w = spawn(waiter)
    sleep(0)
    time.sleep(0.03)  # block the whole thread past the waiter's deadline
    # The wake-up from send() is queued behind the already-due Timeout.
    ev.send("late")
    sleep(0)
    sleep(0.02)
    assert trace == ["timed out"]
    other.send("right one")
    with Timeout(SLOW):
        w.wait()
    assert trace == ["timed out", "other returned 'right one'"]


def test_wait_timeout_and_send_in_same_pass(hub: Any) -> None:
    """Timeout wake-up and send land together: the waiter wakes once, with the value
    or None, and is not switched into a second time afterwards."""
    for _ in range(20):
        ev: Event[int] = Event()
        other: Event[int] = Event()
        trace: list[Any] = []

        def waiter() -> None:
            trace.append(ev.wait(0))
            trace.append(("other", other.wait()))

        w: GreenThread[None] = spawn(waiter)
        spawn(ev.send, 1)
        sleep(0)
        sleep(0)
        sleep(0.005)
        assert len(trace) == 1 and trace[0] in (1, None)
        other.send(2)
        with Timeout(SLOW):
            w.wait()
        assert trace[1] == ("other", 2)
