# The compiled core's timer unit (declared in _core_timer.pxd), included by
# _core.pyx: one C module, so the hub's hot paths reach it inline.
#
# - the timer queue: a 4-ary heap of TimerEntry (deadline, sequence, timer)
#   in a C array, plus the entries added since the last pass; the
#   _queue_* functions add, merge, pop, compact and clear it;
# - Timer and LocalTimer, whose cancel() and firing keep the hub's counters.
#
# When timers are due and how they fire (switching straight to a greenlet)
# is the hub's: BaseHub._fire_timers and _handoff in _core.pyx.

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
# The timer queue
# ---------------------------------------------------------------------------
# Each function keeps the queue consistent before it releases a reference:
# a dropped timer's __del__ may well schedule a timer on the same queue.

cdef inline void _queue_init(TimerQueue *q) noexcept:
    memset(q, 0, sizeof(TimerQueue))
    q.heap_sorted = True


cdef inline int _queue_add(TimerQueue *q, double deadline, object timer) except -1:
    """Add ``timer`` (a new reference) among the entries the next merge heaps."""
    cdef TimerEntry *entry
    _reserve(&q.next, &q.next_cap, q.next_len + 1)
    q.seq += 1
    entry = &q.next[q.next_len]
    entry.deadline = deadline
    entry.seq = q.seq
    entry.timer = <PyObject *>timer
    Py_INCREF(timer)
    q.next_len += 1
    return 0


cdef inline void _queue_rebase(TimerQueue *q) noexcept:
    """Move the heap back to the start of its memory."""
    cdef Py_ssize_t skipped = q.heap - q.heap_mem
    if skipped:
        memmove(q.heap_mem, q.heap, <size_t>q.heap_len * sizeof(TimerEntry))
        q.heap = q.heap_mem
        q.heap_cap += skipped


cdef inline void _queue_pop_first(TimerQueue *q) noexcept:
    """Drop the heap's first entry (the caller took over its reference)."""
    q.heap_len -= 1
    if q.heap_sorted:
        # A sorted array minus its head is still sorted, hence a heap:
        # the heap starts one entry further into its memory.
        q.heap += 1
        q.heap_cap -= 1
    elif q.heap_len:
        q.heap[0] = q.heap[q.heap_len]
        _sift_up(q.heap, q.heap_len, 0)
    if q.heap_len == 0:
        q.heap_sorted = True
        _queue_rebase(q)


cdef inline Py_ssize_t _queue_merge(TimerQueue *q) except -1:
    """Heap the entries added since the last merge; return how many of them
    were called (cancelled) already and were dropped instead."""
    cdef Py_ssize_t i, n = q.next_len, called = 0
    cdef list dropped = None
    cdef bint bulk
    if n == 0:
        return 0
    if q.heap_len + n > q.heap_cap:  # no room past the heap's end
        # Back to the start of its memory, and at most half full after
        # this batch: an entry is moved O(1) times on average, however
        # long a sorted heap keeps popping at one end and growing at the other.
        _queue_rebase(q)
        _reserve(&q.heap, &q.heap_cap, 2 * (q.heap_len + n))
        q.heap_mem = q.heap
    # Many new timers at once: append them all and re-heapify in O(n)
    # rather than sifting each in.  (deadline, seq) is a total order, so
    # timers pop in the same order either way.
    bulk = n > 64 and n > q.heap_len
    for i in range(n):
        if _timer_called(q.next[i].timer):
            called += 1
            if dropped is None:
                dropped = []
            dropped.append(<object>q.next[i].timer)
            Py_DECREF(<object>q.next[i].timer)
            continue
        # Timers added in deadline order (every sleep(0) and spawn, on a
        # monotonic clock) keep the heap a sorted array: no sifting.
        if (q.heap_sorted and q.heap_len
                and _seq_less(&q.next[i], &q.heap[q.heap_len - 1])):
            q.heap_sorted = False
        q.heap[q.heap_len] = q.next[i]
        if not bulk and not q.heap_sorted:
            _sift_down(q.heap, 0, q.heap_len)
        q.heap_len += 1
    q.next_len = 0
    if bulk and not q.heap_sorted:
        _heapify(q.heap, q.heap_len)
    return called


cdef int _queue_compact(TimerQueue *q) except -1:
    """Drop every called (cancelled) entry, heaped or not."""
    cdef Py_ssize_t i, kept
    cdef list dropped = []
    kept = 0
    for i in range(q.heap_len):
        if _timer_called(q.heap[i].timer):
            dropped.append(<object>q.heap[i].timer)
            Py_DECREF(<object>q.heap[i].timer)
        else:
            q.heap[kept] = q.heap[i]
            kept += 1
    q.heap_len = kept
    kept = 0
    for i in range(q.next_len):
        if _timer_called(q.next[i].timer):
            dropped.append(<object>q.next[i].timer)
            Py_DECREF(<object>q.next[i].timer)
        else:
            q.next[kept] = q.next[i]
            kept += 1
    q.next_len = kept
    if not q.heap_sorted:  # a sorted array stays sorted when thinned
        _heapify(q.heap, q.heap_len)
    elif q.heap_len == 0:
        _queue_rebase(q)
    return 0


cdef int _queue_clear(TimerQueue *q, BaseHub hub) except -1:
    """Drop every entry; the hub's uncalled timers forget it."""
    cdef Py_ssize_t i
    cdef list dropped = []
    for i in range(q.heap_len):
        _detach(q.heap[i].timer, hub)
        dropped.append(<object>q.heap[i].timer)
        Py_DECREF(<object>q.heap[i].timer)
    q.heap_len = 0
    q.heap_sorted = True
    _queue_rebase(q)
    for i in range(q.next_len):
        _detach(q.next[i].timer, hub)
        dropped.append(<object>q.next[i].timer)
        Py_DECREF(<object>q.next[i].timer)
    q.next_len = 0
    return 0


cdef void _queue_free(TimerQueue *q, BaseHub hub) noexcept:
    """Release every entry and the queue's memory (the hub is being freed)."""
    cdef Py_ssize_t i
    for i in range(q.heap_len):
        _detach(q.heap[i].timer, hub)
        Py_DECREF(<object>q.heap[i].timer)
    for i in range(q.next_len):
        _detach(q.next[i].timer, hub)
        Py_DECREF(<object>q.next[i].timer)
    PyMem_Free(q.heap_mem)
    PyMem_Free(q.next)
    _queue_init(q)


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
