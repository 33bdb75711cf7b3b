"""Hubs and OS threads, hub lifetime, and fork: on every backend and variant."""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
from typing import Any

import pytest
from conftest import RunPython

import eventhub
from eventhub import hubs
from eventhub.hubs import HubDestroyed
from eventhub.hubs.timer import Timer


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def use_a_hub(hub_class: Any) -> None:
    """What a short-lived worker thread does: run its own hub for a moment."""
    hubs.use_hub(hub_class)
    a, b = socket.socketpair()
    try:
        b.send(b"x")
        hubs.trampoline(a, read=True)
        eventhub.sleep(0)
    finally:
        a.close()
        b.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_threads_that_end_release_their_hubs(hub_class: Any) -> None:
    for _ in range(3):  # warm-up: lazily imported modules, caches
        t = threading.Thread(target=use_a_hub, args=(hub_class,))
        t.start()
        t.join()
    gc.collect()
    before = open_fds()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            use_a_hub(hub_class)
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    for _ in range(1000):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    gc.collect()
    assert errors == []
    assert open_fds() <= before


def test_destroy_is_idempotent_and_refuses_later_use(hub_class: Any) -> None:
    hub = hub_class()
    hub.schedule_call_global(0, lambda: hub.abort())
    hub.run()  # the loop's first pass creates the waker
    fds = open_fds()
    hub.destroy()
    assert hub.destroyed
    assert open_fds() < fds  # the waker (and epoll) descriptors are gone
    hub.destroy()
    a, b = socket.socketpair()
    try:
        with pytest.raises(HubDestroyed):
            hub.add(hub.READ, a.fileno(), print, print, None)
        with pytest.raises(HubDestroyed):
            hub.call_threadsafe(print)
        with pytest.raises(HubDestroyed):
            hub.run()
    finally:
        a.close()
        b.close()


def test_destroyed_hub_refuses_timers_rather_than_losing_them(hub_class: Any) -> None:
    hubs.use_hub(hub_class)
    try:
        hub = hubs.get_hub()
        hub.destroy()  # still this thread's hub: get_hub() returns it
        for schedule in (hub.schedule_call_global, hub.schedule_call_local):
            with pytest.raises(HubDestroyed, match="destroyed hub"):
                schedule(0, print)
        with pytest.raises(HubDestroyed):
            hub.add_timer(Timer(0, print))
        with pytest.raises(HubDestroyed):
            eventhub.spawn(print)
        with pytest.raises(HubDestroyed):
            eventhub.Timeout(1)
        with pytest.raises(HubDestroyed):
            eventhub.sleep(0)
        assert hub.get_timers_count() == 0
    finally:
        hubs.use_hub(hub_class)


def test_use_hub_destroys_the_old_hub(hub_class: Any) -> None:
    hubs.use_hub(hub_class)
    old: Any = hubs.get_hub()  # destroyed: not in the hub protocol, both variants have it
    eventhub.sleep(0)
    hubs.use_hub(hub_class)
    new: Any = hubs.get_hub()
    assert old.destroyed
    assert not new.destroyed


def test_waker_is_not_a_listener(hub: Any) -> None:
    eventhub.sleep(0)
    assert hub.get_readers() == []
    assert hub.get_writers() == []


def test_call_threadsafe_wakes_a_blocked_wait(hub: Any) -> None:
    results: list[Any] = []
    done: eventhub.Event[Any] = eventhub.Event()

    def worker() -> None:
        time.sleep(0.2)  # the hub is blocked in wait() by now
        hub.call_threadsafe(done.send, threading.get_ident())

    t = threading.Thread(target=worker)
    hub.default_sleep = lambda: 60.0
    start = time.monotonic()
    t.start()
    results.append(done.wait())
    elapsed = time.monotonic() - start
    t.join()
    assert results == [t.ident]
    assert elapsed < 10  # woken by the worker, not by a 60 s poll timeout


def test_call_threadsafe_from_many_threads_runs_each_call_once_in_hub_thread(hub: Any) -> None:
    hub_thread = threading.get_ident()
    seen: list[tuple[int, int]] = []
    all_done: eventhub.Event[Any] = eventhub.Event()
    total = 8 * 50

    def record(worker: int, i: int) -> None:
        assert threading.get_ident() == hub_thread
        seen.append((worker, i))
        if len(seen) == total:
            all_done.send(None)

    def worker(n: int) -> None:
        for i in range(50):
            hub.call_threadsafe(record, n, i)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    all_done.wait(timeout=30)
    for t in threads:
        t.join()
    assert len(seen) == total
    for n in range(8):  # each thread's calls ran in the order it made them
        assert [i for w, i in seen if w == n] == list(range(50))


def test_call_threadsafe_before_the_loop_runs(hub: Any) -> None:
    got: list[int] = []
    hub.call_threadsafe(got.append, 1)
    eventhub.sleep(0)
    assert got == [1]


def test_call_threadsafe_refuses_non_callables(hub: Any) -> None:
    with pytest.raises(TypeError):
        hub.call_threadsafe(42)


