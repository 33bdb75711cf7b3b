"""eventhub.to_thread: blocking calls in worker threads, on every hub and variant."""

from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Any, Iterator

import pytest
from conftest import RunPython
from test_threads_fork import forked_hub_is_destroyed, run_in_child

import eventhub
from eventhub import Event, GreenletExit, Timeout, hubs, sleep, spawn, threadpool, to_thread

SLOW = 10.0  # seconds a worker waits for the test before giving up (the test then fails)


@pytest.fixture
def pool_size() -> Iterator[None]:
    """Tests that resize the pool put the size back."""
    before = threadpool.max_threads()
    yield
    threadpool.set_max_threads(before)


def checked_wait(event: threading.Event) -> None:
    """In a worker: wait for the test to set ``event``; fail instead of hanging."""
    if not event.wait(SLOW):
        raise AssertionError("the test never released the worker")


def test_returns_the_result_and_the_hub_runs_meanwhile(hub: Any) -> None:
    released = threading.Event()

    def blocking(x: int) -> int:
        checked_wait(released)  # only a greenthread running meanwhile can set it
        return x * 2

    def releaser() -> None:
        sleep(0.01)
        released.set()

    spawn(releaser)
    assert to_thread(blocking, 21) == 42


def test_keyword_arguments_and_a_thread_other_than_the_callers(hub: Any) -> None:
    def where(a: int, *, b: int) -> tuple[int, int]:
        return a + b, threading.get_ident()

    total, ident = to_thread(where, 1, b=2)
    assert total == 3
    assert ident != threading.get_ident()


def test_many_greenthreads_at_once(hub: Any) -> None:
    def square(n: int) -> int:
        return n * n

    workers = [spawn(to_thread, square, n) for n in range(200)]
    assert [w.wait() for w in workers] == [n * n for n in range(200)]


def test_exception_propagates_with_its_traceback(hub: Any) -> None:
    class Boom(Exception):
        pass

    def deep_inside() -> None:
        raise Boom("from the worker")

    def outer() -> None:
        deep_inside()

    with pytest.raises(Boom, match="from the worker") as info:
        to_thread(outer)
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    # The caller's frames, then fn's, as if it had been called directly.
    assert frames[0] == "test_exception_propagates_with_its_traceback"
    assert frames[-2:] == ["outer", "deep_inside"]


def test_base_exceptions_propagate_too(hub: Any) -> None:
    def leave() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info:
        to_thread(leave)
    assert info.value.code == 3


def test_timeout_abandons_the_wait_and_the_result_is_dropped(hub: Any) -> None:
    released = threading.Event()
    finished = threading.Event()

    def slow() -> str:
        checked_wait(released)
        finished.set()
        return "late"

    with pytest.raises(Timeout):
        with Timeout(0.05):
            to_thread(slow)
    # The thread carries on; when it finishes, nothing switches into this
    # greenthread: a wake-up meant for the abandoned call would end this
    # wait early, with None.
    ev: Event[str] = Event()
    hub.schedule_call_global(0.3, ev.send, "on time")
    released.set()
    assert finished.wait(SLOW)
    assert ev.wait() == "on time"


def test_kill_abandons_the_wait(hub: Any) -> None:
    released = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        checked_wait(released)
        finished.set()

    waiter = spawn(to_thread, slow)
    sleep(0.01)
    waiter.kill()
    with pytest.raises(GreenletExit):
        waiter.wait()
    released.set()
    assert finished.wait(SLOW)
    sleep(0.05)  # the dropped hand-back runs, harmlessly


def test_a_call_abandoned_before_it_started_never_runs(hub: Any, pool_size: None) -> None:
    threadpool.set_max_threads(1)
    released = threading.Event()
    ran: list[str] = []

    def occupy() -> str:
        checked_wait(released)
        return "first"

    first = spawn(to_thread, occupy)
    sleep(0.01)
    with pytest.raises(Timeout):
        with Timeout(0.05):
            to_thread(ran.append, "second")  # queued behind `occupy`
    released.set()
    assert first.wait() == "first"
    assert to_thread(ran.append, "third") is None  # behind the abandoned one in the queue
    assert ran == ["third"]


def test_pool_size_bounds_concurrency_and_serves_in_order(hub: Any, pool_size: None) -> None:
    threadpool.set_max_threads(2)
    assert threadpool.max_threads() == 2
    lock = threading.Lock()
    running = 0
    peak = 0
    started: list[int] = []

    def job(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            started.append(n)
        time.sleep(0.02)
        with lock:
            running -= 1
        return n

    calls = [spawn(to_thread, job, n) for n in range(8)]
    assert [c.wait() for c in calls] == list(range(8))
    assert peak == 2
    # Two workers take the queue in turn: nothing starts before an earlier call.
    assert sorted(started[:2]) == [0, 1] and started[2:] == sorted(started[2:])


def test_growing_the_pool_starts_workers_for_queued_calls(hub: Any, pool_size: None) -> None:
    threadpool.set_max_threads(1)
    released = threading.Event()
    first = spawn(to_thread, checked_wait, released)
    second = spawn(to_thread, threading.get_ident)
    sleep(0.05)
    assert not second.dead  # queued behind the busy worker
    threadpool.set_max_threads(2)
    second.wait()  # a second worker took it while the first is still busy
    assert not first.dead
    released.set()
    first.wait()


def test_shrinking_the_pool(hub: Any, pool_size: None) -> None:
    threadpool.set_max_threads(4)
    barrier = threading.Barrier(4, timeout=SLOW)
    together = [spawn(to_thread, barrier.wait) for _ in range(4)]  # four at once, or the barrier breaks
    for t in together:
        t.wait()
    threadpool.set_max_threads(1)
    lock = threading.Lock()
    running = 0
    peak = 0

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1

    calls = [spawn(to_thread, job) for _ in range(6)]
    for c in calls:
        c.wait()
    assert peak == 1


def test_greenthreads_on_several_os_threads_hubs(hub_class: Any) -> None:
    errors: list[BaseException] = []
    results: dict[int, list[int]] = {}

    def thread_main(k: int) -> None:
        try:
            hubs.use_hub(hub_class)
            calls = [spawn(to_thread, lambda n=n: n + k) for n in range(50)]
            results[k] = [c.wait() for c in calls]
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=thread_main, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SLOW)
    assert errors == []
    assert results == {k: [n + k for n in range(50)] for k in range(3)}


