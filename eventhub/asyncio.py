"""The bridge between greenthreads and coroutines on the asyncio hub.

With ``use_hub("asyncio")`` greenthreads and asyncio tasks share one loop,
and each side can wait for the other:

- ``await gt`` in a coroutine waits for the greenthread ``gt`` and returns
  its result or raises its exception (``GreenThread.__await__``);
- ``await_(awaitable)`` in a greenthread (or the main greenlet) blocks it
  until a coroutine, task or future finishes, and returns its result or
  raises its exception;
- ``spawn_for_awaitable(awaitable)`` runs an awaitable as a greenthread.

Cancellation crosses both ways: cancelling a task that awaits a greenthread
kills the greenthread, and killing a greenthread blocked in ``await_`` (or
a ``Timeout`` firing there) cancels what it awaits.  A greenthread killed
while a coroutine awaits it makes that coroutine's await raise
``asyncio.CancelledError``.  Greenthreads and tasks keep their own
``contextvars`` contexts: nothing set on one side leaks to the other.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Generator, TypeVar

from greenlet import GreenletExit, getcurrent

from eventhub.greenthread import GreenThread, spawn
from eventhub.greenthread import _compiled as _greenthread_compiled
from eventhub.hubs import get_hub

T = TypeVar("T")

__all__ = ["await_", "greenthread_future", "hub_loop", "spawn_for_awaitable"]


def hub_loop() -> asyncio.AbstractEventLoop:
    """This thread's hub's asyncio loop; ``RuntimeError`` unless it is an asyncio hub."""
    hub = get_hub()
    loop = getattr(hub, "loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise RuntimeError(
            f"this needs the asyncio hub, and this thread's hub is {type(hub).__name__}: "
            "call eventhub.hubs.use_hub('asyncio') (or set EVENTHUB_HUB=asyncio) first"
        )
    return loop


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
    return _future_on(gt, hub_loop())


def _future_on(gt: GreenThread[T], loop: asyncio.AbstractEventLoop) -> asyncio.Future[T]:
    future: asyncio.Future[T] = loop.create_future()

    def ended(g: GreenThread[T]) -> None:
        if future.done():
            return
        # Only a cancellation needs ``cancelled``: drop it, or setting the
        # outcome would schedule it as one more loop callback for nothing.
        future.remove_done_callback(cancelled)
        try:
            result = g.wait()  # it has ended: returns or raises at once
        except GreenletExit:
            future.cancel()
        except BaseException as e:
            future.set_exception(e)
        else:
            future.set_result(result)

    def cancelled(f: asyncio.Future[T]) -> None:
        if f.cancelled() and not gt.dead:
            gt.kill()

    future.add_done_callback(cancelled)
    gt.link(ended)
    return future


def await_greenthread(gt: GreenThread[T]) -> Generator[Any, None, T]:
    """``GreenThread.__await__``: checks the running loop is the hub's, then awaits.

    The reference: when built, ``GreenThread.__await__`` is its compiled twin
    (eventhub/_greenthread.pyx), and ``_future_on`` is too.
    """
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    loop = getattr(get_hub(), "loop", None)
    if running is not None and loop is running:
        return _future_on(gt, loop).__await__()
    loop = hub_loop()  # raises first if this is no asyncio hub
    raise RuntimeError(
        f"await on a greenthread needs the hub's loop ({loop!r}) running, not {running!r}: "
        "create the asyncio hub from a coroutine on this loop, or run coroutines with eventhub.asyncio.await_"
    )


pure_await_greenthread = await_greenthread
pure_future_on = _future_on
if _greenthread_compiled is not None:
    _future_on = _greenthread_compiled.future_on  # noqa: F811
