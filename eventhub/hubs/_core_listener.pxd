# The compiled core's listener unit, declared: one greenthread waiting on one
# direction of one fd.  Included by _core.pxd; the code is in
# _core_listener.pxi.  The fd-indexed table of listeners is BaseHub's.

cdef class FdListener:
    cdef public object evtype
    cdef public object fileno
    cdef object _cb                    # the cb/tb properties (see _target)
    cdef object _tb
    cdef public object mark_as_closed
    cdef public bint spent
    cdef public object greenlet
    cdef int _fd                       # the C fd the core files it under
    cdef bint _write                   # direction: False read, True write
    cdef unsigned long long _order     # position among primaries (get_readers order)
    # A greenlet g whose cb/tb are greenlet's own g.switch/g.throw, made only
    # if read: the trampoline's listeners skip two bound methods per wait.
    cdef object _target
    cdef int _bind_target(self) except -1


# The greenlet firing this listener switches to (borrowed): its _target, or
# g for a cb that is greenlet's own g.switch; NULL for any other callback.
cdef PyObject *listener_target(FdListener listener) noexcept