def test_bad_input(hub: Any) -> None:
    with pytest.raises(TypeError, match="needs a callable, not int"):
        to_thread(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        threadpool.set_max_threads(0)
    with pytest.raises(TypeError, match="must be an int, not str"):
        threadpool.set_max_threads("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an int, not bool"):
        threadpool.set_max_threads(True)


def test_from_the_hubs_own_greenlet_is_refused(hub: Any) -> None:
    errors: list[BaseException] = []

    def in_a_timer() -> None:
        try:
            to_thread(int)
        except RuntimeError as e:
            errors.append(e)

    hub.schedule_call_global(0, in_a_timer)
    sleep(0.01)
    assert len(errors) == 1 and "hub's own greenlet" in str(errors[0])


def test_size_from_the_environment(run_python: RunPython) -> None:
    code = "from eventhub import threadpool; print(threadpool.max_threads())"
    assert run_python(["-c", code], env={"EVENTHUB_THREADS": "3"}).stdout == "3\n"
    default = run_python(["-c", code], env={"EVENTHUB_THREADS": ""}).stdout
    assert default == f"{threadpool.DEFAULT_MAX_THREADS}\n"
    code = "from eventhub import threadpool; threadpool.set_max_threads(5); print(threadpool.max_threads())"
    assert run_python(["-c", code], env={"EVENTHUB_THREADS": "3"}).stdout == "5\n"
    bad = run_python(["-c", "import eventhub; eventhub.to_thread(int)"], env={"EVENTHUB_THREADS": "many"}, check=False)
    assert bad.returncode == 1
    assert "EVENTHUB_THREADS must be a positive integer, not 'many'" in bad.stderr


def test_exit_is_prompt_and_quiet_with_a_worker_stuck_in_a_call(
    hub_spec: tuple[str, str, Any], run_python: RunPython
) -> None:
    backend, variant, _ = hub_spec
    attr = "CompiledHub" if variant == "compiled" else "PureHub"
    code = f"""
import threading, time
import eventhub
from eventhub import hubs, threadpool
from eventhub.hubs import {backend}
hubs.use_hub({backend}.{attr})
stuck = threading.Event()
with eventhub.Timeout(0.05, False):
    eventhub.to_thread(stuck.wait)  # never set: that worker stays busy
print(eventhub.to_thread(sum, [1, 2, 3]), threadpool._pool._threads)
"""
    env = {"EVENTHUB_NO_EXTENSIONS": "1"} if variant == "pure" else {}
    start = time.monotonic()
    result = run_python(["-c", code], env=env, timeout=30)
    assert result.stdout == "6 2\n"
    assert result.stderr == ""
    assert time.monotonic() - start < 20  # the stuck worker was not waited for


def test_after_exit_shutdown_calls_are_refused(run_python: RunPython) -> None:
    code = """
import atexit

def late():
    try:
        eventhub.to_thread(int)
    except RuntimeError as e:
        print(e)

atexit.register(late)  # registered first, so it runs after the pool's own exit handler
import eventhub
eventhub.to_thread(int)
"""
    result = run_python(["-c", code])
    assert result.stdout == "to_thread(): the thread pool has shut down (interpreter exit)\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_gets_a_fresh_pool_and_the_lost_call_raises(hub: Any) -> None:
    released = threading.Event()
    outcome: list[Any] = []

    def waiting() -> None:
        try:
            outcome.append(to_thread(checked_wait, released))
        except RuntimeError as e:
            outcome.append(e)

    waiter = spawn(waiting)
    sleep(0.02)  # the call is with a worker now

    def child() -> None:
        if forked_hub_is_destroyed(hub):
            return
        # The parent's workers do not exist here; the call waiting on one raises.
        assert [t for t in threading.enumerate() if t.name.startswith("eventhub-worker")] == []
        waiter.wait()
        assert isinstance(outcome[0], RuntimeError) and "forked" in str(outcome[0])
        start = time.monotonic()
        assert to_thread(time.sleep, 0.05) is None  # the hub is blocked in its wait when the worker is done
        assert time.monotonic() - start < 5
        assert len([t for t in threading.enumerate() if t.name.startswith("eventhub-worker")]) == 1

    assert run_in_child(child) == 0
    released.set()
    waiter.wait()
    assert outcome == [None]  # the parent's call finished normally
