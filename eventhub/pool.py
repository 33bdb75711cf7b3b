"""GreenPool: at most ``size`` greenthreads at a time, and ordered maps over them.

``spawn()`` waits while the pool is full, then starts the greenthread;
spawners waiting for room get it in the order they came.  ``imap()`` and
``starmap()`` run a function over iterables in the pool's greenthreads and
yield the results in order, with at most ``size`` calls started and not
yet consumed.

The pool counts its greenthreads with a ``Semaphore`` (the compiled one
when built) and starts them with ``spawn`` (likewise), so it has no
compiled twin of its own.
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Iterable, Iterator, ParamSpec, TypeVar, overload

from greenlet import getcurrent

from eventhub import greenthread, locks
from eventhub.event import Event
from eventhub.greenthread import GreenThread
from eventhub.waiting import check_int

__all__ = ["GreenPool"]

T = TypeVar("T")
P = ParamSpec("P")
A1 = TypeVar("A1")
A2 = TypeVar("A2")
A3 = TypeVar("A3")


class _Failed:
    """What a mapped call returns instead of raising: its exception, raised in order by the iterator."""

    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


def _call_for_map(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    # An exception is the consumer's to see, where its result would have
    # been: returned, it is neither printed as an escaped greenthread
    # error nor lost.  GreenletExit and the like still end the greenthread.
    try:
        return fn(*args)
    except Exception as e:
        return _Failed(e)


class GreenPool:
    """Run at most ``size`` greenthreads at a time.

    ``size`` 0 makes ``spawn()`` wait until ``resize()`` makes room.  The
    pool is meant for the greenthreads of one hub (one OS thread).

    A greenthread of the pool that spawns into the pool waits for room like
    any other spawner: if all of them do so at once, none ever gets it.
    """

    def __init__(self, size: int = 1000) -> None:
        self._size = check_int(size, "size", 0)
        self._slots = locks.Semaphore(self._size)
        self._running: set[GreenThread[Any]] = set()
        self._idle: Event[None] | None = None  # made by waitall(), sent when the last one ends

    @property
    def size(self) -> int:
        """The most greenthreads the pool runs at a time."""
        return self._size

    def running(self) -> int:
        """How many of the pool's greenthreads have been spawned and not ended."""
        return len(self._running)

    def free(self) -> int:
        """How many more greenthreads ``spawn()`` would start without waiting."""
        return max(0, self._slots._value)

    def resize(self, size: int) -> None:
        """Change how many greenthreads may run at once.

        Growing lets waiting spawners in at once, oldest first; shrinking
        kills nothing: the running greenthreads end in their own time, and
        new ones start once fewer than ``size`` run.
        """
        size = check_int(size, "size", 0)
        delta, self._size = size - self._size, size
        self._slots._adjust(delta)

    def spawn(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> GreenThread[T]:
        """Start ``fn(*args, **kwargs)`` in a greenthread of the pool, waiting while it is full.

        Its exception, if any, is printed like any greenthread's and raised
        by its ``wait()``.
        """
        self._slots.acquire()
        try:
            gt = greenthread.spawn(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        self._running.add(gt)
        gt.link(self._ended)
        return gt

    def spawn_n(self, fn: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """``spawn()`` for work whose result nobody waits for; its exception is printed, not lost."""
        self.spawn(fn, *args, **kwargs)

    def _ended(self, gt: GreenThread[Any]) -> None:
        self._running.discard(gt)
        self._slots.release()
        if not self._running and self._idle is not None:
            idle, self._idle = self._idle, None
            idle.send(None)

    def waitall(self) -> None:
        """Wait until every greenthread of the pool has ended, those spawned meanwhile too.

        Called from one of the pool's own greenthreads it could never
        return: ``RuntimeError``.
        """
        if getcurrent() in self._running:
            raise RuntimeError("waitall() from one of the pool's own greenthreads would wait for itself")
        while self._running:
            if self._idle is None:
                self._idle = Event()
            self._idle.wait()

    @overload
    def imap(self, fn: Callable[[A1], T], it1: Iterable[A1], /) -> Iterator[T]: ...
    @overload
    def imap(self, fn: Callable[[A1, A2], T], it1: Iterable[A1], it2: Iterable[A2], /) -> Iterator[T]: ...
    @overload
    def imap(
        self, fn: Callable[[A1, A2, A3], T], it1: Iterable[A1], it2: Iterable[A2], it3: Iterable[A3], /
    ) -> Iterator[T]: ...
    @overload
    def imap(
        self,
        fn: Callable[..., T],
        it1: Iterable[Any],
        it2: Iterable[Any],
        it3: Iterable[Any],
        it4: Iterable[Any],
        /,
        *iterables: Iterable[Any],
    ) -> Iterator[T]: ...

    def imap(self, fn: Callable[..., T], /, *iterables: Iterable[Any]) -> Iterator[T]:
        """``map(fn, *iterables)`` run in the pool: results in order, as they are consumed.

        At most ``size`` calls are started and not yet consumed at any
        time.  A call's exception is raised when its turn comes, which ends
        the iteration; the calls already started still run to their end.
        """
        if not callable(fn):
            raise TypeError(f"imap() needs a callable, not {type(fn).__name__}")
        if not iterables:
            raise TypeError("imap() needs at least one iterable")
        return self._map(fn, zip(*iterables))

    def starmap(self, fn: Callable[..., T], iterable: Iterable[Iterable[Any]]) -> Iterator[T]:
        """``itertools.starmap(fn, iterable)`` run in the pool, as ``imap()``."""
        if not callable(fn):
            raise TypeError(f"starmap() needs a callable, not {type(fn).__name__}")
        return self._map(fn, (tuple(args) for args in iterable))

    def _map(self, fn: Callable[..., T], calls: Iterator[tuple[Any, ...]]) -> Iterator[T]:
        started: collections.deque[GreenThread[Any]] = collections.deque()
        spawn = self.spawn
        for args in calls:
            while len(started) >= self._size and started:
                yield _outcome(started.popleft())
            started.append(spawn(_call_for_map, fn, args))
        while started:
            yield _outcome(started.popleft())

    def __repr__(self) -> str:
        return f"<GreenPool at {id(self):#x} size={self._size} running={len(self._running)}>"


def _outcome(gt: GreenThread[Any]) -> Any:
    result = gt.wait()
    if type(result) is _Failed:
        raise result.exc
    return result
