"""First come, first served versions of the green queues eventlet puts in the ``queue`` module.

``eventlet.monkey_patch()`` makes ``queue.Queue``, ``LifoQueue`` and
``PriorityQueue`` eventlet's green queues, and libraries then build on
them: connection pools above all (redis-py's ``BlockingConnectionPool``,
urllib3's pools).  Those queues are not fair to the greenthreads waiting
on them.  A freed item reaches a waiter only on the hub's next pass, and
meanwhile any greenthread calling ``get()`` takes it; the waiters also
wake in no set order (they are kept in a ``set``).  Under load a waiter
can lose every round.  With 1000 requests sharing redis-py's pool of 100
connections, the median request took 40 ms, while some waited more than
5 s and the client gave up on them.

The classes here behave as eventlet's, except that waiters are served in
the order they came: they wake oldest first, and a blocking ``get()``
that finds others waiting already waits behind them instead of taking
the item.  ``install()`` puts them in ``queue`` after eventlet patched
it; ``EventletWorker`` does so before it loads the application.
``eventlet.queue`` itself is left as it is.
"""

from __future__ import annotations

import queue
from typing import Any, Iterator

import eventlet.green.Queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.queue  # type: ignore[import-untyped,import-not-found,unused-ignore]
from eventlet.hubs import get_hub  # type: ignore[import-untyped,import-not-found,unused-ignore]
from greenlet import getcurrent

__all__ = ["FairLifoQueue", "FairPriorityQueue", "FairQueue", "WaitingLine", "install"]


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

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)  # type: ignore[call-arg]
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


class FairQueue(_FairWaiting, eventlet.green.Queue.Queue):  # type: ignore[misc]
    """``queue.Queue`` under eventlet's patching, serving waiters in arrival order."""


class FairLifoQueue(_FairWaiting, eventlet.green.Queue.LifoQueue):  # type: ignore[misc]
    """``queue.LifoQueue`` under eventlet's patching, serving waiters in arrival order."""


class FairPriorityQueue(_FairWaiting, eventlet.green.Queue.PriorityQueue):  # type: ignore[misc]
    """``queue.PriorityQueue`` under eventlet's patching, serving waiters in arrival order."""


_FAIR = {"Queue": FairQueue, "LifoQueue": FairLifoQueue, "PriorityQueue": FairPriorityQueue}


def install() -> bool:
    """Make ``queue``'s green queue classes the fair ones; True if they are now.

    Only where ``eventlet.monkey_patch()`` made them eventlet's, and only
    on an eventlet whose queues work as these expect (else False, and
    nothing changes).  Code that imported a class from ``queue`` before
    keeps the one it has.
    """
    if all(getattr(queue, name) is fair for name, fair in _FAIR.items()):
        return True
    green = eventlet.green.Queue
    if any(getattr(queue, name) is not getattr(green, name) for name in _FAIR) or not _knows_eventlets_queues():
        return False
    for name, fair in _FAIR.items():
        setattr(queue, name, fair)
    return True


def _knows_eventlets_queues() -> bool:
    """Whether this eventlet's queues have the waiter sets and unlock pass the fair classes build on."""
    sample = eventlet.queue.LightQueue()
    return (
        isinstance(sample.getters, set)
        and isinstance(sample.putters, set)
        and callable(getattr(sample, "_schedule_unlock", None))
        and callable(getattr(eventlet.queue, "Waiter", None))
    )
