"""eventlet's green queues, serving the greenthreads that wait on them first come, first served.

eventlet's queues are not fair to their waiters.  A freed item reaches a
waiter only on the hub's next pass, and meanwhile any greenthread calling
``get()`` takes it; the waiters also wake in no set order (they are kept in
a ``set``).  Under load a waiter can lose every round.  Connection pools
show it most: redis-py's ``BlockingConnectionPool`` and urllib3's pools
build on ``queue.LifoQueue`` (eventlet's after ``eventlet.monkey_patch()``),
``eventlet.pools.Pool`` on ``eventlet.queue.LightQueue``.  With 1000
requests sharing redis-py's pool of 100 connections, the median request
took 40 ms, while some waited more than 5 s.

The classes here behave as eventlet's, except that waiters are served in
the order they came: they wake oldest first, and a blocking ``get()`` that
finds others waiting already waits behind them instead of taking the item.

``install()`` is the one switch: it makes every place eventlet offers its
queues from hand out the fair classes (``eventlet.queue``, ``eventlet.Queue``,
``eventlet.green.Queue``, and ``queue`` once ``eventlet.monkey_patch()`` has
made it green, or when it does later).  ``eventhub-run`` calls it unless told
not to, and so does ``eventhub.gunicorn.EventletWorker``.
"""

from __future__ import annotations

import queue
from types import ModuleType
from typing import Any, Iterator

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.green.Queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
from eventlet.hubs import get_hub  # type: ignore[import-untyped,import-not-found,unused-ignore]
from greenlet import getcurrent

__all__ = [
    "FairEventletLifoQueue", "FairEventletPriorityQueue", "FairEventletQueue", "FairLifoQueue",
    "FairLightQueue", "FairPriorityQueue", "FairQueue", "WaitingLine", "install",
]


class WaitingLine:
    """The part of ``set``'s API eventlet's queues use for their waiters, in arrival order.

    ``pop()`` returns the greenthread that has waited longest.
    """

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: dict[Any, None] = {}  # dicts keep insertion order

    def add(self, waiter: Any) -> None:
        self._waiters[waiter] = None

    def discard(self, waiter: Any) -> None:
        self._waiters.pop(waiter, None)

    def pop(self) -> Any:
        for waiter in self._waiters:
            del self._waiters[waiter]
            return waiter
        raise KeyError("pop from an empty waiting line")

    def __len__(self) -> int:
        return len(self._waiters)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._waiters))


class _FairWaiting:
    """What makes an eventlet queue class fair (mixed in before it)."""

    getters: WaitingLine
    putters: WaitingLine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.getters = WaitingLine()
        self.putters = WaitingLine()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """As eventlet's ``get()``, but behind the greenthreads already waiting, if any."""
        if block and self.getters and getcurrent() is not get_hub().greenlet:
            return self._get_in_line(timeout)
        return super().get(block, timeout)  # type: ignore[misc]

    def _get_in_line(self, timeout: float | None) -> Any:
        # eventlet's own wait in get(), entered even when an item is there:
        # that item is for the first in line, whom the unlock pass serves.
        waiter = eventlet.queue.Waiter()
        timer = eventlet.Timeout(timeout, queue.Empty)
        try:
            self.getters.add(waiter)
            if self.qsize() or self.putters:  # type: ignore[attr-defined]
                self._schedule_unlock()  # type: ignore[attr-defined]
            try:
                return waiter.wait()
            except BaseException:
                self._schedule_unlock()  # type: ignore[attr-defined]  # for whoever is next
                raise
        finally:
            self.getters.discard(waiter)
            timer.cancel()


# What the ``queue`` module's classes are after eventlet.monkey_patch():
# eventlet.green.Queue's, which take the standard library's maxsize (0: no limit).

class FairQueue(_FairWaiting, eventlet.green.Queue.Queue):  # type: ignore[misc]
    """``queue.Queue`` under eventlet's patching, serving waiters in arrival order."""


