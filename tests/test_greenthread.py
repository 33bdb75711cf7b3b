"""Greenthreads on every hub: spawn, wait, kill, link, sleep.

Each test takes the ``hub`` fixture, so it runs once per (backend x
variant); the compiled hubs must pass it unchanged.
"""

from __future__ import annotations

import gc
import sys
import time
import types
import weakref
from typing import Any

import greenlet
import pytest

import eventhub
import eventhub.asyncio
from eventhub import GreenletExit, GreenThread, Timeout, sleep, spawn, spawn_after
from eventhub.hubs import trampoline

# Generous bound for anything that should be "quick" on 2 noisy shared cores.
SLOW = 5.0

# Every test once with greenthread.py's compiled twins (when built) and once with the reference.
pytestmark = pytest.mark.usefixtures("greenthread_variant")


def test_the_variant_under_test_is_in_use(greenthread_variant: str, hub: Any) -> None:
    compiled = greenthread_variant == "compiled"
    gt_module = eventhub.greenthread
    assert (spawn is gt_module.pure_spawn) is not compiled
    assert (GreenThread.run is gt_module.pure_run) is not compiled
    for method in ("wait", "link", "_finish", "__await__"):
        assert (getattr(GreenThread, method) is getattr(gt_module, f"pure_{method.strip('_')}")) is not compiled
    assert (gt_module._future_on is gt_module.pure_future_on) is not compiled
    gt = spawn(int, "7")
    assert type(gt) is GreenThread and gt.wait() == 7


class Boom(Exception):
    """A test-only error, so nothing else can raise it by accident."""


def test_spawn_wait_returns_result(hub: Any) -> None:
    def add(a: int, b: int, *, c: int) -> int:
        return a + b + c

    gt = spawn(add, 1, 2, c=3)
    assert isinstance(gt, GreenThread)
    with Timeout(SLOW):
        assert gt.wait() == 6
    assert gt.dead
    # wait() on a finished greenthread returns the same value again.
    assert gt.wait() == 6


def test_run_takes_any_sequence_and_mapping(hub: Any) -> None:
    # spawn() hands run() a tuple and a dict (called without copies); a
    # greenthread started by hand may pass any sequence and mapping.
    def add(a: int, b: int, *, c: int) -> int:
        return a + b + c

    gt: GreenThread[int] = GreenThread(hub.greenlet)
    hub.schedule_call_global(0, gt.switch, add, [1, 2], types.MappingProxyType({"c": 3}))
    with Timeout(SLOW):
        assert gt.wait() == 6


def test_spawn_does_not_run_until_the_spawner_yields(hub: Any) -> None:
    ran: list[str] = []
    gt = spawn(ran.append, "child")
    assert ran == []
    assert not gt.dead
    sleep(0)
    assert ran == ["child"]
    assert gt.dead


def test_spawn_rejects_non_callable(hub: Any) -> None:
    with pytest.raises(TypeError):
        spawn(42)  # type: ignore[arg-type]


