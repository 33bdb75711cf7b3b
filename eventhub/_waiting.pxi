# Compiled twin of eventhub/waiting.py (the reference, which says how a
# waiting line serves its waiters in order and wakes them from any thread).
# Included by _queue.pyx and _locks.pyx, so each has its own copy of these
# types and the hot paths stay within one C module.
#
# What differs from the reference is only how, never what:
# - a primitive's mutex is a PyThread lock in the primitive itself
#   (_Waitable), tried without releasing the GIL and waited for with it
#   released (the holder may need the GIL to finish);
# - a line is a list read from a head index (_Ring), not a deque;
# - on a compiled hub, parking and waking are the core's C calls
#   (_switch_from, _schedule_switch) instead of Python method calls.

cimport cython
from cpython.pythread cimport (
    NOWAIT_LOCK,
    WAIT_LOCK,
    PyThread_acquire_lock,
    PyThread_allocate_lock,
    PyThread_free_lock,
    PyThread_get_thread_ident,
    PyThread_release_lock,
    PyThread_type_lock,
)

from eventhub.hubs._core cimport BaseHub, Timer, current_hub
from eventhub.includes.greenlet cimport getcurrent, greenlet_import

from eventhub.hubs.errors import HubDestroyed

greenlet_import()

cdef enum:
    WAITING = 0
    SERVED = 1
    LEFT = 2


