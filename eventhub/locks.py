"""Locks for greenthreads, shaped like ``threading``'s: Semaphore, BoundedSemaphore, Lock, Condition.

Waiters are served first come, first served: a permit released while
greenthreads wait goes to the one that has waited longest, and a later
``acquire()`` cannot take it first.  ``acquire(blocking=True,
timeout=None) -> bool``, ``release()`` and ``with`` work as in the stdlib.

Threads: ``Semaphore.release()`` (and ``BoundedSemaphore``'s) may be called
from any OS thread; it wakes a waiting greenthread on that greenthread's
own hub.  So may every other method: a blocking ``acquire()`` from a thread
that runs no greenthreads parks that thread on a hub of its own.  A
``Lock`` belongs to the greenthread (greenlet) that acquired it: only that
one may release it, whichever thread it runs in.

This is the reference; ``eventhub/_locks.pyx`` is the compiled twin of
``Semaphore``, ``BoundedSemaphore`` and ``Lock``, used when built
(``VARIANT`` says which).  ``Condition`` is Python in both: it waits on
its own line and uses whichever ``Lock`` is in use.
"""

from __future__ import annotations

import threading
from time import monotonic
from types import TracebackType
from typing import Any, Callable, TypeVar

from greenlet import getcurrent

from eventhub.hubs._variant import load_compiled
from eventhub.waiting import WaitingLine, acquire_timeout, as_timeout, check_int

T = TypeVar("T")

__all__ = ["BoundedSemaphore", "Condition", "Lock", "Semaphore", "VARIANT"]


class _Permits:
    """A count of permits and the greenthreads waiting for one, in order.

    The invariant that makes it fair: while anyone waits, the count is 0
    or less, so an ``acquire()`` that finds a permit never passes a waiter.
    The count may go below zero (``_adjust``): releases then pay that back
    before anyone is served.
    """

    def __init__(self, value: int) -> None:
        self._value = value
        self._mutex = threading.Lock()
        self._waiters = WaitingLine()

    def _acquire(self, seconds: float | None) -> bool:
        mutex = self._mutex
        mutex.acquire()
        if self._value > 0:
            self._value -= 1
            mutex.release()
            return True
        if seconds == 0.0:
            mutex.release()
            return False
        return self._waiters.wait(mutex, seconds, self._give_back) is not None

    def _serve(self) -> None:
        """Hand available permits to the waiters, oldest first (mutex held)."""
        while self._value > 0 and self._waiters and self._waiters.serve(True):
            self._value -= 1

    def _give_back(self, _: Any) -> None:
        """A waiter handed a permit left before taking it: the permit is released again."""
        self._value += 1
        self._serve()

    def _release(self, n: int) -> None:
        with self._mutex:
            self._check_release(n)
            self._value += n
            self._serve()

    def _check_release(self, n: int) -> None:
        """Raise if releasing ``n`` permits is a mistake (mutex held)."""

    def _adjust(self, delta: int) -> None:
        """Add ``delta`` permits (fewer if negative: the count may drop below zero)."""
        with self._mutex:
            self._value += delta
            self._serve()

    def locked(self) -> bool:
        """True if ``acquire()`` would wait."""
        return self._value <= 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} value={self._value} waiters={len(self._waiters)}>"


