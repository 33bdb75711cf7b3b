"""eventhub.eventlet_queue: eventlet's green queues, serving waiters first come, first served.

In this process, on every eventhub.eventlet hub class (eventlet's queues run
on eventlet's hub API, which these are), with ``install()`` in effect for
the test only; in fresh processes, ``install()`` itself and a pool workload
under ``eventhub-run``, on every hub in both variants.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.green.Queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
import pytest
# hub: the fixture of eventlet-adapter hubs, one per eventhub.eventlet class.
from test_eventlet_adapter import hub, run_python  # noqa: F401
from test_run import LAUNCHER_PARAMS, launcher_env

from eventhub import eventlet_queue
from eventhub.eventlet_queue import WaitingLine

#: The classes ``queue`` gets after monkey-patching (the standard library's maxsize: 0 is no limit).
STDLIB_API = [eventlet.green.Queue.Queue, eventlet.green.Queue.LifoQueue, eventlet.green.Queue.PriorityQueue]
#: eventlet.queue's own (None is no limit, 0 a channel).
EVENTLET_API = [eventlet.queue.LightQueue, eventlet.queue.Queue, eventlet.queue.LifoQueue, eventlet.queue.PriorityQueue]
ALL_CLASSES = STDLIB_API + EVENTLET_API

POOL_APP = Path(__file__).parent / "run_apps" / "pool_app.py"


@pytest.fixture
def fair(hub: Any) -> Iterator[None]:  # noqa: F811 - the imported fixture, used here
    """eventlet's queues made fair for this test, on each eventhub.eventlet hub."""
    assert eventlet_queue.install()
    try:
        yield
    finally:
        eventlet_queue.uninstall()


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


@pytest.mark.parametrize("queue_class", ALL_CLASSES)
def test_waiters_get_items_in_the_order_they_came(fair: None, queue_class: Any) -> None:
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


@pytest.mark.parametrize("queue_class", [eventlet.green.Queue.LifoQueue, eventlet.queue.LightQueue])
def test_a_later_get_waits_behind_earlier_waiters(fair: None, queue_class: Any) -> None:
    """eventlet's own queue lets a get() take an item that a waiter was to be handed."""
    q = queue_class()
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
    eventlet.sleep(0)
    waiting.kill()  # if still waiting, no item came: on eventlet's own queue the late get() took it
    assert got == [("first", "item"), ("late", "timed out")]


@pytest.mark.parametrize("queue_class", STDLIB_API)
def test_the_rest_of_the_queue_api_is_eventlets(fair: None, queue_class: Any) -> None:
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


@pytest.mark.parametrize("queue_class", EVENTLET_API)
def test_eventlets_own_queue_api_keeps_its_maxsize(fair: None, queue_class: Any) -> None:
    assert queue_class().maxsize is None  # no limit
    channel = queue_class(0)  # put() waits for a get()
    assert channel.full()
    putter = eventlet.spawn(channel.put, "handed")
    eventlet.sleep(0)
    assert channel.putting() == 1
    assert channel.get() == "handed"
    putter.wait()


@pytest.mark.parametrize("queue_class", EVENTLET_API)
def test_a_channel_hands_items_to_waiters_in_the_order_they_came(fair: None, queue_class: Any) -> None:
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


def test_a_timed_out_waiter_leaves_the_line(fair: None) -> None:
    q = eventlet.green.Queue.Queue()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    assert q.getting() == 0
    q.put("x")
    assert q.get(timeout=0.01) == "x"  # nobody left waiting: taken at once


@pytest.mark.parametrize("queue_class", [eventlet.queue.Queue, eventlet.green.Queue.PriorityQueue])
def test_an_item_handed_to_a_waiter_that_left_goes_to_the_next(hub: Any, fair: None,  # noqa: F811
                                                                  queue_class: Any) -> None:
    q = queue_class()
    got: list[Any] = []
    leaving, staying = eventlet.spawn(q.get), eventlet.spawn(lambda: got.append(q.get()))
    eventlet.sleep(0)  # both wait, leaving first
    hub.schedule_call_global(0, leaving.throw)  # leaving goes on the hub's next pass, just before...
    q.put("item")  # ...the item taken out for it now is handed over
    assert q.qsize() == 0 and q.getting() == 1
    with eventlet.Timeout(5):  # the item must not be lost with the waiter
        staying.wait()
    assert got == ["item"]
    assert q.unfinished_tasks == 1  # counted once, though it went back in on its way
    q.task_done()
    q.join()  # returns: every item put is done


