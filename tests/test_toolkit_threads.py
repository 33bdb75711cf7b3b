"""The toolkit from other OS threads: Queue.put/put_nowait, Event.send and
Semaphore.release from a plain thread wake the greenthread waiting on its own
hub; a plain thread may block in the toolkit too (on a hub of its own).

Real threads, on every hub and both toolkit variants.  A lost wake-up would
leave a waiter hanging: every wait here is bounded by a Timeout, and every
test checks stderr for errors the hubs printed (a greenlet switched to from
the wrong thread, for one).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable, Iterator

import pytest

import eventhub
from eventhub import Timeout, hubs, sleep, spawn

SLOW = 20


@pytest.fixture
def no_hub_errors(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Fails the test if any hub printed an error (say, "cannot switch to a different thread")."""
    yield
    err = capsys.readouterr().err
    assert "Traceback" not in err and "different thread" not in err, err


def in_thread(fn: Callable[[], Any], hub_class: Any = None) -> tuple[threading.Thread, list[Any]]:
    """Start ``fn`` in a plain thread (on a hub of ``hub_class`` if given); its result or exception lands in the list."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            if hub_class is not None:
                hubs.use_hub(hub_class)
            outcome.append(fn())
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def ticking() -> tuple[list[int], Any]:
    """A greenthread counting hub passes: proof that the hub ran while someone waited."""
    ticks = [0]

    def tick() -> None:
        while True:
            sleep(0.001)
            ticks[0] += 1

    return ticks, spawn(tick)


def test_put_from_a_plain_thread_wakes_a_waiting_greenthread(hub: Any, toolkit_variant: str, no_hub_errors: None) -> None:
    q: eventhub.Queue[int] = eventhub.Queue()
    ticks, ticker = ticking()

    def producer() -> None:
        for i in range(50):
            time.sleep(random.random() / 1000)
            (q.put if i % 2 else q.put_nowait)(i)

    thread, outcome = in_thread(producer)
    with Timeout(SLOW):
        got = [q.get() for _ in range(50)]
    thread.join(SLOW)
    ticker.kill()
    assert got == list(range(50)) and outcome == [None]
    assert ticks[0] > 0


@pytest.mark.parametrize("call", ["put", "put_nowait", "send", "release"])
def test_a_thread_wakes_a_hub_asleep_in_the_kernel(hub: Any, toolkit_variant: str, call: str, no_hub_errors: None) -> None:
    """Nothing else to do: the hub sleeps in its poller until the thread's call wakes it."""
    q: eventhub.Queue[int] = eventhub.Queue()
    ev: eventhub.Event[int] = eventhub.Event()
    sem = eventhub.Semaphore(0)
    calls: dict[str, tuple[Callable[[], Any], Callable[[], None]]] = {
        "put": (q.get, lambda: q.put(1)),
        "put_nowait": (q.get, lambda: q.put_nowait(1)),
        "send": (ev.wait, lambda: ev.send(1)),
        "release": (sem.acquire, sem.release),
    }
    wait, wake = calls[call]
    hub.default_sleep = lambda: 60.0

    def later() -> None:
        time.sleep(0.05)
        wake()

    thread, _ = in_thread(later)
    start = time.monotonic()
    with Timeout(SLOW):
        assert wait() in (1, True)
    assert time.monotonic() - start < SLOW / 2  # woken by the thread, not by the Timeout's timer
    thread.join(SLOW)


@pytest.mark.parametrize("maxsize", [0, 1])
def test_no_wake_up_is_lost_to_a_racing_thread(hub: Any, toolkit_variant: str, maxsize: int, no_hub_errors: None) -> None:
    """A greenthread deciding to park while a thread puts, thousands of times: every item arrives."""
    q: eventhub.Queue[int] = eventhub.Queue(maxsize)
    n = 3000

    def producer() -> None:
        for i in range(n):
            q.put(i)  # on a full queue of one, the thread parks on a hub of its own

    thread, outcome = in_thread(producer)
    with Timeout(SLOW):
        got = [q.get() for _ in range(n)]
    thread.join(SLOW)
    assert got == list(range(n)) and outcome == [None]


def test_semaphore_release_from_a_plain_thread(hub: Any, toolkit_variant: str, no_hub_errors: None) -> None:
    sem = eventhub.Semaphore(0)
    n = 2000
    ticks, ticker = ticking()

    def releaser() -> None:
        for i in range(n):
            if i % 500 == 0:
                time.sleep(0.002)
            sem.release()

    thread, outcome = in_thread(releaser)
    with Timeout(SLOW):
        for _ in range(n):
            assert sem.acquire()
    thread.join(SLOW)
    ticker.kill()
    assert outcome == [None] and sem.locked()
    assert ticks[0] > 0


def test_event_send_from_a_plain_thread(hub: Any, no_hub_errors: None) -> None:
    for _ in range(50):
        ev: eventhub.Event[int] = eventhub.Event()
        waiters = [spawn(ev.wait) for _ in range(3)]
        sleep(0)
        thread, _ = in_thread(lambda: ev.send(threading.get_ident()))
        with Timeout(SLOW):
            results = {w.wait() for w in waiters}
        thread.join(SLOW)
        assert results == {thread.ident}
    ev2: eventhub.Event[int] = eventhub.Event()

    def fail_later() -> None:
        time.sleep(0.01)
        ev2.send_exception(KeyError("from a thread"))

    in_thread(fail_later)
    with Timeout(SLOW), pytest.raises(KeyError, match="from a thread"):
        ev2.wait()


