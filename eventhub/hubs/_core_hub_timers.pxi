# Included by _core.pyx, before BaseHub.
# Owns the bodies of BaseHub's timer queue: adding, cancelling, compacting,
# preparing and firing timers on the C heap of _core_timers.pxi, and the
# schedule_call_* fast paths.  Each is a module-level function of `self`,
# which BaseHub's method of the same name calls: Cython cannot include into
# a class body, and a cdef inline call costs nothing.


cdef inline double _hub_add_timer(BaseHub self, object timer) except? -1.0:
    cdef double deadline
    cdef TimerEntry *entry
    if self.destroyed:  # its loop will never run again: the timer would be lost
        raise HubDestroyed("a timer cannot be scheduled on a destroyed hub")
    if isinstance(timer, Timer):
        deadline = self._now() + _as_delay((<Timer>timer).seconds)
    else:
        deadline = self._now() + _as_delay(timer.seconds)
    _reserve(&self._next, &self._next_cap, self._next_len + 1)
    self._timer_seq += 1
    # Timers added while timers fire wait in _next for the next pass.
    entry = &self._next[self._next_len]
    entry.deadline = deadline
    entry.seq = self._timer_seq
    entry.timer = <PyObject *>timer
    Py_INCREF(timer)
    self._next_len += 1
    if isinstance(timer, Timer):
        (<Timer>timer)._scheduled = deadline
        (<Timer>timer)._is_scheduled = True
        (<Timer>timer)._hub_ptr = <PyObject *>self
    return deadline


cdef inline int _hub_timer_canceled(BaseHub self) except -1:
    cdef Py_ssize_t total
    self.timers_canceled += 1
    total = self._heap_len + self._next_len
    if total > COMPACT_MIN_TIMERS and total <= 2 * self.timers_canceled:
        self.timers_canceled = 0
        self._compact_timers()
    return 0


cdef inline int _hub_compact_timers(BaseHub self) except -1:
    # Dropped references are released only once both arrays are
    # consistent again: a __del__ may well schedule a timer.
    cdef Py_ssize_t i, kept
    cdef list dropped = []
    kept = 0
    for i in range(self._heap_len):
        if _timer_called(self._heap[i].timer):
            dropped.append(<object>self._heap[i].timer)
            Py_DECREF(<object>self._heap[i].timer)
        else:
            self._heap[kept] = self._heap[i]
            kept += 1
    self._heap_len = kept
    kept = 0
    for i in range(self._next_len):
        if _timer_called(self._next[i].timer):
            dropped.append(<object>self._next[i].timer)
            Py_DECREF(<object>self._next[i].timer)
        else:
            self._next[kept] = self._next[i]
            kept += 1
    self._next_len = kept
    if not self._heap_sorted:  # a sorted array stays sorted when thinned
        _heapify(self._heap, self._heap_len)
    elif self._heap_len == 0:
        self._rebase_heap()
    return 0


cdef inline int _hub_prepare_timers(BaseHub self) except -1:
    cdef Py_ssize_t i, n = self._next_len
    cdef list dropped = None
    cdef bint bulk
    if n == 0:
        return 0
    if self._heap_len + n > self._heap_cap:  # no room past the heap's end
        # Back to the start of its memory, and at most half full after
        # this batch: an entry is moved O(1) times on average, however
        # long a sorted heap keeps popping at one end and growing at the other.
        self._rebase_heap()
        _reserve(&self._heap, &self._heap_cap, 2 * (self._heap_len + n))
        self._heap_mem = self._heap
    # Many new timers at once: append them all and re-heapify in O(n)
    # rather than sifting each in.  (deadline, seq) is a total order, so
    # timers pop in the same order either way.
    bulk = n > 64 and n > self._heap_len
    for i in range(n):
        if _timer_called(self._next[i].timer):
            self.timers_canceled -= 1
            if dropped is None:
                dropped = []
            dropped.append(<object>self._next[i].timer)
            Py_DECREF(<object>self._next[i].timer)
            continue
        # Timers added in deadline order (every sleep(0) and spawn, on a
        # monotonic clock) keep the heap a sorted array: no sifting.
        if (self._heap_sorted and self._heap_len
                and _seq_less(&self._next[i], &self._heap[self._heap_len - 1])):
            self._heap_sorted = False
        self._heap[self._heap_len] = self._next[i]
        if not bulk and not self._heap_sorted:
            _sift_down(self._heap, 0, self._heap_len)
        self._heap_len += 1
    self._next_len = 0
    if bulk and not self._heap_sorted:
        _heapify(self._heap, self._heap_len)
    return 0