def test_an_item_nobody_waits_for_any_more_goes_back_into_the_queue(hub: Any, fair: None) -> None:  # noqa: F811
    q = eventlet.queue.LifoQueue()
    leaving = eventlet.spawn(q.get)
    eventlet.sleep(0)
    hub.schedule_call_global(0, leaving.throw)
    q.put("item")
    eventlet.sleep(0)  # the hand-over finds no one
    assert q.qsize() == 1 and q.get_nowait() == "item"


def test_qsize_and_empty_still_tell_whether_get_would_wait(fair: None) -> None:
    """eventlet documents it; serving waiters first must not make a get() after a non-empty check wait."""
    q = eventlet.green.Queue.LifoQueue()
    waiting = eventlet.spawn(q.get)
    eventlet.sleep(0)
    q.put("first")  # the waiter's
    assert q.empty()
    q.put("second")  # nobody else waits: stays in the queue
    assert not q.empty()
    with eventlet.Timeout(1):  # would wait forever if get() queued behind someone
        assert q.get() == "second"
    assert waiting.wait() == "first"


def test_install_changes_eventlets_queues_in_place_and_uninstall_undoes_it() -> None:
    out = run_python("""
        import queue
        import eventlet, eventlet.queue, eventlet.pools
        from eventhub import eventlet_queue
        before = eventlet.queue.LifoQueue()
        print(eventlet_queue.install(), eventlet_queue.installed(), eventlet_queue.install())  # installed once
        class Mine(eventlet.queue.Queue):  # an application's subclass
            pass
        made = [eventlet.queue.LightQueue(), eventlet.queue.LifoQueue(), Mine(), eventlet.pools.Pool().channel]
        eventlet.monkey_patch()  # queue's classes: eventlet.green.Queue's, unchanged, fair
        made.append(queue.LifoQueue())
        print(queue.LifoQueue.__module__, [type(q.getters).__name__ for q in made])
        print(type(before.getters).__name__)  # made before: eventlet's own
        eventlet_queue.uninstall()
        print(eventlet_queue.installed(), type(queue.Queue().getters).__name__)
    """)
    assert out.splitlines() == [
        "True True True",
        "eventlet.green.Queue ['WaitingLine', 'WaitingLine', 'WaitingLine', 'WaitingLine', 'WaitingLine']",
        "set",
        "False set",
    ]


def run_pool_app(*launcher_options: str, variant: str | None, workers: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "eventhub.run", *launcher_options, sys.executable, "-W", "ignore",
               str(POOL_APP), "--connections", "5", "--workers", str(workers), "--rounds", "10"]
    result = subprocess.run(command, env=launcher_env(variant), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    stats: dict[str, Any] = json.loads(result.stdout)
    return stats


@pytest.mark.parametrize(("hub_name", "hub_class", "variant"), LAUNCHER_PARAMS)
def test_a_shared_pool_serves_its_waiters_in_turn_under_the_launcher(hub_name: str, hub_class: str,
                                                                    variant: str) -> None:
    """redis-py's BlockingConnectionPool's pattern: a LifoQueue of 5 connections, 100 greenthreads.

    First come, first served, no request can be overtaken by more requests
    than there are other greenthreads (99): only those already waiting may
    go first.
    """
    stats = run_pool_app("--hub", hub_name, variant=variant, workers=100)
    assert stats["hub"] == f"eventhub.eventlet:{hub_class}"
    assert stats["requests"] == 1000
    assert stats["max_overtaken"] <= 99, stats


def test_without_fair_queues_the_same_pool_starves_its_waiters() -> None:
    """The workload above does fail on eventlet's queue: a waiter sees most other requests go first."""
    stats = run_pool_app("--no-fair-queues", variant=None, workers=100)
    assert stats["hub"] == "eventhub.eventlet:EpollHub"
    assert stats["max_overtaken"] > 99 * 3, stats
