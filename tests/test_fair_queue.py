"""eventhub.eventlet_queue: eventlet's green queues, serving waiters first come, first served.

On every eventhub.eventlet hub class (eventlet's queues run on eventlet's
hub API, which these are).
"""

from __future__ import annotations

import queue
from typing import Any

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
import pytest
# hub: the fixture of eventlet-adapter hubs, one per eventhub.eventlet class.
from test_eventlet_adapter import hub, run_python  # noqa: F401

from eventhub.eventlet_queue import (
    FairEventletLifoQueue,
    FairEventletPriorityQueue,
    FairEventletQueue,
    FairLifoQueue,
    FairLightQueue,
    FairPriorityQueue,
    FairQueue,
    WaitingLine,
)

#: The classes ``queue`` gets after monkey-patching (the standard library's maxsize: 0 is no limit).
STDLIB_API = [FairQueue, FairLifoQueue, FairPriorityQueue]
#: eventlet.queue's own (None is no limit, 0 a channel).
EVENTLET_API = [FairLightQueue, FairEventletQueue, FairEventletLifoQueue, FairEventletPriorityQueue]
FAIR_CLASSES = STDLIB_API + EVENTLET_API


def test_waiting_line_pops_the_oldest() -> None:
    line = WaitingLine()
    for waiter in "abcd":
        line.add(waiter)
    line.discard("b")
    line.discard("x")  # absent: nothing happens, as with a set
    assert len(line) == 3 and list(line) == ["a", "c", "d"]
    assert [line.pop(), line.pop(), line.pop()] == ["a", "c", "d"]
    assert not line
    with pytest.raises(KeyError):
        line.pop()


@pytest.mark.parametrize("queue_class", FAIR_CLASSES)
def test_waiters_get_items_in_the_order_they_came(hub: Any, queue_class: Any) -> None:
    q = queue_class()
    served: list[int] = []

    def getter(i: int) -> None:
        q.get()
        served.append(i)

    getters = [eventlet.spawn(getter, i) for i in range(20)]
    eventlet.sleep(0)  # all 20 wait now, in spawn order
    for item in range(20):
        q.put(item)
    for gt in getters:
        gt.wait()
    assert served == list(range(20))


def test_a_later_get_waits_behind_earlier_waiters(hub: Any) -> None:
    """eventlet's own queue lets a get() take an item that a waiter was to be handed."""
    q = FairLifoQueue()
    got: list[Any] = []

    def first() -> None:
        got.append(("first", q.get()))

    waiting = eventlet.spawn(first)
    eventlet.sleep(0)  # first waits

    def late() -> None:
        q.put("item")  # freed, as a pool's connection is returned...
        try:
            got.append(("late", q.get(timeout=0.05)))  # ...and asked for again at once
        except queue.Empty:
            got.append(("late", "timed out"))

    eventlet.spawn(late).wait()
    waiting.wait()
    assert got == [("first", "item"), ("late", "timed out")]


@pytest.mark.parametrize("queue_class", STDLIB_API)
def test_the_rest_of_the_queue_api_is_eventlets(hub: Any, queue_class: Any) -> None:
    q = queue_class(1)
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    q.put(3)
    with pytest.raises(queue.Full):
        q.put_nowait(4)
    putter = eventlet.spawn(q.put, 1)  # blocks: the queue holds its one item
    eventlet.sleep(0)
    assert q.putting() == 1
    assert q.get() == 3
    putter.wait()
    assert q.get(block=False) == 1
    assert q.getting() == 0 and q.empty()


def test_a_timed_out_waiter_leaves_the_line(hub: Any) -> None:
    q = FairQueue()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    assert q.getting() == 0
    q.put("x")
    assert q.get(timeout=0.01) == "x"  # nobody left waiting: taken at once


@pytest.mark.parametrize("queue_class", EVENTLET_API)
def test_eventlets_own_queue_api_keeps_its_maxsize(hub: Any, queue_class: Any) -> None:
    assert queue_class().maxsize is None  # no limit
    channel = queue_class(0)  # put() waits for a get()
    assert channel.full()
    putter = eventlet.spawn(channel.put, "handed")
    eventlet.sleep(0)
    assert channel.putting() == 1
    assert channel.get() == "handed"
    putter.wait()


@pytest.mark.parametrize("queue_class", EVENTLET_API)
def test_a_channel_hands_items_to_waiters_in_the_order_they_came(hub: Any, queue_class: Any) -> None:
    """What eventlet.pools.Pool builds on: a LightQueue(0) its put() hands freed items through."""
    channel = queue_class(0)
    served: list[int] = []

    def getter(i: int) -> None:
        channel.get()
        served.append(i)

    getters = [eventlet.spawn(getter, i) for i in range(20)]
    eventlet.sleep(0)
    for item in range(20):
        channel.put(item)
    for gt in getters:
        gt.wait()
    assert served == list(range(20))


def test_install_makes_every_place_eventlet_offers_queues_from_fair() -> None:
    out = run_python("""
        import queue
        import eventlet, eventlet.queue, eventlet.green.Queue, eventlet.pools
        from eventhub import eventlet_queue as fair
        print(fair.install(), queue.LifoQueue.__module__)  # queue is not patched yet: left alone
        print(eventlet.queue.LightQueue is fair.FairLightQueue, eventlet.queue.Queue is fair.FairEventletQueue,
              eventlet.queue.LifoQueue is fair.FairEventletLifoQueue,
              eventlet.queue.PriorityQueue is fair.FairEventletPriorityQueue, eventlet.Queue is fair.FairEventletQueue)
        print(eventlet.green.Queue.Queue is fair.FairQueue, eventlet.green.Queue.LifoQueue is fair.FairLifoQueue,
              eventlet.green.Queue.PriorityQueue is fair.FairPriorityQueue)
        print(type(eventlet.pools.Pool().channel).__name__)  # eventlet's own pool, made after install()
        eventlet.monkey_patch()  # copies eventlet.green.Queue's classes into queue: the fair ones
        print(queue.Queue is fair.FairQueue, queue.LifoQueue is fair.FairLifoQueue,
              queue.PriorityQueue is fair.FairPriorityQueue)
        print(fair.install())  # again: nothing more to do
    """)
    assert out.splitlines() == ["True queue", "True True True True True", "True True True",
                                "FairLightQueue", "True True True", "True"]


def test_install_after_monkey_patching_replaces_the_patched_classes() -> None:
    """The gunicorn worker's order: patch, then install."""
    out = run_python("""
        import queue
        import eventlet
        eventlet.monkey_patch()
        from eventhub import eventlet_queue as fair
        print(queue.LifoQueue.__module__)
        print(fair.install(), queue.Queue is fair.FairQueue,
              queue.LifoQueue is fair.FairLifoQueue, queue.PriorityQueue is fair.FairPriorityQueue)
    """)
    assert out.splitlines() == ["eventlet.green.Queue", "True True True True"]
