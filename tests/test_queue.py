"""eventhub.Queue, LifoQueue and PriorityQueue: the stdlib queue API for greenthreads.

On every hub, with the compiled and the pure classes (``toolkit_variant``).
Fairness is in test_toolkit_fairness.py, other threads in test_toolkit_threads.py.
"""

from __future__ import annotations

import queue
import time
from typing import Any

import greenlet
import pytest

import eventhub
from eventhub import GreenletExit, Timeout, hubs, sleep, spawn

SLOW = 10  # seconds: a bound for waits that should take none of it


def test_fifo_lifo_and_priority_order(hub: Any, toolkit_variant: str) -> None:
    items = [3, 1, 4, 1, 5, 9, 2, 6]
    for cls, expected in (
        (eventhub.Queue, items),
        (eventhub.LifoQueue, items[::-1]),
        (eventhub.PriorityQueue, sorted(items)),
    ):
        q = cls()
        for item in items:
            q.put(item)
        assert q.qsize() == len(items) and not q.empty()
        assert [q.get() for _ in items] == expected
        assert q.empty()


def test_the_stdlib_exceptions_and_bounds(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue(2)
    assert q.maxsize == 2 and not q.full()
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(block=False)
    q.put("a")
    q.put_nowait("b")
    assert q.full() and q.qsize() == 2
    with pytest.raises(queue.Full):
        q.put_nowait("c")
    with pytest.raises(queue.Full):
        q.put("c", block=False)
    with pytest.raises(queue.Full):
        q.put("c", timeout=0)
    assert [q.get_nowait(), q.get(timeout=0)] == ["a", "b"]
    assert eventhub.queue.Empty is queue.Empty and eventhub.queue.Full is queue.Full


def test_unbounded_queues(hub: Any, toolkit_variant: str) -> None:
    for maxsize in (0, -1):
        q: eventhub.Queue[int] = eventhub.Queue(maxsize)
        for i in range(1000):
            q.put_nowait(i)
        assert not q.full() and q.qsize() == 1000 and q.maxsize == maxsize


def test_get_and_put_time_out(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[int] = eventhub.Queue(1)
    ticks: list[int] = []

    def tick() -> None:  # starts only once this greenthread waits
        for i in range(3):
            ticks.append(i)
            sleep(0.005)

    ticker = spawn(tick)
    start = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    assert time.monotonic() - start >= 0.04
    assert ticks  # the hub ran other greenthreads meanwhile
    ticker.wait()
    q.put(1)
    start = time.monotonic()
    with pytest.raises(queue.Full):
        q.put(2, timeout=0.05)
    assert time.monotonic() - start >= 0.04
    assert q.get() == 1 and q.empty()  # the timed-out put left nothing behind


def test_a_timed_out_getter_leaves_the_line(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    got: list[str] = []

    def patient() -> None:
        got.append(q.get())

    impatient = spawn(q.get, timeout=0.01)
    waiter = spawn(patient)
    with pytest.raises(queue.Empty):
        impatient.wait()
    q.put("item")  # to the greenthread still waiting, not the one that left
    with Timeout(SLOW):
        waiter.wait()
    assert got == ["item"] and q.empty()


def test_a_killed_getter_passes_its_item_on(hub: Any, toolkit_variant: str) -> None:
    """An item handed to a getter that is killed before it runs goes to the next getter."""
    q: eventhub.Queue[str] = eventhub.Queue()
    got: list[str] = []

    def getter(name: str) -> None:
        got.append(f"{name}: {q.get()}")

    doomed = spawn(getter, "doomed")
    other = spawn(getter, "other")
    sleep(0)
    q.put("item")  # handed to doomed, whose wake-up is scheduled...
    doomed.kill()  # ...and which dies first
    with Timeout(SLOW):
        other.wait()
    assert got == ["other: item"]
    with pytest.raises(GreenletExit):
        doomed.wait()


@pytest.mark.parametrize("cls", ["Queue", "LifoQueue", "PriorityQueue"])
def test_a_killed_getter_puts_its_item_back_in_front(hub: Any, toolkit_variant: str, cls: str) -> None:
    q = getattr(eventhub, cls)()
    doomed = spawn(q.get)
    sleep(0)
    q.put(5)
    doomed.kill()
    q.put(7)
    q.put(3)
    # Back where get() takes from first (FIFO front, LIFO top, priority
    # order), as if it had been put and never taken.
    assert [q.get_nowait() for _ in range(3)] == {"Queue": [5, 7, 3], "LifoQueue": [3, 7, 5], "PriorityQueue": [3, 5, 7]}[cls]


def test_a_getter_timing_out_in_the_pass_its_item_came(hub: Any, toolkit_variant: str) -> None:
    """A Timeout landing after the item was handed over: the item is not lost."""
    q: eventhub.Queue[str] = eventhub.Queue()
    outcome: list[str] = []

    def getter() -> None:
        try:
            with Timeout(0.01):
                outcome.append(q.get())
        except Timeout:
            outcome.append("timed out")

    g = spawn(getter)
    sleep(0)
    time.sleep(0.02)  # the getter's Timeout is due: it fires in the pass that runs next
    q.put("item")
    with Timeout(SLOW):
        g.wait()
    assert outcome in (["item"], ["timed out"])
    if outcome == ["timed out"]:
        assert q.get_nowait() == "item"
    assert q.empty()


def test_an_item_is_not_lost_to_a_waiter_whose_hub_was_replaced(hub_class: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    spawn(q.get)
    sleep(0)  # it waits on this thread's hub...
    hubs.use_hub(hub_class)  # ...which is destroyed: it will never run again
    q.put("item")
    assert q.get_nowait() == "item"


def test_a_blocked_putter_is_let_in_when_a_slot_frees(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[int] = eventhub.Queue(1)
    q.put(1)
    putter = spawn(q.put, 2)
    sleep(0)
    assert not putter.dead and q.qsize() == 1
    assert q.get() == 1
    assert q.qsize() == 1 and q.full()  # its item took the freed slot at once
    with Timeout(SLOW):
        putter.wait()
    assert q.get() == 2


def test_a_timed_out_putter_leaves_the_line(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue(1)
    q.put("first")
    impatient = spawn(q.put, "impatient", timeout=0.01)
    patient = spawn(q.put, "patient")
    with pytest.raises(queue.Full):
        impatient.wait()
    assert q.get() == "first"
    with Timeout(SLOW):
        patient.wait()
    assert q.get_nowait() == "patient" and q.empty()


def test_task_done_and_join(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[int] = eventhub.Queue()
    done: list[int] = []

    def worker() -> None:
        while True:
            item = q.get()
            sleep(0.001)
            done.append(item)
            q.task_done()

    q.join()  # nothing put: returns at once
    for i in range(5):
        q.put(i)
    workers = [spawn(worker) for _ in range(2)]
    with Timeout(SLOW):
        q.join()
    assert sorted(done) == list(range(5))
    with pytest.raises(ValueError, match="too many times"):
        q.task_done()
    for w in workers:
        w.kill()


def test_join_waiters_all_wake(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[int] = eventhub.Queue()
    q.put(1)
    joiners = [spawn(q.join) for _ in range(3)]
    sleep(0)
    assert not any(j.dead for j in joiners)
    q.get()
    q.task_done()
    with Timeout(SLOW):
        for j in joiners:
            j.wait()


def test_a_getter_woken_by_put_from_a_timer(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    hub.schedule_call_global(0.001, q.put, "from the hub")
    with Timeout(SLOW):
        assert q.get() == "from the hub"


def test_a_blocking_get_in_the_hubs_greenlet_is_refused_and_leaves_no_trace(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.Queue[str] = eventhub.Queue()
    errors: list[BaseException] = []

    def in_the_hub() -> None:
        try:
            q.get()
        except RuntimeError as e:
            errors.append(e)

    hub.schedule_call_global(0, in_the_hub)
    sleep(0.001)
    assert len(errors) == 1 and "hub" in str(errors[0])
    q.put("x")
    assert q.qsize() == 1 and q.get_nowait() == "x"  # nobody was left in line to take it


def test_incomparable_priority_items_raise_and_leave_the_queue_usable(hub: Any, toolkit_variant: str) -> None:
    q: eventhub.PriorityQueue[Any] = eventhub.PriorityQueue()
    q.put((1, "a"))
    with pytest.raises(TypeError):
        q.put((1, object()))  # compared with (1, "a"): str vs object
    q2: eventhub.PriorityQueue[int] = eventhub.PriorityQueue()
    q2.put(2)
    q2.put(1)  # the queue's lock was released: this does not hang
    assert q2.get() == 1


def test_bad_arguments(hub: Any, toolkit_variant: str) -> None:
    for bad in ("3", 1.5, None, True):
        with pytest.raises(TypeError, match="maxsize"):
            eventhub.Queue(bad)  # type: ignore[arg-type]
    q: eventhub.Queue[int] = eventhub.Queue()
    with pytest.raises(ValueError, match="negative"):
        q.get(timeout=-1)
    with pytest.raises(ValueError, match="NaN"):
        q.get(timeout=float("nan"))
    with pytest.raises(TypeError, match="timeout"):
        q.put(1, timeout="1")  # type: ignore[arg-type]
    assert q.empty()  # the rejected put left nothing
    q.put(1, timeout=float("inf"))  # no limit
    assert q.get(block=False, timeout=-1) == 1  # block=False ignores the timeout, as the stdlib


def test_generic_at_run_time(toolkit_variant: str) -> None:
    for cls in (eventhub.Queue, eventhub.LifoQueue, eventhub.PriorityQueue):
        alias: Any = cls[int]
        assert alias.__origin__ is cls
        assert isinstance(alias(), cls)
    assert "maxsize=3" in repr(eventhub.Queue(3))


def test_the_variant_in_use(toolkit_variant: str) -> None:
    assert eventhub.Queue.__module__ == ("eventhub._queue" if toolkit_variant == "compiled" else "eventhub.queue")
    assert eventhub.LifoQueue is not eventhub.Queue and issubclass(eventhub.LifoQueue, eventhub.Queue)


def test_many_greenthreads_through_a_bounded_queue(hub: Any, toolkit_variant: str) -> None:
    """Producers and consumers more than the queue holds: every item through once, none lost."""
    q: eventhub.Queue[int] = eventhub.Queue(3)

    def producer(base: int) -> None:
        for i in range(50):
            q.put(base + i)

    def consumer() -> list[int]:
        return [q.get() for _ in range(25)]

    producers = [spawn(producer, 1000 * p) for p in range(4)]
    consumers = [spawn(consumer) for _ in range(8)]
    with Timeout(SLOW):
        got = [c.wait() for c in consumers]
        for producing in producers:
            producing.wait()
    assert sorted(x for mine in got for x in mine) == sorted(1000 * p + i for p in range(4) for i in range(50))
    assert q.empty()
    # A producer's items leave in the order it put them: each consumer sees them rising.
    for mine in got:
        for p in range(4):
            from_p = [x for x in mine if x // 1000 == p]
            assert from_p == sorted(from_p)


def test_no_greenlet_is_switched_into_after_leaving(hub: Any, toolkit_variant: str) -> None:
    """A getter killed after being handed an item must not be resumed later by that hand-off."""
    q: eventhub.Queue[str] = eventhub.Queue()
    other: eventhub.Queue[str] = eventhub.Queue()
    trace: list[str] = []

    def getter() -> None:
        try:
            trace.append(q.get())
        except GreenletExit:
            trace.append("killed")
            trace.append(f"other: {other.get()}")

    g = spawn(getter)
    sleep(0)
    q.put("item")  # its wake-up is scheduled
    hub.schedule_call_global(0, greenlet.getcurrent().switch)
    g.throw(GreenletExit())  # killed in the same pass: it now waits on `other`
    for _ in range(3):
        sleep(0)
    assert trace == ["killed"]
    assert q.get_nowait() == "item"  # given back, not lost
    other.put("right one")
    with Timeout(SLOW):
        g.wait()
    assert trace == ["killed", "other: right one"]
