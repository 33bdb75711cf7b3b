# Included by _core.pyx (one module: BaseHub's hot paths reach these inline).
# Owns the timer queue's storage and the Timer classes: a 4-ary heap of
# TimerEntry (deadline, sequence, timer) in a C array, the helpers that keep
# it ordered and sized, and Timer / LocalTimer, whose cancel() and firing
# keep the hub's counters.  The queue operations on a hub (add, cancel,
# compact, fire) are in _core_hub_timers.pxi.

cdef inline int _seq_less(TimerEntry *a, TimerEntry *b) noexcept nogil:
    return a.deadline < b.deadline or (a.deadline == b.deadline and a.seq < b.seq)


# The timer queue is a 4-ary heap: half the depth of a binary one, and a
# node's four children share cache lines, which matters once it holds
# hundreds of thousands of timers.  Same algorithm as heapq otherwise.
cdef enum:
    ARITY = 4


cdef void _sift_down(TimerEntry *heap, Py_ssize_t start, Py_ssize_t pos) noexcept nogil:
    # heapq's _siftdown: move heap[pos] up towards start.
    cdef TimerEntry item = heap[pos]
    cdef Py_ssize_t parent
    while pos > start:
        parent = (pos - 1) // ARITY
        if _seq_less(&item, &heap[parent]):
            heap[pos] = heap[parent]
            pos = parent
        else:
            break
    heap[pos] = item


cdef void _sift_up(TimerEntry *heap, Py_ssize_t n, Py_ssize_t pos) noexcept nogil:
    # heapq's _siftup: move the smallest child up until a leaf, then sift down.
    cdef Py_ssize_t start = pos
    cdef TimerEntry item = heap[pos]
    cdef Py_ssize_t child = ARITY * pos + 1
    cdef Py_ssize_t best, last
    while child < n:
        best = child
        last = child + ARITY if child + ARITY <= n else n
        child += 1
        while child < last:
            if _seq_less(&heap[child], &heap[best]):
                best = child
            child += 1
        heap[pos] = heap[best]
        pos = best
        child = ARITY * pos + 1
    heap[pos] = item
    _sift_down(heap, start, pos)


cdef void _heapify(TimerEntry *heap, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    if n < 2:
        return
    for i in range((n - 2) // ARITY, -1, -1):
        _sift_up(heap, n, i)


cdef int _reserve(TimerEntry **arr, Py_ssize_t *cap, Py_ssize_t need) except -1:
    cdef Py_ssize_t new_cap
    cdef TimerEntry *grown
    if need <= cap[0]:
        return 0
    new_cap = cap[0] * 2 if cap[0] else 64
    while new_cap < need:
        new_cap *= 2
    grown = <TimerEntry *>PyMem_Realloc(arr[0], <size_t>new_cap * sizeof(TimerEntry))
    if grown == NULL:
        raise MemoryError()
    arr[0] = grown
    cap[0] = new_cap
    return 0


cdef inline void _detach(PyObject *timer, BaseHub hub) noexcept:
    """The hub drops ``timer`` uncalled: it must forget the (borrowed) hub."""
    cdef object t = <object>timer
    if isinstance(t, Timer) and (<Timer>t)._hub_ptr == <PyObject *>hub:
        (<Timer>t)._hub_ptr = NULL


cdef inline PyObject *_switch_target_of(Timer t) noexcept:
    """The greenlet g a timer would just switch to (its callback is g.switch), else NULL; borrowed."""
    return <PyObject *>t._cb if t._switch_to else switch_target(t._cb)


cdef inline bint _timer_called(PyObject *timer) except -1:
    cdef object t = <object>timer
    if isinstance(t, Timer):
        return (<Timer>t).called
    return bool(t.called)


# ---------------------------------------------------------------------------
# Timers
# ---------------------------------------------------------------------------

# Timers are not tracked by the cyclic GC: a program makes and drops them by
# the hundred thousand, and tracking them made the collector cost about a
# third of scheduling.  A timer drops its callback and arguments as soon as
# it fires or is cancelled, so it cannot keep a cycle alive past that.
# A free list spares the allocator the timer of every sleep(0).
@cython.no_gc
@cython.freelist(256)
cdef class Timer:
    """Call ``cb(*args, **kw)`` once, ``seconds`` after it was scheduled."""

    def __init__(self, seconds, cb, *args, **kw):
        self.seconds = seconds
        self.called = False
        self._is_scheduled = False
        self._hub_ptr = NULL
        self._cb = cb
        self._args = args
        self._kw = kw

    @property
    def scheduled_time(self):
        """When the timer is due on its hub's clock; None until scheduled."""
        return self._scheduled if self._is_scheduled else None

    @scheduled_time.setter
    def scheduled_time(self, value):
        if value is not None:
            self._scheduled = value
        self._is_scheduled = value is not None

    @property
    def pending(self):
        """True while the timer is scheduled and has neither fired nor been cancelled."""
        return not self.called and self._is_scheduled

    cdef void _clear(self) noexcept:
        self._cb = None
        self._args = ()
        self._kw = None
        self._switch_to = False

    cdef int _fire(self) except -1:
        if self.called:
            return 0
        self.called = True
        cb = self._cb
        args = self._args
        kw = self._kw
        target = _switch_target_of(self)
        self._clear()
        assert cb is not None
        if target != NULL:  # g.switch: straight through greenlet's C API
            greenlet_switch(<object>target, <PyObject *>args, <PyObject *>kw if kw else NULL)
        elif kw:
            cb(*args, **kw)
        else:
            cb(*args)
        return 0

    def __call__(self, *unused):
        self._fire()

    def cancel(self):
        """Prevent the callback from running; a no-op if it already ran."""
        self._cancel()

    cdef int _cancel(self) except -1:
        cdef BaseHub hub
        if self.called:
            return 0
        self.called = True
        self._clear()
        if self._hub_ptr != NULL:
            hub = <BaseHub>self._hub_ptr
            if hub._py_timer_canceled:
                hub.timer_canceled(self)
            else:
                hub._timer_canceled()
        return 0

    @property
    def _hub(self):
        """The hub this timer is scheduled on (None if none)."""
        return None if self._hub_ptr == NULL else <object>self._hub_ptr

    def __repr__(self):
        state = "pending" if self.pending else ("done" if self.called else "unscheduled")
        return f"<{type(self).__name__} {self.seconds}s {state}>"


@cython.no_gc
cdef class LocalTimer(Timer):
    """A timer that does not fire once the greenthread that scheduled it died."""

    def __init__(self, seconds, cb, *args, **kw):
        self.greenlet = getcurrent()
        Timer.__init__(self, seconds, cb, *args, **kw)

    @property
    def pending(self):
        g = self.greenlet
        if g is None or _dead(g):
            return False
        return not self.called and self._is_scheduled

    cdef int _fire(self) except -1:
        g = self.greenlet
        if g is None or _dead(g):
            self.called = True
            self._clear()
            return 0
        return Timer._fire(self)

    cdef int _cancel(self) except -1:
        self.greenlet = None
        return Timer._cancel(self)


cdef inline bint _dead(object g) except -1:
    if is_greenlet(g):
        return greenlet_is_dead(g)
    return bool(g.dead)
