"""eventlet's green queues, serving the greenthreads that wait on them first come, first served.

eventlet's queues are not fair to their waiters.  An item put while
greenthreads wait stays in the queue until the hub's next pass hands it to
one, and meanwhile any greenthread calling ``get()`` takes it; the waiters
also wake in no set order (they are kept in a ``set``).  Under load a
waiter can lose every round.  Connection pools show it most: redis-py's
``BlockingConnectionPool`` and urllib3's pools build on ``queue.LifoQueue``
(eventlet's after ``eventlet.monkey_patch()``), ``eventlet.pools.Pool`` on
``eventlet.queue.LightQueue``.  With 1000 requests sharing redis-py's pool
of 100 connections, the median request took 40 ms, while some waited more
than 5 s.

``install()`` is the one switch.  It changes ``eventlet.queue.LightQueue``,
the base of every eventlet queue (``eventlet.queue``'s ``Queue``,
``LifoQueue`` and ``PriorityQueue``, the ones ``eventlet.green.Queue``
defines and ``eventlet.monkey_patch()`` puts in ``queue``, and any subclass
an application made), in place: no class is replaced, so ``isinstance``
checks, subclasses and classes imported earlier all keep working.  From
then on:

- a ``put()`` that finds greenthreads waiting takes the item out of the
  queue at once for the one that has waited longest (it wakes on the hub's
  next pass), so a later ``get()`` finds the queue empty and waits behind
  them; ``qsize()`` and ``empty()`` still tell whether a ``get()`` would
  wait, as eventlet documents;
- queues made from then on keep their waiters in arrival order.

An item handed to a waiter that stops waiting before it wakes (a timeout,
a kill) goes to the next in line, or back into the queue.  Otherwise the
queues behave as eventlet's.  ``eventhub-run`` calls ``install()`` unless
told not to, and so does ``eventhub.gunicorn.EventletWorker``;
``uninstall()`` undoes it.
"""

from __future__ import annotations

from typing import Any, Iterator

import eventlet.queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
from eventlet.hubs import get_hub  # type: ignore[import-untyped,import-not-found,unused-ignore]

__all__ = ["WaitingLine", "install", "installed", "uninstall"]

_LightQueue = eventlet.queue.LightQueue
#: eventlet's own methods, which the fair ones call and uninstall() puts back.
_eventlets_init = _LightQueue.__init__
_eventlets_put = _LightQueue.put


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


def _fair_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """``LightQueue.__init__``, then waiting lines in place of the waiter sets."""
    _eventlets_init(self, *args, **kwargs)
    self.getters = WaitingLine()
    self.putters = WaitingLine()


def _fair_put(self: Any, item: Any, block: bool = True, timeout: float | None = None) -> None:
    """As eventlet's ``put()``; then the items there are go to the greenthreads waiting, oldest first."""
    _eventlets_put(self, item, block, timeout)
    if self.getters and self.qsize():
        _reserve_for_waiters(self)


def _reserve_for_waiters(queue: Any) -> None:
    """Take an item out for each waiter, oldest first, while both last; each wakes with its own."""
    hub = get_hub()
    while queue.getters and queue.qsize():
        waiter = queue.getters.pop()
        if waiter:  # still waiting (eventlet's waiters are true while they do)
            hub.schedule_call_global(0, _hand_over, queue, waiter, queue._get())


def _hand_over(queue: Any, waiter: Any, item: Any) -> None:
    """On the hub: wake ``waiter`` with the item reserved for it; if it stopped waiting, pass the item on."""
    if waiter:
        waiter.switch(item)
        return
    queue._put(item)
    if hasattr(queue, "unfinished_tasks"):  # eventlet's Queue counted the item when it was first put
        queue.unfinished_tasks -= 1
    _reserve_for_waiters(queue)


def install() -> bool:
    """Make eventlet's queues serve the greenthreads waiting on them first come, first served.

    Returns True if they now do; False, changing nothing, on an eventlet
    whose queues do not work as this module expects.  Calling it again does
    nothing.  Queues that exist already keep their waiters in a set: a
    ``put()`` hands them items at once too, in no set order.
    """
    if installed():
        return True
    if not _knows_eventlets_queues():
        return False
    _LightQueue.__init__ = _fair_init
    _LightQueue.put = _fair_put
    return True


def uninstall() -> None:
    """Undo ``install()``: queues made from now on behave as eventlet's own again."""
    _LightQueue.__init__ = _eventlets_init
    _LightQueue.put = _eventlets_put


def installed() -> bool:
    """Whether ``install()`` is in effect."""
    return _LightQueue.put is _fair_put


def _knows_eventlets_queues() -> bool:
    """Whether this eventlet's queues keep their waiters and items as the fair ones expect."""
    sample = _LightQueue()
    return (
        isinstance(sample.getters, set)
        and isinstance(sample.putters, set)
        and all(callable(getattr(sample, name, None)) for name in ("_get", "_put", "qsize"))
    )