cdef inline void _hub_pop_first(BaseHub self) noexcept:
    """Drop the heap's first entry (the caller took over its reference)."""
    self._heap_len -= 1
    if self._heap_sorted:
        # A sorted array minus its head is still sorted, hence a heap:
        # the heap starts one entry further into its memory.
        self._heap += 1
        self._heap_cap -= 1
    elif self._heap_len:
        self._heap[0] = self._heap[self._heap_len]
        _sift_up(self._heap, self._heap_len, 0)
    if self._heap_len == 0:
        self._heap_sorted = True
        self._rebase_heap()


cdef inline void _hub_rebase_heap(BaseHub self) noexcept:
    """Move the heap back to the start of its memory."""
    cdef Py_ssize_t skipped = self._heap - self._heap_mem
    if skipped:
        memmove(self._heap_mem, self._heap, <size_t>self._heap_len * sizeof(TimerEntry))
        self._heap = self._heap_mem
        self._heap_cap += skipped


cdef inline int _hub_fire_timers(BaseHub self, double when) except -1:
    cdef PyObject *ptr
    while self._heap_len:
        if when < self._heap[0].deadline:
            break
        ptr = self._heap[0].timer
        self._pop_first()
        timer = <object>ptr  # takes a new reference ...
        Py_DECREF(timer)     # ... and gives back the heap's
        if isinstance(timer, Timer):
            if (<Timer>timer).called:
                self.timers_canceled -= 1
                continue
        elif timer.called:
            self.timers_canceled -= 1
            continue
        try:
            if isinstance(timer, Timer) and _switch_target_of(<Timer>timer) != NULL:
                (<Timer>timer)._fire()  # a plain g.switch
            else:
                self._fire_callback_timer(timer)
        except BaseException as e:
            if isinstance(e, self.SYSTEM_EXCEPTIONS):
                raise
            self.squelch_timer_exception(timer, sys.exc_info())
    return 0


cdef inline int _hub_fire_callback_timer(BaseHub self, object timer) except -1:
    """Fire a timer whose callback is not a plain switch.

    The callback runs in the loop's greenlet: if it switches to a
    greenlet that blocks, the callback must go on before the next timer
    fires, so no _handoff meanwhile.
    """
    cdef bint firing = self._firing
    self._firing = False
    try:
        if isinstance(timer, Timer):
            (<Timer>timer)._fire()
        else:
            timer()
    finally:
        self._firing = firing
    return 0


cdef inline int _hub_clear_timers(BaseHub self) except -1:
    cdef Py_ssize_t i
    cdef list dropped = []
    self.timers_canceled = 0  # none is left to count
    for i in range(self._heap_len):
        _detach(self._heap[i].timer, self)
        dropped.append(<object>self._heap[i].timer)
        Py_DECREF(<object>self._heap[i].timer)
    self._heap_len = 0
    self._heap_sorted = True
    self._rebase_heap()
    for i in range(self._next_len):
        _detach(self._next[i].timer, self)
        dropped.append(<object>self._next[i].timer)
        Py_DECREF(<object>self._next[i].timer)
    self._next_len = 0
    return 0


cdef inline Timer _hub_schedule_global(BaseHub self, object seconds, object cb, tuple args):
    cdef Timer t
    if not callable(cb):
        raise TypeError(f"timer callback must be callable, not {type(cb).__name__}")
    t = Timer.__new__(Timer)
    t.seconds = seconds
    t._cb = cb
    t._args = args
    self._add_timer(t)
    return t


cdef inline Timer _hub_schedule_switch(BaseHub self, object seconds, object g, tuple args):
    cdef Timer t
    if not own_method(g, "switch", _GREENLET_SWITCH, &_timer_switch_memo):  # else call whatever g.switch is
        return self._schedule_global(seconds, g.switch, args)
    t = Timer.__new__(Timer)
    t.seconds = seconds
    t._cb = g
    t._args = args
    t._switch_to = True
    self._add_timer(t)
    return t
