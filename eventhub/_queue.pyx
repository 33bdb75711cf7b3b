"""Compiled twin of ``eventhub/queue.py`` (the reference): the same fair queues.

A hand-off between greenthreads (``put()`` to a waiting ``get()``) is a
mutex, a list append and one hub timer in C; the waiting line is
``_waiting.pxi``, the compiled twin of ``eventhub/waiting.py``.
"""

include "_waiting.pxi"

from heapq import heappop, heappush
from queue import Empty, Full
from types import GenericAlias

from eventhub.waiting import as_timeout, check_int


cdef class Queue(_Waitable):
    """A first-in, first-out queue; ``maxsize`` <= 0 means unbounded.

    Waiters are served in the order they came, for ``get()`` and, on a
    bounded queue, for ``put()``.  Safe from any OS thread: see the
    reference, ``eventhub.queue.PureQueue``.
    """

    cdef Py_ssize_t _maxsize
    cdef _WaitingLine _getters
    cdef _WaitingLine _putters
    cdef _WaitingLine _joiners
    cdef Py_ssize_t _unfinished
    cdef _Ring _ring      # Queue's items
    cdef list _list       # LifoQueue's and PriorityQueue's items

    __class_getitem__ = classmethod(GenericAlias)

    def __init__(self, maxsize=0):
        self._maxsize = check_int(maxsize, "maxsize")
        self._getters = _WaitingLine()
        self._putters = _WaitingLine()
        self._joiners = _WaitingLine()
        self._unfinished = 0
        self._init_items()

    # -- the storage: what differs between FIFO, LIFO and priority -----------

    cdef int _init_items(self) except -1:
        self._ring = _Ring()
        return 0

    cdef Py_ssize_t _qsize(self) noexcept:
        return self._ring.length()

    cdef int _push(self, object item) except -1:
        return self._ring.push(item)

    cdef object _pop(self):
        return self._ring.pop_first()

    cdef int _push_back(self, object item) except -1:
        return self._ring.push_first(item)

    # -- the API ---------------------------------------------------------------

    @property
    def maxsize(self):
        """The bound given at construction; 0 (or less) means unbounded."""
        return self._maxsize

    def qsize(self):
        """How many items the queue holds (not counting items waiting putters bring)."""
        return self._qsize()

    def empty(self):
        """True if the queue holds no item."""
        return self._qsize() == 0

    def full(self):
        """True if a bounded queue holds ``maxsize`` items."""
        return 0 < self._maxsize <= self._qsize()

    def put(self, item, block=True, timeout=None):
        """Put ``item`` in the queue, waiting while a bounded queue is full.

        With ``block`` False, or when ``timeout`` seconds pass first, raise
        ``queue.Full`` instead of waiting longer.  An item put while
        greenthreads wait in ``get()`` goes to the oldest of them.  Safe
        from any thread: a waiter is woken on its own hub.
        """
        cdef bint at_once = not block
        seconds = None
        if block and timeout is not None:
            seconds = as_timeout(timeout)
            at_once = seconds == 0.0
        self._lock()
        if self._maxsize <= 0 or self._qsize() < self._maxsize:
            try:
                self._accept(item)
            finally:
                self._unlock()
            return
        if at_once:
            self._unlock()
            raise Full
        if self._putters.wait(self, seconds, False, item) is None:
            raise Full

    def put_nowait(self, item):
        """``put(item, block=False)``: raise ``queue.Full`` rather than wait.  Safe from any thread."""
        self.put(item, False)

    def get(self, block=True, timeout=None):
        """Remove and return an item, waiting while the queue is empty.

        With ``block`` False, or when ``timeout`` seconds pass first, raise
        ``queue.Empty`` instead of waiting longer.  Greenthreads waiting
        here get items in the order they came.
        """
        cdef _Waiter waiter
        cdef bint at_once = not block
        seconds = None
        if block and timeout is not None:
            seconds = as_timeout(timeout)
            at_once = seconds == 0.0
        self._lock()
        if self._qsize():
            try:
                item = self._pop()
                if self._putters.length():  # a slot is free: the oldest putter's item takes it
                    waiter = self._putters.take()
                    if waiter is not None:
                        self._accept(waiter.value)
            finally:
                self._unlock()
            return item
        if at_once:
            self._unlock()
            raise Empty
        waiter = self._getters.wait(self, seconds, True, None)
        if waiter is None:
            raise Empty
        return waiter.value

    def get_nowait(self):
        """``get(block=False)``: raise ``queue.Empty`` rather than wait.  Safe from any thread."""
        return self.get(False)

    def task_done(self):
        """Say one item taken with ``get()`` was dealt with; ``join()`` returns when all were.

        Called more times than items were put, raise ``ValueError``.
        """
        self._lock()
        try:
            if self._unfinished <= 0:
                raise ValueError("task_done() called too many times")
            self._unfinished -= 1
            if self._unfinished == 0:
                while self._joiners.serve(None):
                    pass
        finally:
            self._unlock()

    def join(self):
        """Wait until every item put has been marked done with ``task_done()``."""
        self._lock()
        if self._unfinished == 0:
            self._unlock()
            return
        self._joiners.wait(self, None, False, None)

    # -- under the mutex ---------------------------------------------------------

    cdef int _accept(self, object item) except -1:
        """A new item: to the oldest getter waiting, else into the queue (room was checked)."""
        if not self._getters.serve(item):
            self._push(item)
        self._unfinished += 1
        return 0

    cdef int _give_back(self, object item) except -1:
        """A getter handed ``item`` left before taking it: to the next getter, else back in front."""
        if not self._getters.serve(item):
            self._push_back(item)
        return 0

    def __repr__(self):
        return (
            f"<{type(self).__name__} at {id(self):#x} maxsize={self._maxsize} qsize={self._qsize()} "
            f"getters={self._getters.length()} putters={self._putters.length()}>"
        )


cdef class _ListQueue(Queue):
    """A queue keeping its items in a list: what LifoQueue and PriorityQueue share."""

    cdef int _init_items(self) except -1:
        self._list = []
        return 0

    cdef Py_ssize_t _qsize(self) noexcept:
        return len(self._list)


cdef class LifoQueue(_ListQueue):
    """A last-in, first-out queue (a stack), otherwise as ``Queue``."""

    cdef int _push(self, object item) except -1:
        self._list.append(item)
        return 0

    cdef object _pop(self):
        return self._list.pop()

    cdef int _push_back(self, object item) except -1:
        self._list.append(item)
        return 0


cdef class PriorityQueue(_ListQueue):
    """A queue that gives out its smallest item first (``heapq`` order), otherwise as ``Queue``.

    Items are typically ``(priority, data)`` tuples.
    """

    cdef int _push(self, object item) except -1:
        heappush(self._list, item)
        return 0

    cdef object _pop(self):
        return heappop(self._list)

    cdef int _push_back(self, object item) except -1:
        heappush(self._list, item)
        return 0
