"""The bridge between greenthreads and coroutines on the asyncio hub.

With ``use_hub("asyncio")`` greenthreads and asyncio tasks share one loop,
and each side can wait for the other:

- ``await gt`` in a coroutine waits for the greenthread ``gt`` and returns
  its result or raises its exception (``GreenThread.__await__``);
- ``await_(awaitable)`` in a greenthread (or the main greenlet) blocks it
  until a coroutine, task or future finishes, and returns its result or
  raises its exception;
- ``spawn_for_awaitable(awaitable)`` runs an awaitable as a greenthread.

``await gt`` itself is ``GreenThread.__await__`` (eventhub/greenthread.py).
Cancellation crosses both ways: cancelling a task that awaits a greenthread
kills the greenthread, and killing a greenthread blocked in ``await_`` (or
a ``Timeout`` firing there) cancels what it awaits.  A greenthread killed
while a coroutine awaits it makes that coroutine's await raise
``asyncio.CancelledError``.  Greenthreads and tasks keep their own
``contextvars`` contexts: nothing set on one side leaks to the other.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, TypeVar

from greenlet import getcurrent

import eventhub.greenthread
from eventhub.greenthread import GreenThread, spawn
from eventhub.hubs import get_hub
from eventhub.hubs.aioloop import hub_loop

T = TypeVar("T")

__all__ = ["await_", "greenthread_future", "hub_loop", "spawn_for_awaitable"]


def await_(awaitable: Awaitable[T]) -> T:
    """Block the calling greenthread until ``awaitable`` finishes; return its result or raise.

    If the greenthread is killed (or a ``Timeout`` fires) meanwhile, the
    awaitable is cancelled and the exception goes on.  Not from a coroutine
    (it would block the loop): there, ``await`` it.
    """
    loop = hub_loop()
    hub = get_hub()
    current = getcurrent()
    if current is hub.greenlet:
        raise RuntimeError("await_() blocks, and this is the loop's own greenlet (a coroutine or callback): use await")
    future = asyncio.ensure_future(awaitable, loop=loop)
    if future.done():
        return future.result()

    def wake(_: Any) -> None:
        current.switch()

    future.add_done_callback(wake)
    try:
        while not future.done():
            hub.switch()
    except BaseException:
        future.remove_done_callback(wake)
        future.cancel()
        raise
    return future.result()


def spawn_for_awaitable(awaitable: Awaitable[T]) -> GreenThread[T]:
    """A greenthread that awaits ``awaitable`` and ends with its result or exception.

    Killing the greenthread cancels the awaitable.
    """
    hub_loop()  # refuse now, not in the greenthread
    return spawn(await_, awaitable)


def greenthread_future(gt: GreenThread[T]) -> asyncio.Future[T]:
    """An asyncio future of the hub's loop that ends as ``gt`` does.

    Cancelling the future kills ``gt``; ``gt`` killed (``GreenletExit``)
    cancels the future.  What ``await gt`` awaits.
    """
    return eventhub.greenthread._future_on(gt, hub_loop())
