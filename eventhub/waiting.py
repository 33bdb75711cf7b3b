"""Waiting lines: greenthreads parked first come, first served, woken from any thread.

Every blocking primitive of the toolkit (``Queue``, ``Semaphore``, ``Lock``,
``Condition``, ``Event``) keeps the greenthreads that wait on it in a
``WaitingLine``, guarded by the primitive's *mutex*: a ``threading.Lock``
held for a few steps at a time and never across a switch, so a plain OS
thread may call into the primitive while greenthreads use it.

What makes the primitives fair and safe across threads is how a waiter is
served.  The server (a ``put()``, a ``release()``, ...) takes the oldest
waiter out of the line, hands it its value there and then (an item, a
permit), and only then wakes it: nobody arriving later can take what was
handed over.  The wake-up is a hub timer when the server runs in the
waiter's own thread, and the waiter's hub's ``call_threadsafe()`` when it
runs in another one, so a greenthread is only ever switched to from its own
thread.  Joining the line and checking whether there is anything to take
happen under the mutex, so a server in another thread can never slip in
between them: there is no lost wake-up.

This is the reference; ``eventhub/_waiting.pxi`` is its compiled twin,
included in the compiled queues (``_queue.pyx``) and locks (``_locks.pyx``).
"""

from __future__ import annotations

import collections
import math
import numbers
import threading
from typing import Any, Callable

from greenlet import getcurrent

from eventhub.hubs import get_hub
from eventhub.hubs.errors import HubDestroyed

__all__ = ["LEFT", "SERVED", "WAITING", "Waiter", "WaitingLine", "acquire_timeout", "as_timeout", "check_int"]

#: A waiter's states: in line; taken out of it and handed its value (a
#: wake-up is on its way); out of the line for good (timed out, gave up,
#: its hub is gone, or it has taken what it was handed).
WAITING, SERVED, LEFT = 0, 1, 2

_get_ident = threading.get_ident


