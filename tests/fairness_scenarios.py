"""Fairness scenarios, written once for any greenlet framework's queue and semaphore.

Each returns what it observed; ``FAIR`` says what a first-come,
first-served queue or semaphore must give.  ``test_toolkit_fairness.py``
runs them on eventhub's (every hub, both variants) and asserts ``FAIR``;
it also runs them on eventlet's own classes, in a subprocess, to show
they catch eventlet's unfairness.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Api:
    """A framework: spawn(fn, *args) -> thread, join(thread), sleep(seconds), and its classes."""

    spawn: Callable[..., Any]
    join: Callable[[Any], Any]
    sleep: Callable[[float], None]
    queue: Callable[..., Any]  # Queue(maxsize=0)
    semaphore: Callable[[int], Any]


def getters_in_order(api: Api) -> list[int]:
    """20 greenthreads wait in get(), then 20 items are put: who got which."""
    q = api.queue()
    got: list[int] = [-1] * 20

    def getter(i: int) -> None:
        got[i] = q.get()

    threads = [api.spawn(getter, i) for i in range(20)]
    api.sleep(0)  # all 20 wait now, in spawn order
    for item in range(20):
        q.put(item)
    for t in threads:
        api.join(t)
    return got


def late_get_takes_the_item(api: Api) -> str:
    """A greenthread waits in get(); another puts an item and asks for one at once: who gets it."""
    q = api.queue()
    winner: list[str] = []

    def waiting() -> None:
        q.get()
        winner.append("the waiter")

    def late() -> None:
        q.put("item")
        try:
            q.get(timeout=0.05)
            winner.append("the late get")
        except queue.Empty:
            pass

    first = api.spawn(waiting)
    api.sleep(0)
    api.join(api.spawn(late))
    if winner == ["the late get"]:
        q.put("another")  # or the waiter would wait forever
    api.join(first)
    return winner[0]


def putters_in_order(api: Api) -> list[int]:
    """A full queue of one; 20 greenthreads wait in put(), then 21 items are taken: in which order."""
    q = api.queue(1)
    q.put(-1)

    def putter(i: int) -> None:
        q.put(i)

    threads = [api.spawn(putter, i) for i in range(20)]
    api.sleep(0)
    taken = [q.get() for _ in range(21)]
    for t in threads:
        api.join(t)
    return taken


def late_put_takes_the_slot(api: Api) -> str:
    """A full queue of one with a putter waiting; a get() frees the slot and another put_nowait() comes at once."""
    q = api.queue(1)
    q.put("first")
    waiting = api.spawn(q.put, "waiting")
    api.sleep(0)
    q.get()
    try:
        q.put_nowait("late")
    except queue.Full:
        api.join(waiting)
        return "the waiter"
    q.get()  # a fair queue never gets here: this frees a slot for the waiter
    api.join(waiting)
    return "the late put"


def late_acquire_takes_the_permit(api: Api) -> str:
    """A greenthread waits for a semaphore's permit; the holder releases it and asks again at once."""
    sem = api.semaphore(1)
    sem.acquire()
    winner: list[str] = []

    def waiting() -> None:
        sem.acquire()
        winner.append("the waiter")
        sem.release()

    first = api.spawn(waiting)
    api.sleep(0)
    sem.release()
    if sem.acquire(blocking=False):
        winner.append("the late acquire")
        sem.release()
    api.join(first)
    return winner[0]


def acquirers_in_order(api: Api) -> list[int]:
    """20 greenthreads wait for a semaphore of one; each holds it across a sleep(0): in which order they got it."""
    sem = api.semaphore(1)
    sem.acquire()
    order: list[int] = []

    def worker(i: int) -> None:
        for _ in range(3):
            sem.acquire()
            order.append(i)
            api.sleep(0)
            sem.release()

    threads = [api.spawn(worker, i) for i in range(20)]
    api.sleep(0)
    sem.release()
    for t in threads:
        api.join(t)
    return order


#: scenario -> what a fair queue or semaphore gives.
FAIR: dict[Callable[[Api], Any], Any] = {
    getters_in_order: list(range(20)),
    late_get_takes_the_item: "the waiter",
    putters_in_order: [-1, *range(20)],
    late_put_takes_the_slot: "the waiter",
    late_acquire_takes_the_permit: "the waiter",
    acquirers_in_order: list(range(20)) * 3,
}


def eventlet_api() -> Api:
    """eventlet's own Queue and Semaphore on its own hub."""
    import eventlet
    import eventlet.queue
    import eventlet.semaphore

    return Api(eventlet.spawn, lambda t: t.wait(), eventlet.sleep, eventlet.queue.Queue, eventlet.semaphore.Semaphore)


if __name__ == "__main__":
    # What eventlet's classes do in each scenario: one line per scenario.
    import warnings

    warnings.simplefilter("ignore")
    api = eventlet_api()
    for scenario, fair in FAIR.items():
        observed = scenario(api)
        print(scenario.__name__, "fair" if observed == fair else "unfair", observed)