def test_call_threadsafe_error_is_printed_and_loop_goes_on(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    got: list[int] = []

    def boom() -> None:
        raise ZeroDivisionError("from a handed-over call")

    hub.call_threadsafe(boom)
    hub.call_threadsafe(got.append, 2)
    eventhub.sleep(0)
    eventhub.sleep(0)
    assert got == [2]
    assert "from a handed-over call" in capsys.readouterr().err


# -- fork ------------------------------------------------------------------


def forked_hub_is_destroyed(hub: Any) -> bool:
    """The asyncio hub on uvloop: libuv's running loop cannot get kernel state of
    its own in a child, so the child's hub is destroyed and leaves the loop alone."""
    return "uvloop" in type(getattr(hub, "loop", None)).__module__


def run_in_child(body: Any) -> int:
    """Fork; the child runs ``body()`` and exits 0 on success, 1 on failure."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            body()
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_hub_carries_on_and_parent_is_unaffected(hub: Any) -> None:
    a, b = socket.socketpair()
    a.setblocking(False)
    got: list[bytes] = []
    timer_fired: list[bool] = []

    def reader() -> None:  # waiting on `a` across the fork, in both processes
        hubs.trampoline(a, read=True)
        got.append(a.recv(100))

    gt = eventhub.spawn(reader)
    hub.schedule_call_global(0.2, timer_fired.append, True)
    eventhub.sleep(0.01)  # the reader is registered with the kernel now
    parent_poller_fds = open_fds()

    def child() -> None:
        assert hubs.get_hub() is hub
        child_r, child_w = socket.socketpair()
        if forked_hub_is_destroyed(hub):
            with pytest.raises(hubs.HubDestroyed):
                hubs.trampoline(child_r, read=True)
            return
        # The child has its own poller and a live listener and timer.
        child_w.send(b"c")
        hubs.trampoline(child_r, read=True)
        assert child_r.recv(10) == b"c"
        # Only the child hears this one: the parent's reader must stay asleep.
        b.send(b"for-child")
        gt.wait()
        assert got == [b"for-child"]
        eventhub.sleep(0.3)
        assert timer_fired == [True]
        # Cross-thread calls work in the child too.
        done: eventhub.Event[Any] = eventhub.Event()
        threading.Thread(target=hub.call_threadsafe, args=(done.send, 7)).start()
        assert done.wait(timeout=10) == 7

    try:
        assert run_in_child(child) == 0
        # The child consumed the data it sent: the parent's reader still waits,
        # and a parent-side send wakes it.
        assert got == [] and not gt.dead
        assert open_fds() == parent_poller_fds
        b.send(b"for-parent")
        gt.wait()
        assert got == [b"for-parent"]
        eventhub.sleep(0.3)
        assert timer_fired == [True]
    finally:
        a.close()
        b.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_hub_is_woken_by_its_threads_mid_pass(hub: Any) -> None:
    """Forked from a greenthread the hub's pass resumed, the child's loop finishes
    that pass and blocks: a later call from a thread of the child must wake it."""
    eventhub.sleep(0.01)  # the loop has run (it has a waker); we are resumed from its pass

    def child() -> None:
        if forked_hub_is_destroyed(hub):
            return
        done: eventhub.Event[Any] = eventhub.Event()

        def later() -> None:
            time.sleep(0.05)  # the loop is blocked in its wait by then
            hub.call_threadsafe(done.send, 7)

        threading.Thread(target=later).start()
        start = time.monotonic()
        assert done.wait() == 7
        assert time.monotonic() - start < 5  # not at the end of the loop's idle wait (60 s)

    assert run_in_child(child) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_unregistering_leaves_parent_registered(hub: Any) -> None:
    """eventlet's classic: the child removes a listener from the shared epoll set."""
    a, b = socket.socketpair()
    got: list[bytes] = []

    def reader() -> None:
        hubs.trampoline(a, read=True)
        got.append(a.recv(100))

    gt = eventhub.spawn(reader)
    eventhub.sleep(0.01)

    def child() -> None:
        if forked_hub_is_destroyed(hubs.get_hub()):
            with pytest.raises(hubs.HubDestroyed):
                gt.kill()
            return
        gt.kill()  # removes the listener in the child only
        hubs.get_hub().notify_close(a.fileno())
        a.close()
        eventhub.sleep(0.01)

    try:
        assert run_in_child(child) == 0
        b.send(b"still-here")
        gt.wait()
        assert got == [b"still-here"]
    finally:
        a.close()
        b.close()


def test_a_hub_left_with_a_waiting_greenlet_exits_quietly(hub_spec: tuple[str, str, Any], run_python: RunPython) -> None:
    """At interpreter exit the hub goes with module globals already torn down."""
    backend, variant, _ = hub_spec
    attr = "CompiledHub" if variant == "compiled" else "PureHub"
    code = f"""
import socket
import greenlet
import eventhub
from eventhub import hubs
from eventhub.hubs import {backend}
hubs.use_hub({backend}.{attr})
hub = hubs.get_hub()
a, b = socket.socketpair()
waiting = greenlet.greenlet(lambda: hubs.trampoline(a, read=True), parent=hub.greenlet)
hub.schedule_call_global(0, waiting.switch)
eventhub.sleep(0.001)
print("left waiting" if not waiting.dead else "gone")
"""
    env = {"EVENTHUB_NO_EXTENSIONS": "1"} if variant == "pure" else {}
    result = run_python(["-c", code], env=env)
    assert result.stdout == "left waiting\n"
    assert result.stderr == ""