class FairLifoQueue(_FairWaiting, eventlet.green.Queue.LifoQueue):  # type: ignore[misc]
    """``queue.LifoQueue`` under eventlet's patching, serving waiters in arrival order."""


class FairPriorityQueue(_FairWaiting, eventlet.green.Queue.PriorityQueue):  # type: ignore[misc]
    """``queue.PriorityQueue`` under eventlet's patching, serving waiters in arrival order."""


# eventlet's own API, with its maxsize (None: no limit; 0: a channel).

class FairLightQueue(_FairWaiting, eventlet.queue.LightQueue):  # type: ignore[misc]
    """``eventlet.queue.LightQueue``, serving waiters in arrival order."""


class FairEventletQueue(_FairWaiting, eventlet.queue.Queue):  # type: ignore[misc]
    """``eventlet.queue.Queue``, serving waiters in arrival order."""


class FairEventletLifoQueue(_FairWaiting, eventlet.queue.LifoQueue):  # type: ignore[misc]
    """``eventlet.queue.LifoQueue``, serving waiters in arrival order."""


class FairEventletPriorityQueue(_FairWaiting, eventlet.queue.PriorityQueue):  # type: ignore[misc]
    """``eventlet.queue.PriorityQueue``, serving waiters in arrival order."""


#: eventlet's own, whatever install() did since.
_EVENTLETS_LIGHT_QUEUE = eventlet.queue.LightQueue

#: Where install() puts the fair classes: module -> {name: (eventlet's class, fair class)}.
_PLACES: list[tuple[ModuleType, dict[str, tuple[type, type]]]] = [
    (eventlet.queue, {
        "LightQueue": (_EVENTLETS_LIGHT_QUEUE, FairLightQueue),
        "Queue": (eventlet.queue.Queue, FairEventletQueue),
        "LifoQueue": (eventlet.queue.LifoQueue, FairEventletLifoQueue),
        "PriorityQueue": (eventlet.queue.PriorityQueue, FairEventletPriorityQueue),
    }),
    (eventlet, {"Queue": (eventlet.queue.Queue, FairEventletQueue)}),
    # eventlet.monkey_patch() copies these into ``queue``: once they are
    # fair, a later monkey_patch() installs the fair ones there.
    (eventlet.green.Queue, {
        "Queue": (eventlet.green.Queue.Queue, FairQueue),
        "LifoQueue": (eventlet.green.Queue.LifoQueue, FairLifoQueue),
        "PriorityQueue": (eventlet.green.Queue.PriorityQueue, FairPriorityQueue),
    }),
    # Already patched: replaced here.  Still the standard library's: left
    # alone (threads, not greenthreads, use it until monkey_patch()).
    (queue, {
        "Queue": (eventlet.green.Queue.Queue, FairQueue),
        "LifoQueue": (eventlet.green.Queue.LifoQueue, FairLifoQueue),
        "PriorityQueue": (eventlet.green.Queue.PriorityQueue, FairPriorityQueue),
    }),
]


def install() -> bool:
    """Make eventlet's green queue classes, wherever eventlet offers them, the fair ones.

    Returns True if they are now fair, False (changing nothing) on an
    eventlet whose queues do not work as these classes expect.  Calling it
    again does nothing.  Code that took a class from one of these modules
    before keeps the one it took, and queues made before keep their class.
    """
    if not _knows_eventlets_queues():
        return False
    for module, classes in _PLACES:
        for name, (unfair, fair) in classes.items():
            if getattr(module, name, None) is unfair:
                setattr(module, name, fair)
    return True


def _knows_eventlets_queues() -> bool:
    """Whether this eventlet's queues have the waiter sets and unlock pass the fair classes build on."""
    sample = _EVENTLETS_LIGHT_QUEUE()
    return (
        isinstance(sample.getters, set)
        and isinstance(sample.putters, set)
        and callable(getattr(sample, "_schedule_unlock", None))
        and callable(getattr(eventlet.queue, "Waiter", None))
    )