class Semaphore(_Permits):
    """``value`` permits; ``acquire()`` takes one, waiting while there is none; ``release()`` returns one.

    Waiters get permits in the order they came.  ``release()`` may be
    called from any thread.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__(check_int(value, "value", 0))

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit, waiting up to ``timeout`` seconds (None or -1: no limit); True if taken.

        A non-blocking call (``blocking`` False) returns False at once
        rather than wait, and takes no timeout.
        """
        return self._acquire(acquire_timeout(blocking, timeout))

    def release(self, n: int = 1) -> None:
        """Return ``n`` permits, handing them to the oldest waiters first.  Safe from any thread."""
        self._release(check_int(n, "n", 1))

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """A ``Semaphore`` that refuses to hold more than ``value`` permits.

    Releasing one too many (a release without its acquire) raises ``ValueError``.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial = self._value

    def _check_release(self, n: int) -> None:
        if self._value + n > self._initial:
            raise ValueError("BoundedSemaphore released too many times")


class Lock(_Permits):
    """A mutual-exclusion lock owned by the greenthread that acquired it.

    Waiters get the lock in the order they came.  Only the owner may
    ``release()`` it (else ``RuntimeError``); a blocking ``acquire()`` by
    the owner, which could only wait forever, raises ``RuntimeError`` too.
    """

    def __init__(self) -> None:
        super().__init__(1)
        self._owner: Any = None

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (None or -1: no limit); True if taken."""
        seconds = acquire_timeout(blocking, timeout)
        me = getcurrent()
        if self._owner is me:
            if seconds == 0.0:
                return False
            raise RuntimeError("this greenthread holds the lock already: acquire() would wait forever")
        if not self._acquire(seconds):
            return False
        self._owner = me
        return True

    def release(self) -> None:
        """Release the lock, handing it to the oldest waiter; only its owner may."""
        if self._owner is not getcurrent():
            if self._owner is None:
                raise RuntimeError("release() of an unlocked Lock")
            raise RuntimeError("release() of a Lock held by another greenthread")
        self._owner = None
        self._release(1)

    def _is_owned(self) -> bool:
        """True if the current greenthread holds the lock."""
        return self._owner is getcurrent()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class Condition:
    """A condition variable on a ``Lock`` (a new one by default), as ``threading.Condition``.

    ``wait()`` releases the lock and waits for ``notify()``; waiters are
    notified in the order they came.  ``wait()``, ``notify()`` and
    ``notify_all()`` need the lock held by the calling greenthread.
    """

    def __init__(self, lock: Lock | None = None) -> None:
        if lock is None:
            lock = Lock()
        elif not isinstance(lock, _LOCK_CLASSES):
            raise TypeError(f"Condition needs an eventhub Lock, not {type(lock).__name__}")
        self._lock = lock
        self._mutex = threading.Lock()
        self._waiters = WaitingLine()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire the underlying lock."""
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        """Release the underlying lock."""
        self._lock.release()

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Release the lock, wait until notified or ``timeout`` seconds passed, take the lock again.

        True if notified, False on timeout.  The lock is held again when
        this returns or raises.
        """
        seconds = as_timeout(timeout)
        if not self._lock._is_owned():
            raise RuntimeError("wait() on a Condition whose lock this greenthread does not hold")
        mutex = self._mutex
        mutex.acquire()
        try:
            # The lock is released once this waiter is in line: a notify()
            # made as soon as it is free cannot miss it.
            notified = self._waiters.wait(mutex, seconds, before_parking=self._lock.release) is not None
        finally:
            self._lock.acquire()
        return notified

    def wait_for(self, predicate: Callable[[], T], timeout: float | None = None) -> T:
        """``wait()`` until ``predicate()`` is true or ``timeout`` seconds passed; its last result."""
        seconds = as_timeout(timeout)
        deadline = None
        result = predicate()
        while not result:
            if seconds is not None:
                if deadline is None:
                    deadline = monotonic() + seconds
                left = deadline - monotonic()
                if left <= 0:
                    break
                self.wait(left)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake the ``n`` greenthreads that have waited longest."""
        check_int(n, "n", 0)
        if not self._lock._is_owned():
            raise RuntimeError("notify() on a Condition whose lock this greenthread does not hold")
        with self._mutex:
            for _ in range(n):
                if not self._waiters.serve(True):
                    break

    def notify_all(self) -> None:
        """Wake every waiting greenthread."""
        self.notify(len(self._waiters))

    def __repr__(self) -> str:
        return f"<Condition at {id(self):#x} on {self._lock!r} waiters={len(self._waiters)}>"

#: The reference classes above; ``Semaphore``, ``BoundedSemaphore`` and
#: ``Lock`` are their compiled twins (eventhub/_locks.pyx) when built.
PureSemaphore = Semaphore
PureBoundedSemaphore = BoundedSemaphore
PureLock = Lock
_compiled: Any = load_compiled("_locks", package="eventhub")
if _compiled is not None:
    Semaphore = _compiled.Semaphore  # type: ignore[misc]
    BoundedSemaphore = _compiled.BoundedSemaphore  # type: ignore[misc]
    Lock = _compiled.Lock  # type: ignore[misc]
#: What a Condition accepts as its lock.
_LOCK_CLASSES: tuple[type[Any], ...] = (PureLock,) if _compiled is None else (PureLock, _compiled.Lock)
#: "compiled" or "pure": which ones ``Semaphore``, ``BoundedSemaphore`` and ``Lock`` are.
VARIANT: str = "pure" if _compiled is None else "compiled"
