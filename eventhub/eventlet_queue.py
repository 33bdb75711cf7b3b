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

``install()`` is the one switch.  It changes ``eventlet.queue.LightQueue``,
the base of every eventlet queue (``eventlet.queue``'s ``Queue``,
``LifoQueue`` and ``PriorityQueue``, the ones ``eventlet.green.Queue``
defines and ``eventlet.monkey_patch()`` puts in ``queue``, and any subclass
an application made), in place: no class is replaced, so ``isinstance``
checks, subclasses and classes imported earlier all keep working.  Queues
made from then on keep their waiters in arrival order and serve them oldest
first, and a blocking ``get()`` that finds others waiting already waits
behind them instead of taking the item.  Otherwise they behave as eventlet's.
``eventhub-run`` calls it unless told not to, and so does
``eventhub.gunicorn.EventletWorker``; ``uninstall()`` undoes it.
"""

from __future__ import annotations

import queue
from typing import Any, Iterator

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
from eventlet.hubs import get_hub  # type: ignore[import-untyped,import-not-found,unused-ignore]
from greenlet import getcurrent

__all__ = ["WaitingLine", "install", "installed", "uninstall"]

_LightQueue = eventlet.queue.LightQueue
#: eventlet's own methods, which the fair ones call and uninstall() puts back.
_eventlets_init = _LightQueue.__init__
_eventlets_get = _LightQueue.get


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


def _fair_get(self: Any, block: bool = True, timeout: float | None = None) -> Any:
    """As eventlet's ``get()``, but behind the greenthreads already waiting, if any."""
    if block and self.getters and getcurrent() is not get_hub().greenlet:
        return _get_in_line(self, timeout)
    return _eventlets_get(self, block, timeout)


def _get_in_line(self: Any, timeout: float | None) -> Any:
    # eventlet's own wait in get(), entered even when an item is there:
    # that item is for the first in line, whom the unlock pass serves.
    waiter = eventlet.queue.Waiter()
    timer = eventlet.Timeout(timeout, queue.Empty)
    try:
        self.getters.add(waiter)
        if self.qsize() or self.putters:
            self._schedule_unlock()
        try:
            return waiter.wait()
        except BaseException:
            self._schedule_unlock()  # for whoever is next
            raise
    finally:
        self.getters.discard(waiter)
        timer.cancel()


def install() -> bool:
    """Make eventlet's queues made from now on serve their waiters first come, first served.

    Returns True if they now do; False, changing nothing, on an eventlet
    whose queues do not work as this module expects.  Calling it again does
    nothing.  Queues that exist already keep eventlet's behaviour.
    """
    if installed():
        return True
    if not _knows_eventlets_queues():
        return False
    _LightQueue.__init__ = _fair_init
    _LightQueue.get = _fair_get
    return True


def uninstall() -> None:
    """Undo ``install()``: queues made from now on behave as eventlet's own again."""
    _LightQueue.__init__ = _eventlets_init
    _LightQueue.get = _eventlets_get


def installed() -> bool:
    """Whether ``install()`` is in effect."""
    return _LightQueue.get is _fair_get


def _knows_eventlets_queues() -> bool:
    """Whether this eventlet's queues have the waiter sets and unlock pass the fair ones build on."""
    sample = _LightQueue()
    return (
        isinstance(sample.getters, set)
        and isinstance(sample.putters, set)
        and callable(getattr(sample, "_schedule_unlock", None))
        and callable(getattr(eventlet.queue, "Waiter", None))
    )