def test_wait_reraises_the_functions_exception(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    err = Boom("from the greenthread")

    def fail() -> None:
        raise err

    gt = spawn(fail)
    with Timeout(SLOW):
        with pytest.raises(Boom) as info:
            gt.wait()
    assert info.value is err
    # A second wait() raises it again; a finished greenthread keeps its outcome.
    with pytest.raises(Boom):
        gt.wait()
    assert gt.dead
    assert "from the greenthread" in capsys.readouterr().err


def test_several_waiters_get_the_same_result(hub: Any) -> None:
    def slow_done() -> str:
        sleep(0.02)
        return "done"

    gt = spawn(slow_done)
    results: list[str] = []

    def waiter() -> None:
        results.append(gt.wait())

    waiters = [spawn(waiter) for _ in range(3)]
    with Timeout(SLOW):
        assert gt.wait() == "done"
        for w in waiters:
            w.wait()
    assert results == ["done"] * 3


def test_spawn_after_runs_after_plain_spawn(hub: Any) -> None:
    order: list[str] = []
    start = time.monotonic()

    def late_fn() -> float:
        order.append("late")
        return time.monotonic()

    late = spawn_after(0.05, late_fn)
    spawn(order.append, "early")
    with Timeout(SLOW):
        ran_at = late.wait()
    assert order == ["early", "late"]
    assert ran_at - start >= 0.04  # a lower bound is safe on a busy machine
    assert ran_at - start < SLOW


def test_spawn_after_orders_by_delay(hub: Any) -> None:
    order: list[float] = []
    gts = [spawn_after(d, order.append, d) for d in (0.06, 0.0, 0.03)]
    with Timeout(SLOW):
        for gt in gts:
            gt.wait()
    assert order == [0.0, 0.03, 0.06]


def test_kill_before_start_never_runs(hub: Any) -> None:
    ran: list[bool] = []
    gt = spawn(ran.append, True)
    gt.kill()
    assert gt.dead
    with pytest.raises(GreenletExit):
        gt.wait()
    sleep(0.02)
    sleep(0)
    assert ran == []


def test_kill_before_start_of_spawn_after(hub: Any) -> None:
    ran: list[bool] = []
    gt = spawn_after(0.01, ran.append, True)
    gt.kill(Boom("never started"))
    with pytest.raises(Boom):
        gt.wait()
    sleep(0.05)
    assert ran == []


def test_kill_while_sleeping_runs_finally(hub: Any) -> None:
    events: list[str] = []

    def sleeper() -> None:
        try:
            events.append("sleeping")
            sleep(60)
            events.append("woke up")  # must never happen
        finally:
            events.append("finally")

    gt = spawn(sleeper)
    sleep(0)
    assert events == ["sleeping"]
    start = time.monotonic()
    gt.kill()
    assert events == ["sleeping", "finally"]
    assert gt.dead
    with pytest.raises(GreenletExit):
        gt.wait()
    assert time.monotonic() - start < SLOW
    # Killing a dead greenthread is a no-op.
    gt.kill()
    gt.kill(Boom)


def test_kill_with_custom_exception_class_and_instance(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[BaseException] = []

    def sleeper() -> None:
        try:
            sleep(60)
        except BaseException as e:
            seen.append(e)
            raise

    by_class = spawn(sleeper)
    by_instance = spawn(sleeper)
    sleep(0)
    by_class.kill(Boom)
    err = Boom("an instance")
    by_instance.kill(err)
    with Timeout(SLOW):
        with pytest.raises(Boom):
            by_class.wait()
        with pytest.raises(Boom) as info:
            by_instance.wait()
    assert info.value is err
    assert len(seen) == 2 and isinstance(seen[0], Boom) and seen[1] is err
    assert by_class.dead and by_instance.dead
    capsys.readouterr()


def test_kill_returns_to_the_killer_and_hub_goes_on(hub: Any) -> None:
    """After kill() the killer continues and other greenthreads still run."""
    other: list[int] = []

    def ticker() -> None:
        for i in range(3):
            other.append(i)
            sleep(0.01)

    victim = spawn(sleep, 60)
    t = spawn(ticker)
    sleep(0)
    victim.kill()
    with Timeout(SLOW):
        t.wait()
    assert other == [0, 1, 2]


def test_a_greenthread_can_kill_another(hub: Any) -> None:
    events: list[str] = []

    def victim() -> None:
        try:
            sleep(60)
        finally:
            events.append("victim finally")

    v = spawn(victim)

    def killer() -> None:
        sleep(0.01)
        v.kill()
        events.append("killer continues")

    k = spawn(killer)
    with Timeout(SLOW):
        k.wait()
        with pytest.raises(GreenletExit):
            v.wait()
    assert events == ["victim finally", "killer continues"]


def test_link_called_on_exit_with_curried_args(hub: Any) -> None:
    calls: list[tuple[Any, ...]] = []

    def linked(gt: GreenThread[Any], *args: Any, **kwargs: Any) -> None:
        calls.append((gt, args, kwargs))

    gt = spawn(lambda: 7)
    gt.link(linked, "a", 1, key="v")
    assert calls == []
    with Timeout(SLOW):
        gt.wait()
    assert calls == [(gt, ("a", 1), {"key": "v"})]


def test_link_on_dead_greenthread_called_immediately(hub: Any) -> None:
    gt = spawn(lambda: 1)
    gt.wait()
    calls: list[tuple[Any, ...]] = []
    gt.link(lambda g, x: calls.append((g, x)), "now")
    assert calls == [(gt, "now")]


def test_link_called_when_killed_and_when_failing(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    def fail() -> None:
        raise Boom("link me")

    killed = spawn(sleep, 60)
    failed = spawn(fail)
    unstarted = spawn(sleep, 60)
    killed.link(lambda g: calls.append("killed"))
    failed.link(lambda g: calls.append("failed"))
    unstarted.link(lambda g: calls.append("unstarted"))
    unstarted.kill()
    sleep(0)
    killed.kill()
    with Timeout(SLOW):
        with pytest.raises(Boom):
            failed.wait()
    assert sorted(calls) == ["failed", "killed", "unstarted"]
    capsys.readouterr()


def test_links_run_in_order_and_a_failing_link_does_not_stop_others(
    hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[int] = []

    def bad(gt: GreenThread[Any]) -> None:
        raise Boom("bad link")

    gt = spawn(lambda: None)
    gt.link(lambda g: calls.append(1))
    gt.link(bad)
    gt.link(lambda g: calls.append(3))
    with Timeout(SLOW):
        gt.wait()
    sleep(0)
    assert calls == [1, 3]
    assert "bad link" in capsys.readouterr().err


def test_unlink(hub: Any) -> None:
    calls: list[str] = []

    def linked(gt: GreenThread[Any], tag: str) -> None:
        calls.append(tag)

    gt = spawn(lambda: None)
    gt.link(linked, "kept")
    gt.link(linked, "removed")
    assert gt.unlink(linked, "removed") is True
    assert gt.unlink(linked, "removed") is False  # only once
    assert gt.unlink(linked, "never linked") is False
    with Timeout(SLOW):
        gt.wait()
    assert calls == ["kept"]


def test_dead_property(hub: Any) -> None:
    gate = eventhub.Event[None]()
    gt = spawn(gate.wait)
    assert not gt.dead  # not started yet
    sleep(0)
    assert not gt.dead  # started and parked
    gate.send(None)
    with Timeout(SLOW):
        gt.wait()
    assert gt.dead


def test_sleep_zero_round_robin(hub: Any) -> None:
    order: list[str] = []

    def worker(name: str) -> None:
        for i in range(3):
            order.append(f"{name}{i}")
            sleep(0)

    gts = [spawn(worker, n) for n in "abc"]
    with Timeout(SLOW):
        for gt in gts:
            gt.wait()
    assert order == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]


def test_sleep_zero_from_main_lets_others_run(hub: Any) -> None:
    order: list[str] = []
    spawn(order.append, "child")
    order.append("main before")
    sleep(0)
    order.append("main after")
    assert order == ["main before", "child", "main after"]


def test_sleep_duration_lower_bound(hub: Any) -> None:
    start = time.monotonic()
    sleep(0.05)
    elapsed = time.monotonic() - start
    assert 0.04 <= elapsed < SLOW


def test_sleep_runs_others_meanwhile(hub: Any) -> None:
    ticks: list[int] = []

    def ticker() -> None:
        for i in range(5):
            ticks.append(i)
            sleep(0)

    spawn(ticker)
    sleep(0.05)
    assert ticks == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("blocking", ["sleep", "sleep0", "trampoline", "event_wait", "gt_wait"])
def test_blocking_from_hub_greenlet_raises_runtime_error(
    hub: Any, blocking: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blocking call inside a hub callback is refused clearly; the loop goes on."""
    import socket

    a, b = socket.socketpair()
    errors: list[BaseException] = []
    in_hub: list[bool] = []
    target = spawn(sleep, 0.01)

    def callback() -> None:
        in_hub.append(greenlet.getcurrent() is hub.greenlet)
        try:
            if blocking == "sleep":
                sleep(1)
            elif blocking == "sleep0":
                sleep(0)
            elif blocking == "trampoline":
                trampoline(a, read=True)
            elif blocking == "event_wait":
                eventhub.Event[None]().wait()
            else:
                target.wait()
        except RuntimeError as e:
            errors.append(e)

    try:
        hub.schedule_call_global(0, callback)
        later: list[str] = []
        spawn_after(0.01, later.append, "loop still runs")
        with Timeout(SLOW):
            sleep(0.03)
            target.wait()
        assert in_hub == [True]
        assert len(errors) == 1, errors
        assert "hub" in str(errors[0]).lower()
        assert later == ["loop still runs"]
        # The refused trampoline left no listener behind.
        assert hub.get_readers() == []
    finally:
        a.close()
        b.close()
    capsys.readouterr()


def test_uncaught_exception_is_printed_and_others_continue(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    progress: list[int] = []

    def fail() -> None:
        sleep(0)
        raise Boom("printed, not swallowed")

    def steady() -> None:
        for i in range(4):
            progress.append(i)
            sleep(0)

    bad = spawn(fail)
    good = spawn(steady)
    with Timeout(SLOW):
        good.wait()
        with pytest.raises(Boom):
            bad.wait()
    assert progress == [0, 1, 2, 3]
    err = capsys.readouterr().err
    assert "Boom" in err and "printed, not swallowed" in err
    # The main greenlet was not hit by it either: we are still here and can sleep.
    sleep(0)


def test_greenletexit_is_not_printed(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    gt = spawn(sleep, 60)
    sleep(0)
    gt.kill()
    sleep(0)
    assert "GreenletExit" not in capsys.readouterr().err


def test_many_greenthreads(hub: Any) -> None:
    def work(i: int) -> int:
        sleep(0)
        sleep(0.001 * (i % 5))
        return i * i

    gts = [spawn(work, i) for i in range(500)]
    with Timeout(SLOW * 2):
        assert [gt.wait() for gt in gts] == [i * i for i in range(500)]


def test_kill_from_a_hub_callback(hub: Any) -> None:
    """kill() made by a timer callback (in the hub's greenlet) ends the target."""
    events: list[str] = []

    def victim() -> None:
        try:
            sleep(60)
        finally:
            events.append("finally")

    gt = spawn(victim)
    sleep(0)
    hub.schedule_call_global(0, gt.kill)
    with Timeout(SLOW):
        with pytest.raises(GreenletExit):
            gt.wait()
    assert events == ["finally"]
    sleep(0)  # the loop is intact


def test_greenthread_can_spawn_and_wait_on_children(hub: Any) -> None:
    def child(i: int) -> int:
        sleep(0.001 * i)
        return i

    def parent() -> int:
        kids = [spawn(child, i) for i in range(5)]
        return sum(k.wait() for k in kids)

    with Timeout(SLOW):
        assert spawn(parent).wait() == 10


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_system_exit_in_greenthread_reaches_main(hub: Any, exc_type: type[BaseException]) -> None:
    def fail() -> None:
        raise exc_type()

    gt = spawn(fail)
    with pytest.raises(exc_type):
        sleep(SLOW)
    assert gt.dead
    with pytest.raises(exc_type):
        gt.wait()  # its outcome is recorded too
    # The hub's loop starts again on the next blocking call.
    ran: list[bool] = []
    spawn(ran.append, True)
    sleep(0)
    assert ran == [True]


def test_greenthreads_in_reference_cycles_are_collected(hub: Any) -> None:
    # The function refers to its own greenthread (a cycle through the start
    # timer's arguments): killed before starting, finished, or never waited
    # for, each must be freed once dropped.
    refs: list[weakref.ref[Any]] = []
    for kill in (True, False):
        box: list[Any] = []
        gt = spawn(lambda: box)
        box.append(gt)
        if kill:
            gt.kill()
        else:
            gt.wait()
        refs.append(weakref.ref(gt))
        del gt, box
    sleep(0)
    gc.collect()
    assert [r() for r in refs] == [None, None]
