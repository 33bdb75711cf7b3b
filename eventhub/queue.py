"""Queues for greenthreads, shaped like the stdlib's: FIFO, LIFO and priority.

``Queue[T]``, ``LifoQueue[T]`` and ``PriorityQueue[T]`` take the stdlib
``queue`` classes' signatures and raise its ``queue.Empty`` and
``queue.Full``.  What they add is order among the waiters: greenthreads
blocked in ``get()`` (or in ``put()`` on a full bounded queue) are served
first come, first served.  An item put while getters wait goes straight to
the oldest of them, and a slot freed while putters wait goes to the oldest
of those; a later ``get()`` or ``put()`` cannot take either first.

They are safe from other OS threads (see ``Queue``), and each waiter is
woken on its own hub.

This is the reference; ``eventhub/_queue.pyx`` is its compiled twin, used
when built (``VARIANT`` says which).
"""

from __future__ import annotations

import collections
import heapq
import threading
from queue import Empty, Full
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from eventhub.hubs._variant import load_compiled
from eventhub.waiting import WaitingLine, as_timeout, check_int

if TYPE_CHECKING:
    # A default (PEP 696) lets `q = Queue()` type-check without an
    # annotation; typing.TypeVar takes one only from 3.13 on.
    from typing_extensions import TypeVar as TypeVarWithDefault

    T = TypeVarWithDefault("T", default=Any)
else:
    T = TypeVar("T")

__all__ = ["Empty", "Full", "LifoQueue", "PriorityQueue", "Queue", "VARIANT"]


