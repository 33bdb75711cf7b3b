"""The run loop and MAINLOOP greenlet: laziness, switching, abort, blocking detection."""

from __future__ import annotations

import time
from typing import Any

import greenlet
import pytest
from conftest import run_until_dead

import eventhub
from eventhub import hubs, net


def test_mainloop_is_not_running_until_first_switch(hub: Any) -> None:
    assert not hub.running
    seen: list[bool] = []
    hub.schedule_call_global(0, lambda: seen.append(hub.running))
    assert not hub.running
    eventhub.sleep(0)
    assert seen == [True]
    assert greenlet.getcurrent() is not hub.greenlet


def test_mainloop_parent_is_the_threads_main_greenlet(hub: Any) -> None:
    main = greenlet.getcurrent()
    seen: list[Any] = []
    # First touched from inside another greenlet: still parented to main.
    greenlet.greenlet(lambda: seen.append(hub.greenlet.parent)).switch()
    assert seen == [main]


def test_switch_reparents_current_greenlet_to_hub(hub: Any) -> None:
    main = greenlet.getcurrent()
    g = greenlet.greenlet(hub.switch)
    hub.schedule_call_global(0, main.switch)
    g.switch()  # g parks in the hub; the hub's timer brings us back
    assert g.parent is hub.greenlet
    assert not g.dead


def test_switch_calls_switch_out(hub: Any) -> None:
    calls: list[str] = []

    class Tracked(greenlet.greenlet):
        def switch_out(self) -> None:
            calls.append("out")

    def body() -> None:
        eventhub.sleep(0)

    t = Tracked(body, parent=hub.greenlet)
    hub.schedule_call_global(0, t.switch)
    run_until_dead(t, eventhub.sleep)
    assert calls == ["out"] and t.dead


def test_switch_calls_a_switch_out_set_on_the_instance(hub: Any) -> None:
    calls: list[str] = []

    def body() -> None:
        greenlet.getcurrent().switch_out = lambda: calls.append("out")  # type: ignore[attr-defined]
        eventhub.sleep(0)

    g = greenlet.greenlet(body, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    run_until_dead(g, eventhub.sleep)
    assert calls == ["out"] and g.dead


def test_switch_calls_a_switch_out_added_to_the_class_later(hub: Any) -> None:
    # The compiled hub remembers, per class, that it has no switch_out.
    calls: list[str] = []

    class Late(greenlet.greenlet):
        pass

    def body() -> None:
        eventhub.sleep(0)
        Late.switch_out = lambda self: calls.append("out")  # type: ignore[attr-defined]
        eventhub.sleep(0)

    g = Late(body, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    run_until_dead(g, eventhub.sleep)
    assert calls == ["out"] and g.dead


def test_run_accepts_and_ignores_arguments(hub: Any) -> None:
    hub.schedule_call_global(0, hub.abort)
    hub.run(1, 2, key="ignored")  # returns after abort
    assert not hub.running


def test_run_twice_is_an_error(hub: Any) -> None:
    errors: list[str] = []

    def reenter() -> None:
        try:
            hub.run()
        except RuntimeError as e:
            errors.append(str(e))

    hub.schedule_call_global(0, reenter)
    eventhub.sleep(0.01)
    assert errors == ["Already running!"]


def test_abort_wait_stops_the_loop_and_returns(hub: Any) -> None:
    eventhub.sleep(0)
    assert hub.running
    hub.abort(wait=True)
    assert not hub.running
    assert hub.greenlet.dead
    # After an abort, the next blocking call starts a fresh MAINLOOP.
    eventhub.sleep(0)
    assert hub.running


def test_abort_from_a_greenthread(hub: Any) -> None:
    order: list[str] = []

    def stopper() -> None:
        order.append("stopper")
        hub.abort()

    eventhub.spawn(stopper)
    hub.switch()  # returns to us when the loop ends
    assert order == ["stopper"]
    assert not hub.running


def test_abort_drops_pending_timers(hub: Any) -> None:
    fired: list[int] = []
    hub.schedule_call_global(30, fired.append, 1)
    eventhub.sleep(0)
    hub.abort(wait=True)
    assert hub.get_timers_count() == 0


def test_ensure_greenlet_replaces_a_dead_mainloop(hub: Any) -> None:
    eventhub.sleep(0)
    hub.abort(wait=True)
    dead = hub.greenlet
    assert dead.dead
    hub.ensure_greenlet()
    assert hub.greenlet is not dead and not hub.greenlet.dead
    eventhub.sleep(0)


def test_clock_is_monotonic_seconds(hub: Any) -> None:
    a = hub.clock()
    time.sleep(0.01)
    b = hub.clock()
    assert 0.005 < b - a < 5


def test_introspection_attributes_are_settable(hub: Any) -> None:
    hub.debug_exceptions = False
    hub.custom_attribute = "kept"
    assert hub.custom_attribute == "kept"
    hub.set_debug_listeners(True)
    hub.set_debug_listeners(False)
    assert hub.debug_blocking is False
    assert hub.debug_blocking_resolution > 0


def test_debug_blocking_alarm_interrupts_a_blocking_timer(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    hub.debug_blocking = True
    hub.debug_blocking_resolution = 0.05
    hub.schedule_call_global(0, time.sleep, 0.5)  # blocks the whole hub
    started = time.monotonic()
    eventhub.sleep(0.01)
    hub.debug_blocking = False
    eventhub.sleep(0)
    assert time.monotonic() - started < 0.45  # the alarm cut the sleep short
    assert "Blocking detector ALARMED" in capsys.readouterr().err


def test_wait_with_nothing_registered_sleeps(hub: Any) -> None:
    started = time.monotonic()
    eventhub.sleep(0.05)
    assert time.monotonic() - started >= 0.045


def test_hub_of_each_thread_is_independent(hub: Any) -> None:
    import threading

    seen: list[Any] = []

    def other() -> None:
        seen.append(hubs.get_hub())

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen[0] is not hub


def test_greenthreads_start_on_the_calling_threads_current_hub(hub: Any, hub_class: Any) -> None:
    # The compiled twins cache each thread's hub: neither another thread nor
    # use_hub() may leave them on a hub that is no longer the thread's.
    import threading

    def parent_hub_greenlet() -> Any:
        g = eventhub.spawn(eventhub.sleep, 0)
        g.wait()
        return g.parent

    assert parent_hub_greenlet() is hub.greenlet
    seen: list[tuple[Any, Any]] = []

    def other() -> None:
        hubs.use_hub(hub_class)
        seen.append((hubs.get_hub().greenlet, parent_hub_greenlet()))

    for _ in range(2):  # the second thread must not get the first one's hub
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert [mine for mine, used in seen] == [used for mine, used in seen]
    assert len({id(mine) for mine, used in seen} | {id(hub.greenlet)}) == 3
    assert parent_hub_greenlet() is hub.greenlet
    hubs.use_hub(hub_class)
    assert parent_hub_greenlet() is hubs.get_hub().greenlet is not hub.greenlet


def test_hub_blocks_when_idle_after_busy_io(hub: Any) -> None:
    # The epoll hub looks for ready fds without blocking while they keep
    # coming; once none are, it must block again, not spin.
    a, b = net.socketpair()

    def echo() -> None:
        for _ in range(200):
            b.sendall(b.recv(1))

    server = eventhub.spawn(echo)
    for _ in range(200):
        a.sendall(b"x")
        assert a.recv(1) == b"x"
    server.wait()
    used = time.process_time()
    eventhub.sleep(0.2)
    assert time.process_time() - used < 0.1  # a spinning loop would use ~0.2 s
    a.close()
    b.close()
