"""Compiled twins of ``eventhub/locks.py``'s ``Semaphore``, ``BoundedSemaphore`` and ``Lock`` (the reference).

An uncontended ``acquire()``/``release()`` is a mutex and a counter in C;
a contended one parks on the waiting line of ``_waiting.pxi`` (the
compiled twin of ``eventhub/waiting.py``).  ``Condition`` has no twin: it
is the reference's, on whichever ``Lock`` is in use.
"""

include "_waiting.pxi"

from eventhub.waiting import acquire_timeout, check_int


cdef class _Permits(_Waitable):
    """A count of permits and the greenthreads waiting for one, in order
    (see the reference's ``_Permits``: while anyone waits, the count is 0
    or less)."""

    cdef readonly Py_ssize_t _value
    cdef _WaitingLine _waiters

    def __cinit__(self, *args, **kwargs):
        self._waiters = _WaitingLine()

    cdef bint _acquire(self, object seconds) except -1:
        self._lock()
        if self._value > 0:
            self._value -= 1
            self._unlock()
            return True
        if seconds is not None and seconds == 0.0:  # a non-blocking acquire
            self._unlock()
            return False
        return self._waiters.wait(self, seconds, True, None) is not None

    cdef int _serve(self) except -1:
        """Hand available permits to the waiters, oldest first (mutex held)."""
        while self._value > 0 and self._waiters.serve(True):
            self._value -= 1
        return 0

    cdef int _give_back(self, object value) except -1:
        """A waiter handed a permit left before taking it: the permit is released again."""
        self._value += 1
        return self._serve()

    cdef int _release(self, Py_ssize_t n) except -1:
        self._lock()
        try:
            self._check_release(n)
            self._value += n
            self._serve()
        finally:
            self._unlock()
        return 0

    cdef int _check_release(self, Py_ssize_t n) except -1:
        """Raise if releasing ``n`` permits is a mistake (mutex held)."""
        return 0

    def _adjust(self, Py_ssize_t delta):
        """Add ``delta`` permits (fewer if negative: the count may drop below zero)."""
        self._lock()
        try:
            self._value += delta
            self._serve()
        finally:
            self._unlock()

    def locked(self):
        """True if ``acquire()`` would wait."""
        return self._value <= 0

    def __repr__(self):
        return f"<{type(self).__name__} at {id(self):#x} value={self._value} waiters={self._waiters.length()}>"


cdef class Semaphore(_Permits):
    """``value`` permits; ``acquire()`` takes one, waiting while there is none; ``release()`` returns one.

    Waiters get permits in the order they came.  ``release()`` may be
    called from any thread.
    """

    def __init__(self, value=1):
        self._value = check_int(value, "value", 0)

    def acquire(self, blocking=True, timeout=None):
        """Take a permit, waiting up to ``timeout`` seconds (None or -1: no limit); True if taken.

        A non-blocking call (``blocking`` False) returns False at once
        rather than wait, and takes no timeout.
        """
        if timeout is None and blocking is True:
            return self._acquire(None)
        return self._acquire(acquire_timeout(blocking, timeout))

    def release(self, n=1):
        """Return ``n`` permits, handing them to the oldest waiters first.  Safe from any thread."""
        if type(n) is not int or n < 1:
            check_int(n, "n", 1)
        self._release(n)

    def __enter__(self):
        return self._acquire(None)

    def __exit__(self, typ, value, tb):
        self._release(1)


cdef class BoundedSemaphore(Semaphore):
    """A ``Semaphore`` that refuses to hold more than ``value`` permits.

    Releasing one too many (a release without its acquire) raises ``ValueError``.
    """

    cdef Py_ssize_t _initial

    def __init__(self, value=1):
        Semaphore.__init__(self, value)
        self._initial = self._value

    cdef int _check_release(self, Py_ssize_t n) except -1:
        if self._value + n > self._initial:
            raise ValueError("BoundedSemaphore released too many times")
        return 0


cdef class Lock(_Permits):
    """A mutual-exclusion lock owned by the greenthread that acquired it.

    Waiters get the lock in the order they came.  Only the owner may
    ``release()`` it (else ``RuntimeError``); a blocking ``acquire()`` by
    the owner, which could only wait forever, raises ``RuntimeError`` too.
    """

    cdef object _owner

    def __init__(self):
        self._value = 1
        self._owner = None

    def acquire(self, blocking=True, timeout=None):
        """Take the lock, waiting up to ``timeout`` seconds (None or -1: no limit); True if taken."""
        seconds = None if timeout is None and blocking is True else acquire_timeout(blocking, timeout)
        return self._acquire_as(getcurrent(), seconds)

    cdef bint _acquire_as(self, object me, object seconds) except -1:
        if self._owner is me:
            if seconds is not None and seconds == 0.0:
                return False
            raise RuntimeError("this greenthread holds the lock already: acquire() would wait forever")
        if not self._acquire(seconds):
            return False
        self._owner = me
        return True

    def release(self):
        """Release the lock, handing it to the oldest waiter; only its owner may."""
        if self._owner is not getcurrent():
            if self._owner is None:
                raise RuntimeError("release() of an unlocked Lock")
            raise RuntimeError("release() of a Lock held by another greenthread")
        self._owner = None
        self._release(1)

    def _is_owned(self):
        """True if the current greenthread holds the lock."""
        return self._owner is getcurrent()

    def __enter__(self):
        return self._acquire_as(getcurrent(), None)

    def __exit__(self, typ, value, tb):
        self.release()