def test_no_event_is_lost_to_a_racing_thread(hub: Any, no_hub_errors: None) -> None:
    """wait() deciding to park while a thread sends, hundreds of times: each wait returns."""

    def send_soon(ev: eventhub.Event[int], i: int) -> None:
        time.sleep(random.random() / 2000)  # before, while or after wait() decides to park
        ev.send(i)

    for i in range(300):
        ev: eventhub.Event[int] = eventhub.Event()
        thread = threading.Thread(target=send_soon, args=(ev, i))
        thread.start()
        with Timeout(SLOW):
            assert ev.wait() == i
        thread.join(SLOW)


def test_a_plain_thread_waits_on_a_hub_of_its_own(hub: Any, hub_class: Any, toolkit_variant: str, no_hub_errors: None) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    sem = eventhub.Semaphore(0)
    ev: eventhub.Event[str] = eventhub.Event()

    def consumer() -> list[Any]:
        return [q.get(timeout=SLOW), sem.acquire(timeout=SLOW), ev.wait(SLOW)]

    thread, outcome = in_thread(consumer, hub_class)
    steps: list[Callable[[], None]] = [lambda: q.put("item"), sem.release, lambda: ev.send("sent")]
    for step in steps:
        sleep(0.01)
        step()
    thread.join(SLOW)
    assert outcome == [["item", True, "sent"]]


def test_waiters_on_two_hubs_are_served_in_order(hub: Any, hub_class: Any, toolkit_variant: str, no_hub_errors: None) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    ready = [threading.Event(), threading.Event()]

    def getter(i: int) -> str:
        g = spawn(q.get, timeout=SLOW)
        sleep(0)  # g waits in line now
        ready[i].set()
        return g.wait()

    first, out1 = in_thread(lambda: getter(0), hub_class)
    assert ready[0].wait(SLOW)
    second, out2 = in_thread(lambda: getter(1), hub_class)
    assert ready[1].wait(SLOW)
    q.put("a")
    q.put("b")
    first.join(SLOW)
    second.join(SLOW)
    assert (out1, out2) == (["a"], ["b"])


def test_plain_threads_share_a_semaphore(hub_class: Any, toolkit_variant: str, no_hub_errors: None) -> None:
    sem = eventhub.Semaphore(2)
    lock = threading.Lock()
    inside = [0, 0]  # now, most

    def worker() -> None:
        for _ in range(20):
            with sem:
                with lock:
                    inside[0] += 1
                    inside[1] = max(inside)
                time.sleep(0.0005)
                with lock:
                    inside[0] -= 1

    threads = [in_thread(worker, hub_class) for _ in range(5)]
    for thread, outcome in threads:
        thread.join(SLOW)
        assert outcome == [None]
    assert inside[0] == 0 and 1 <= inside[1] <= 2  # never more than its permits


def test_a_lock_held_by_a_greenthread_refuses_another_threads_release(hub: Any, toolkit_variant: str) -> None:
    lock = eventhub.Lock()
    lock.acquire()
    thread, outcome = in_thread(lock.release)
    thread.join(SLOW)
    assert isinstance(outcome[0], RuntimeError) and lock.locked()
    lock.release()


def test_condition_notified_from_a_plain_thread(hub: Any, hub_class: Any, toolkit_variant: str, no_hub_errors: None) -> None:
    cond = eventhub.Condition()
    state: list[str] = []

    def notifier() -> None:
        time.sleep(0.01)
        with cond:  # waits on this thread's own hub until the greenthread's wait() releases it
            state.append("set")
            cond.notify()

    with cond:
        thread, outcome = in_thread(notifier, hub_class)
        with Timeout(SLOW):
            assert cond.wait_for(lambda: state == ["set"], timeout=SLOW)
    thread.join(SLOW)
    assert outcome == [None]


def test_an_item_is_not_lost_to_a_waiter_whose_hub_is_gone(hub: Any, hub_class: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    parked = threading.Event()

    def abandon() -> None:
        spawn(q.get)
        sleep(0)  # the greenthread waits in line...
        hubs.get_hub().destroy()  # ...on a hub that will never run again
        parked.set()

    thread, outcome = in_thread(abandon, hub_class)
    assert parked.wait(SLOW)
    thread.join(SLOW)
    q.put("item")
    assert q.get_nowait() == "item"
    assert outcome == [None]


def test_a_thread_that_cannot_make_its_hub_leaves_the_queue_usable(hub_class: Any, toolkit_variant: str) -> None:
    """The hub a blocking get() needs fails to start (out of fds, say): the error
    reaches the caller, and the queue's lock is not left held."""

    class Unstartable(hub_class):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("no hub here")

    q: eventhub.Queue[str] = eventhub.Queue()
    sem = eventhub.Semaphore(0)
    thread, outcome = in_thread(q.get, Unstartable)
    thread.join(SLOW)
    assert isinstance(outcome[0], OSError)
    thread, outcome = in_thread(sem.acquire, Unstartable)
    thread.join(SLOW)
    assert isinstance(outcome[0], OSError)
    q.put_nowait("still works")  # would hang on a lock left held
    sem.release()
    assert q.get_nowait() == "still works" and sem.acquire(blocking=False)