def as_timeout(timeout: Any, minus_one_is_forever: bool = False) -> float | None:
    """``timeout`` checked as a blocking call's timeout: seconds, or None for no limit.

    None and +infinity mean no limit, and so does -1 if
    ``minus_one_is_forever`` (``threading.Lock.acquire``'s convention).  A
    negative number or NaN raises ``ValueError``, anything but a real number
    ``TypeError``.
    """
    if timeout is None:
        return None
    kind = type(timeout)
    if kind is not float and kind is not int and (kind is bool or not isinstance(timeout, numbers.Real)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    seconds = float(timeout)
    if minus_one_is_forever and seconds == -1:
        return None
    if math.isnan(seconds):
        raise ValueError("timeout must be a number of seconds, not NaN")
    if seconds < 0:
        raise ValueError(f"timeout must not be negative (got {timeout!r})")
    if math.isinf(seconds):
        return None
    return seconds


def acquire_timeout(blocking: bool, timeout: Any) -> float | None:
    """The seconds an ``acquire(blocking, timeout)`` may wait: 0.0 if it must not, None for no limit."""
    if not blocking:
        if timeout is not None and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking acquire")
        return 0.0
    return as_timeout(timeout, minus_one_is_forever=True)


def check_int(value: Any, what: str, minimum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``; else TypeError or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be at least {minimum} (got {value})")
    return value


class Waiter:
    """One parked greenthread: where it waits, what it brought and what it was handed.

    Made by ``WaitingLine.wait()``, which sets every attribute.
    """

    __slots__ = ("greenlet", "hub", "thread", "value", "state", "wake_timer")

    greenlet: Any
    hub: Any
    thread: int  # threading.get_ident() of the waiter's thread
    #: What the waiter brings (a putter's item), then what it is handed.
    value: Any
    state: int
    #: The wake-up, when its server ran in the waiter's thread: cancelled
    #: if the waiter leaves before it fires.
    wake_timer: Any


_new_waiter = Waiter.__new__


def _wake_if_served(waiter: Waiter) -> None:
    """A cross-thread wake-up, run by the waiter's hub: it may have left meanwhile."""
    if waiter.state == SERVED:
        waiter.greenlet.switch()


class WaitingLine(collections.deque[Waiter]):
    """Parked greenthreads, oldest first: a deque of Waiters, so that ``len()``
    and truth (is anyone waiting?) cost no Python call.

    Every method is called with the owning primitive's mutex held; ``wait()``
    releases it.
    """

    __slots__ = ()

    def wait(
        self,
        mutex: Any,
        timeout: float | None,
        give_back: Callable[[Any], None] | None = None,
        value: Any = None,
        before_parking: Callable[[], None] | None = None,
    ) -> Waiter | None:
        """Park the current greenthread at the end of the line until served.

        Called holding ``mutex``; returns without it.  ``value`` is what the
        waiter brings (a putter's item).  Returns the served waiter (its
        ``value`` is what it was handed), or None when ``timeout`` seconds
        passed first.  ``before_parking`` runs once the waiter is in line,
        mutex still held (a Condition releases its lock there).

        An exception thrown in meanwhile (a ``Timeout``, a kill) takes the
        waiter out of the line and propagates; if it had been served
        already, ``give_back(value)`` passes on what it was handed (called
        holding the mutex).
        """
        try:
            hub = get_hub()  # makes this thread's hub on its first use here
            waiter = _new_waiter(Waiter)
            waiter.greenlet = getcurrent()
            waiter.hub = hub
            waiter.thread = _get_ident()
            waiter.value = value
            waiter.state = WAITING
            waiter.wake_timer = None
            self.append(waiter)
            if before_parking is not None:
                try:
                    before_parking()
                except BaseException:
                    self.pop()
                    raise
        finally:
            mutex.release()
        timer = None
        try:
            if timeout is not None:
                timer = hub.schedule_call_global(timeout, self._expire, mutex, waiter)
            while waiter.state == WAITING:
                hub.switch()  # raises RuntimeError if called from the hub's own greenlet
        except BaseException:
            with mutex:
                if self._withdraw(waiter) and give_back is not None:
                    give_back(waiter.value)
            raise
        finally:
            if timer is not None and not timer.called:
                timer.cancel()
        if waiter.state == SERVED:
            waiter.state = LEFT  # taken: a stray cross-thread wake-up finds it gone
            return waiter
        return None

    def _expire(self, mutex: Any, waiter: Waiter) -> None:
        """The waiter's timeout, on its own hub: out of the line, unless served first."""
        with mutex:
            if waiter.state != WAITING:
                return  # served in time: its wake-up is on the way
            self.remove(waiter)
            waiter.state = LEFT
        waiter.greenlet.switch()

    def _withdraw(self, waiter: Waiter) -> bool:
        """Take a waiter that is leaving out of the line; True if it had been served."""
        if waiter.state == WAITING:
            self.remove(waiter)
            waiter.state = LEFT
            return False
        if waiter.state == SERVED:
            waiter.state = LEFT
            if waiter.wake_timer is not None:
                waiter.wake_timer.cancel()
            return True
        return False

    def serve(self, value: Any) -> bool:
        """Hand ``value`` to the oldest waiter and wake it; False if nobody waits."""
        while self:
            waiter = self.popleft()
            waiter.value = value
            if _wake(waiter):
                return True
        return False

    def take(self) -> Waiter | None:
        """Wake the oldest waiter, leaving it what it brought (``value``); None if nobody waits."""
        while self:
            waiter = self.popleft()
            if _wake(waiter):
                return waiter
        return None


def _wake(waiter: Waiter) -> bool:
    """Mark a waiter taken out of its line served and wake it; False if its hub is gone."""
    waiter.state = SERVED
    try:
        if waiter.thread == _get_ident():
            waiter.wake_timer = waiter.hub.schedule_call_global(0, waiter.greenlet.switch)
        else:
            waiter.hub.call_threadsafe(_wake_if_served, waiter)
    except HubDestroyed:
        waiter.state = LEFT  # its thread replaced or ended its hub: it never resumes
        return False
    return True