class Queue(Generic[T]):
    """A first-in, first-out queue; ``maxsize`` <= 0 means unbounded.

    Waiters are served in the order they came, for ``get()`` and, on a
    bounded queue, for ``put()``.

    Threads: every method may be called from any OS thread.  ``put()``,
    ``put_nowait()``, ``get_nowait()``, ``task_done()``, ``qsize()``,
    ``empty()`` and ``full()`` never block the calling thread for longer
    than a few steps, and a greenthread they wake is woken on its own hub
    (through its ``call_threadsafe()``).  A blocking ``get()``, ``put()`` or
    ``join()`` from a thread that runs no greenthreads parks that thread on
    a hub of its own (``get_hub()`` makes one on first use).

    Items are compared (``PriorityQueue``) under the queue's internal lock:
    their ``__lt__`` must not block.
    """

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = check_int(maxsize, "maxsize")
        self._mutex = threading.Lock()
        self._getters = WaitingLine()
        self._putters = WaitingLine()
        self._joiners = WaitingLine()
        self._unfinished = 0
        self._init_items()

    # -- the storage: what differs between FIFO, LIFO and priority -----------

    def _init_items(self) -> None:
        self._items: Any = collections.deque()

    def _push(self, item: Any) -> None:
        self._items.append(item)

    def _pop(self) -> Any:
        return self._items.popleft()

    def _push_back(self, item: Any) -> None:
        """Return an item ``_pop()`` gave out to where it will come out first."""
        self._items.appendleft(item)

    # -- the API ---------------------------------------------------------------

    @property
    def maxsize(self) -> int:
        """The bound given at construction; 0 (or less) means unbounded."""
        return self._maxsize

    def qsize(self) -> int:
        """How many items the queue holds (not counting items waiting putters bring)."""
        return len(self._items)

    def empty(self) -> bool:
        """True if the queue holds no item."""
        return not self._items

    def full(self) -> bool:
        """True if a bounded queue holds ``maxsize`` items."""
        return 0 < self._maxsize <= len(self._items)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        """Put ``item`` in the queue, waiting while a bounded queue is full.

        With ``block`` False, or when ``timeout`` seconds pass first, raise
        ``queue.Full`` instead of waiting longer.  An item put while
        greenthreads wait in ``get()`` goes to the oldest of them.  Safe
        from any thread: a waiter is woken on its own hub.
        """
        seconds = 0.0 if not block else None if timeout is None else as_timeout(timeout)
        mutex = self._mutex
        mutex.acquire()
        if self._maxsize <= 0 or len(self._items) < self._maxsize:
            # Not full: there are no putters waiting either.  (_accept(), inline.)
            try:
                if not (self._getters and self._getters.serve(item)):
                    self._push(item)
                self._unfinished += 1
            finally:
                mutex.release()
            return
        if seconds == 0.0:
            mutex.release()
            raise Full
        if self._putters.wait(mutex, seconds, None, item) is None:
            raise Full
        # A get() moved the item in; a Timeout or kill landing after that
        # still propagates, but the item stays put.

    def put_nowait(self, item: T) -> None:
        """``put(item, block=False)``: raise ``queue.Full`` rather than wait.  Safe from any thread."""
        self.put(item, False)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Remove and return an item, waiting while the queue is empty.

        With ``block`` False, or when ``timeout`` seconds pass first, raise
        ``queue.Empty`` instead of waiting longer.  Greenthreads waiting
        here get items in the order they came.
        """
        seconds = 0.0 if not block else None if timeout is None else as_timeout(timeout)
        mutex = self._mutex
        mutex.acquire()
        if self._items:
            try:
                item = self._pop()
                if self._putters:  # a slot is free: the oldest putter's item takes it
                    putter = self._putters.take()
                    if putter is not None:
                        self._accept(putter.value)
            finally:
                mutex.release()
            result: T = item
            return result
        if seconds == 0.0:
            mutex.release()
            raise Empty
        getter = self._getters.wait(mutex, seconds, self._give_back)
        if getter is None:
            raise Empty
        handed: T = getter.value
        return handed

    def get_nowait(self) -> T:
        """``get(block=False)``: raise ``queue.Empty`` rather than wait.  Safe from any thread."""
        return self.get(False)

    def task_done(self) -> None:
        """Say one item taken with ``get()`` was dealt with; ``join()`` returns when all were.

        Called more times than items were put, raise ``ValueError``.
        """
        with self._mutex:
            if self._unfinished <= 0:
                raise ValueError("task_done() called too many times")
            self._unfinished -= 1
            if self._unfinished == 0:
                while self._joiners.serve(None):
                    pass

    def join(self) -> None:
        """Wait until every item put has been marked done with ``task_done()``."""
        mutex = self._mutex
        mutex.acquire()
        if self._unfinished == 0:
            mutex.release()
            return
        self._joiners.wait(mutex, None)

    # -- under the mutex ---------------------------------------------------------

    def _accept(self, item: Any) -> None:
        """A new item: to the oldest getter waiting, else into the queue (room was checked)."""
        if not self._getters.serve(item):
            self._push(item)  # a PriorityQueue compares items here: this may raise
        self._unfinished += 1

    def _give_back(self, item: Any) -> None:
        """A getter handed ``item`` left before taking it: to the next getter, else back in front."""
        if not self._getters.serve(item):
            self._push_back(item)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} at {id(self):#x} maxsize={self._maxsize} qsize={len(self._items)} "
            f"getters={len(self._getters)} putters={len(self._putters)}>"
        )


class LifoQueue(Queue[T]):
    """A last-in, first-out queue (a stack), otherwise as ``Queue``."""

    def _init_items(self) -> None:
        self._items = []

    def _push(self, item: Any) -> None:
        self._items.append(item)

    def _pop(self) -> Any:
        return self._items.pop()

    def _push_back(self, item: Any) -> None:
        self._items.append(item)


class PriorityQueue(Queue[T]):
    """A queue that gives out its smallest item first (``heapq`` order), otherwise as ``Queue``.

    Items are typically ``(priority, data)`` tuples.
    """

    def _init_items(self) -> None:
        self._items = []

    def _push(self, item: Any) -> None:
        heapq.heappush(self._items, item)

    def _pop(self) -> Any:
        return heapq.heappop(self._items)

    def _push_back(self, item: Any) -> None:
        heapq.heappush(self._items, item)


#: The reference classes above; ``Queue``, ``LifoQueue`` and ``PriorityQueue``
#: are their compiled twins (eventhub/_queue.pyx) when built.
PureQueue = Queue
PureLifoQueue = LifoQueue
PurePriorityQueue = PriorityQueue
_compiled: Any = load_compiled("_queue", package="eventhub")
if _compiled is not None:
    Queue = _compiled.Queue  # type: ignore[misc]
    LifoQueue = _compiled.LifoQueue  # type: ignore[misc]
    PriorityQueue = _compiled.PriorityQueue  # type: ignore[misc]
#: "compiled" or "pure": which ones ``Queue``, ``LifoQueue`` and ``PriorityQueue`` are.
VARIANT: str = "pure" if _compiled is None else "compiled"