@cython.final
cdef class _Ring:
    """A first-in, first-out sequence in a circular buffer: a list of slots
    (its length is the capacity) holding ``_count`` items from ``_head`` on,
    wrapping around; it grows by doubling and shrinks when mostly empty."""

    cdef list _slots
    cdef Py_ssize_t _head
    cdef Py_ssize_t _count

    def __cinit__(self):
        self._slots = []
        self._head = 0
        self._count = 0

    cdef inline Py_ssize_t length(self) noexcept:
        return self._count

    @cython.wraparound(False)
    cdef int push(self, object item) except -1:
        cdef Py_ssize_t capacity = len(self._slots)
        if self._count == capacity:
            self._resize(2 * capacity if capacity else 4)
            capacity = len(self._slots)
        cdef Py_ssize_t i = self._head + self._count
        if i >= capacity:
            i -= capacity
        self._slots[i] = item
        self._count += 1
        return 0

    @cython.wraparound(False)
    cdef object pop_first(self):
        cdef list slots = self._slots
        cdef Py_ssize_t head = self._head
        item = slots[head]
        slots[head] = None
        self._count -= 1
        if self._count == 0:
            self._head = 0
        else:
            head += 1
            self._head = 0 if head == len(slots) else head
            if len(slots) > 64 and 4 * self._count < len(slots):
                self._resize(len(slots) // 2)
        return item

    @cython.wraparound(False)
    cdef int push_first(self, object item) except -1:
        if self._count == len(self._slots):
            self._resize(2 * self._count if self._count else 4)
        self._head = (self._head if self._head else len(self._slots)) - 1
        self._slots[self._head] = item
        self._count += 1
        return 0

    cdef int remove(self, object item) except -1:
        """Take ``item`` (the very object) out; ValueError if it is not there."""
        items = self._in_order()
        cdef Py_ssize_t i
        for i in range(len(items)):
            if items[i] is item:
                del items[i]
                self._count -= 1
                self._relay(items, len(self._slots))
                return 0
        raise ValueError("not in the ring")

    cdef list _in_order(self):
        cdef Py_ssize_t end = self._head + self._count
        if end <= len(self._slots):
            return self._slots[self._head:end]
        return self._slots[self._head:] + self._slots[:end - len(self._slots)]

    cdef int _resize(self, Py_ssize_t capacity) except -1:
        return self._relay(self._in_order(), capacity)

    cdef int _relay(self, list items, Py_ssize_t capacity) except -1:
        """Lay ``items`` out from slot 0 in a buffer of ``capacity`` slots."""
        items.extend([None] * (capacity - len(items)))
        self._slots = items
        self._head = 0
        return 0


cdef class _Waitable:
    """What every compiled primitive has: its mutex, and what to do with a
    value handed to a waiter that left before taking it."""

    cdef PyThread_type_lock _mutex

    def __cinit__(self, *args, **kwargs):
        self._mutex = PyThread_allocate_lock()
        if self._mutex == NULL:
            raise MemoryError("cannot allocate a lock")

    def __dealloc__(self):
        if self._mutex != NULL:
            PyThread_free_lock(self._mutex)
            self._mutex = NULL

    cdef inline int _lock(self) except -1:
        if PyThread_acquire_lock(self._mutex, NOWAIT_LOCK):
            return 0
        with nogil:  # held by another thread, which may need the GIL to let go
            PyThread_acquire_lock(self._mutex, WAIT_LOCK)
        return 0

    cdef inline void _unlock(self) noexcept:
        PyThread_release_lock(self._mutex)

    cdef int _give_back(self, object value) except -1:
        """A waiter handed ``value`` left before taking it (mutex held)."""
        return 0


@cython.final
@cython.freelist(32)
cdef class _Waiter:
    """One parked greenthread (see waiting.Waiter)."""

    cdef object greenlet
    cdef object hub
    cdef unsigned long thread
    cdef object value
    cdef int state
    cdef object wake_timer


def _wake_if_served(_Waiter waiter):
    """A cross-thread wake-up, run by the waiter's hub: it may have left meanwhile."""
    if waiter.state == SERVED:
        waiter.greenlet.switch()


def _expire(_WaitingLine line, _Waitable owner, _Waiter waiter):
    """The waiter's timeout, on its own hub: out of the line, unless served first."""
    owner._lock()
    if waiter.state != WAITING:
        owner._unlock()
        return
    try:
        line._waiters.remove(waiter)
        waiter.state = LEFT
    finally:
        owner._unlock()
    waiter.greenlet.switch()


cdef int _wake(_Waiter waiter) except -1:
    """Mark a waiter taken out of its line served and wake it; 0 if its hub is gone."""
    waiter.state = SERVED
    hub = waiter.hub
    try:
        if waiter.thread == <unsigned long>PyThread_get_thread_ident():
            if isinstance(hub, BaseHub):
                waiter.wake_timer = (<BaseHub>hub)._schedule_switch(0, waiter.greenlet, ())
            else:
                waiter.wake_timer = hub.schedule_call_global(0, waiter.greenlet.switch)
        else:
            hub.call_threadsafe(_wake_if_served, waiter)
    except HubDestroyed:
        waiter.state = LEFT  # its thread replaced or ended its hub: it never resumes
        return 0
    return 1


cdef void _cancel(object timer) noexcept:
    """Cancel a hub timer that has not fired (a wake-up or an expiry)."""
    try:
        if type(timer) is Timer:
            if not (<Timer>timer).called:
                (<Timer>timer)._cancel()
        elif not timer.called:
            timer.cancel()
    except Exception:
        pass  # a third-party hub's timer: nothing more can be done


@cython.final
cdef class _WaitingLine:
    """Parked greenthreads, oldest first (see waiting.WaitingLine).

    Every method is called with the owner's mutex held; ``wait()`` releases it.
    """

    cdef _Ring _waiters

    def __cinit__(self):
        self._waiters = _Ring()

    cdef inline Py_ssize_t length(self) noexcept:
        return self._waiters.length()

    cdef _Waiter wait(self, _Waitable owner, object timeout, bint give_back, object value):
        """Park the current greenthread at the end of the line until served;
        the served _Waiter, or None when ``timeout`` passed first.  If an
        exception comes in after it was served, ``give_back`` says whether
        what it was handed goes back to the owner (``_give_back``)."""
        cdef _Waiter waiter = _Waiter.__new__(_Waiter)
        try:
            hub = current_hub()  # makes this thread's hub on its first use here
            cur = getcurrent()
        except BaseException:
            owner._unlock()
            raise
        waiter.greenlet = cur
        waiter.hub = hub
        waiter.thread = <unsigned long>PyThread_get_thread_ident()
        waiter.value = value
        waiter.state = WAITING
        self._waiters.push(waiter)
        owner._unlock()
        timer = None
        try:
            if timeout is not None:
                timer = _schedule(hub, timeout, _expire, (self, owner, waiter))
            if isinstance(hub, BaseHub):
                while waiter.state == WAITING:
                    (<BaseHub>hub)._switch_from(cur)  # RuntimeError from the hub's own greenlet
            else:
                while waiter.state == WAITING:
                    hub.switch()
        except BaseException:
            self._leave(owner, waiter, give_back)
            raise
        finally:
            if timer is not None:
                _cancel(timer)
        if waiter.state == SERVED:
            waiter.state = LEFT  # taken: a stray cross-thread wake-up finds it gone
            return waiter
        return None

    cdef int _leave(self, _Waitable owner, _Waiter waiter, bint give_back) except -1:
        """An exception came in while ``waiter`` waited: out of the line, and
        what it was handed (if anything, and if ``give_back``) goes back to the owner."""
        owner._lock()
        try:
            if waiter.state == WAITING:
                self._waiters.remove(waiter)
                waiter.state = LEFT
            elif waiter.state == SERVED:
                waiter.state = LEFT
                if waiter.wake_timer is not None:
                    _cancel(waiter.wake_timer)
                if give_back:
                    owner._give_back(waiter.value)
        finally:
            owner._unlock()
        return 0

    cdef bint serve(self, object value) except -1:
        """Hand ``value`` to the oldest waiter and wake it; False if nobody waits."""
        cdef _Waiter waiter
        while self._waiters.length():
            waiter = <_Waiter>self._waiters.pop_first()
            waiter.value = value
            if _wake(waiter):
                return True
        return False

    cdef _Waiter take(self):
        """Wake the oldest waiter, leaving it what it brought; None if nobody waits."""
        cdef _Waiter waiter
        while self._waiters.length():
            waiter = <_Waiter>self._waiters.pop_first()
            if _wake(waiter):
                return waiter
        return None


cdef object _schedule(object hub, object seconds, object fn, tuple args):
    """``hub.schedule_call_global(seconds, fn, *args)``, in C on a compiled hub."""
    if isinstance(hub, BaseHub):
        return (<BaseHub>hub)._schedule_global(seconds, fn, args)
    return hub.schedule_call_global(seconds, fn, *args)
