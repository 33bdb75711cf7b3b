"""Greenthreads: greenlets scheduled by the hub, with results and links."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable, Generator, Generic, ParamSpec, TypeVar

import greenlet
from greenlet import GreenletExit, getcurrent

from eventhub.event import Event
from eventhub.hubs import get_hub
from eventhub.hubs._variant import load_compiled

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
P = ParamSpec("P")

__all__ = ["GreenThread", "GreenletExit", "sleep", "spawn", "spawn_after"]


def sleep(seconds: float = 0) -> None:
    """Suspend the current greenthread for ``seconds``, letting others run.

    ``sleep(0)`` lets every other ready greenthread run and the hub poll
    for I/O once before this one continues.
    """
    hub = get_hub()
    timer = hub.schedule_call_global(seconds, getcurrent().switch)
    try:
        hub.switch()  # raises RuntimeError if called from the hub's own greenlet
    finally:
        if not timer.called:  # woken early (a kill, a Timeout): drop the timer
            timer.cancel()


#: The reference ``sleep`` above; ``sleep`` is its compiled twin
#: (eventhub/_greenthread.pyx) when built.
pure_sleep = sleep
_compiled: Any = load_compiled("_greenthread", package="eventhub")
if _compiled is not None:
    sleep = _compiled.sleep  # noqa: F811


_NOT_DONE: Any = object()  # a greenthread's outcome before it ends


class GreenThread(greenlet.greenlet, Generic[T]):
    """A greenlet the hub starts; ``wait()`` returns its result or re-raises."""

    # Slots, not the instance __dict__: spawn() is mostly the cost of making
    # one of these, and a dict per greenthread is an allocation and four
    # inserts more (greenlet still makes a __dict__ for anyone who asks).
    __slots__ = ("_outcome", "_exit_event", "_links", "_start_timer")

    def __init__(self, parent: greenlet.greenlet) -> None:
        super().__init__(parent=parent)
        self._init()

    def _init(self) -> None:
        # (result, exception) once ended.  The Event and the link list are
        # made only when needed: most greenthreads end before anyone waits.
        self._outcome: Any = _NOT_DONE
        self._exit_event: Event[T] | None = None
        self._links: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] | None = None
        self._start_timer: Any = None

    # A staticmethod, run in the greenthread itself (self is getcurrent()):
    # greenlet then calls it without making a bound method, whose C frame
    # (~150 bytes) it would copy out and back on every switch.
    @staticmethod
    def run(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """The greenthread's body: call ``fn(*args, **kwargs)`` and record how it ended."""
        self: GreenThread[Any] = getcurrent()  # type: ignore[assignment]
        self._start_timer = None
        try:
            result = fn(*args, **kwargs)
        except GreenletExit as e:
            self._finish(None, e)
        except BaseException as e:
            self._finish(None, e)
            hub = get_hub()
            if isinstance(e, hub.SYSTEM_EXCEPTIONS):
                raise  # KeyboardInterrupt/SystemExit: the hub passes them to main
            # Print it here, not by raising it into our parent, the hub: the
            # hub would get it wherever it last switched out, and inside an
            # fd callback that means "remove that descriptor", waking every
            # other waiter on an fd that has nothing to do with this error.
            hub.squelch_generic_exception(sys.exc_info())
        else:
            self._finish(result, None)

    def _finish(self, result: T | None, exc: BaseException | None) -> None:
        self._outcome = (result, exc)
        if self._exit_event is not None:
            self._exit_event.send(result, exc)
        links, self._links = self._links, None
        for fn, args, kwargs in links or ():
            try:
                fn(self, *args, **kwargs)
            except Exception:
                get_hub().squelch_generic_exception(sys.exc_info())

    def wait(self) -> T:
        """Block until the greenthread ends; return its result or raise its exception.

        A killed greenthread raises ``GreenletExit`` (or the kill's exception).
        """
        if self._outcome is _NOT_DONE:
            if self._exit_event is None:
                self._exit_event = Event()
            return self._exit_event.wait()  # type: ignore[return-value]
        result, exc = self._outcome
        if exc is not None:
            raise exc
        return result  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        """``await gt`` in a coroutine on the asyncio hub: its result or exception.

        The coroutine must run on the hub's own loop.  Cancelling the awaiting
        task kills the greenthread (see ``eventhub.asyncio``).
        """
        # Imported here: a program that never awaits a greenthread never loads asyncio.
        from asyncio import get_running_loop

        try:
            running: asyncio.AbstractEventLoop | None = get_running_loop()
        except RuntimeError:
            running = None
        loop = getattr(get_hub(), "loop", None)
        if running is not None and loop is running:
            return _future_on(self, loop).__await__()
        from eventhub.hubs.aioloop import hub_loop  # only this error path needs it

        loop = hub_loop()  # raises first if this is no asyncio hub
        raise RuntimeError(
            f"await on a greenthread needs the hub's loop ({loop!r}) running, not {running!r}: "
            "create the asyncio hub from a coroutine on this loop, or run coroutines with eventhub.asyncio.await_"
        )

    def link(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``fn(self, *args, **kwargs)`` when this greenthread ends (at once if it has)."""
        if self._outcome is not _NOT_DONE:
            fn(self, *args, **kwargs)
        elif self._links is None:
            self._links = [(fn, args, kwargs)]
        else:
            self._links.append((fn, args, kwargs))

    def unlink(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Remove a link added with the same arguments; True if one was removed."""
        try:
            self._links.remove((fn, args, kwargs))  # type: ignore[union-attr]
        except (ValueError, AttributeError):
            return False
        return True

    def kill(self, exc: BaseException | type[BaseException] | None = None) -> None:
        """Raise ``exc`` (default ``GreenletExit``) in the greenthread and let it end.

        Killing one that has not started yet means it never runs.
        """
        if self.dead:
            return
        if exc is None:
            exc = GreenletExit()
        elif isinstance(exc, type):
            exc = exc()
        if not self:  # not started: it must never run
            if self._start_timer is not None:
                self._start_timer.cancel()
                self._start_timer = None
            self.parent = getcurrent()
            try:
                self.throw(exc)  # ends an unstarted greenlet without running it
            except BaseException:
                pass
            self._finish(None, exc)
            return
        hub = get_hub()
        current = getcurrent()
        if current is not hub.greenlet:
            hub.schedule_call_global(0, current.switch)
        self.throw(exc)


def _future_on(gt: GreenThread[T], loop: asyncio.AbstractEventLoop) -> asyncio.Future[T]:
    """An asyncio future of ``loop`` that ends as ``gt`` does: what ``await gt`` awaits.

    Cancelling the future kills ``gt``; ``gt`` killed (``GreenletExit``)
    cancels the future.
    """
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


_new_greenthread = GreenThread.__new__


def spawn(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> GreenThread[T]:
    """Run ``fn(*args, **kwargs)`` in a new greenthread on the next hub pass."""
    return spawn_after(0, fn, *args, **kwargs)


def spawn_after(seconds: float, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> GreenThread[T]:
    """Run ``fn(*args, **kwargs)`` in a new greenthread after ``seconds``."""
    if not callable(fn):
        raise TypeError(f"spawn() needs a callable, not {type(fn).__name__}")
    hub = get_hub()
    # GreenThread(hub.greenlet), minus two Python-level __init__ calls.
    g: GreenThread[T] = _new_greenthread(GreenThread)
    g.parent = hub.greenlet
    g._init()
    g._start_timer = hub.schedule_call_global(seconds, g.switch, fn, args, kwargs)
    return g


#: The reference ``spawn``, ``spawn_after``, ``_future_on`` and GreenThread's
#: ``run``, ``wait``, ``__await__``, ``_finish`` and ``link`` above; the ones
#: in use are their compiled twins (eventhub/_greenthread.pyx) when built,
#: making the same GreenThread objects.
pure_spawn = spawn
pure_spawn_after = spawn_after
pure_run = GreenThread.run
pure_wait = GreenThread.wait
pure_await = GreenThread.__await__
pure_finish = GreenThread._finish
pure_link = GreenThread.link
pure_future_on = _future_on
if _compiled is not None:
    _compiled.use_class(GreenThread, _NOT_DONE, pure_await)
    GreenThread.run = staticmethod(_compiled.run)  # type: ignore[method-assign]
    GreenThread.wait = _compiled.wait  # type: ignore[method-assign]
    GreenThread.__await__ = _compiled.await_greenthread  # type: ignore[method-assign]
    GreenThread._finish = _compiled.finish  # type: ignore[method-assign]
    GreenThread.link = _compiled.link  # type: ignore[method-assign]
    spawn = _compiled.spawn  # noqa: F811
    spawn_after = _compiled.spawn_after  # noqa: F811
    _future_on = _compiled.future_on
