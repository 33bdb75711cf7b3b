# The compiled core's timer unit, declared: the C timer queue every hub
# keeps and the Timer objects it holds.  Included by _core.pxd (one
# extension module: the hub's hot paths reach the queue inline); the code is
# in _core_timer.pxi.

# One entry of the timer queue: ordered by (deadline, seq); owns a reference.
cdef struct TimerEntry:
    double deadline
    unsigned long long seq
    PyObject *timer

# A hub's timer queue: a 4-ary heap of entries in a C array, and the entries
# added since the hub's last pass, which that pass merges into the heap (so
# a timer added while timers fire never fires in the same pass).
cdef struct TimerQueue:
    TimerEntry *heap           # the live heap: heap_mem, or past popped entries
    TimerEntry *heap_mem       # the heap's memory
    Py_ssize_t heap_len
    Py_ssize_t heap_cap        # entries that fit from heap on
    # While heap_sorted the heap is a sorted array, and popping its first
    # entry moves heap one entry on instead of sifting.
    bint heap_sorted
    TimerEntry *next           # added since the last merge
    Py_ssize_t next_len
    Py_ssize_t next_cap
    unsigned long long seq     # the last sequence number given out


cdef class Timer:
    cdef public object seconds
    cdef public bint called
    cdef double _scheduled             # the deadline, once _is_scheduled
    # The hub holding this timer, borrowed: a timer must not keep its hub
    # alive (the hub's C heap is invisible to the GC, so hub -> timer -> hub
    # would never be collected).  The hub clears it whenever it drops an
    # uncalled timer; only uncalled timers ever use it.
    cdef PyObject *_hub_ptr
    cdef object _cb
    cdef object _args
    cdef object _kw
    cdef void _clear(self) noexcept
    cdef int _fire(self) except -1
    cdef int _cancel(self) except -1       # cancel() in C
    # Set by BaseHub._schedule_switch: _cb is a greenlet g, and firing means
    # g.switch(*_args).  Saves making a bound method per sleep(0) and spawn.
    cdef bint _switch_to
    cdef bint _is_scheduled            # scheduled_time is set (zeroed: no __cinit__ per timer)


cdef class LocalTimer(Timer):
    cdef public object greenlet
