# The compiled core's C-level interface: what another Cython module may
# cimport to build a hub backend.
#
# A backend is a cdef subclass of BaseHub that overrides only the three hooks
# marked HOOK below; everything else (listeners, timers, the run loop,
# switching) is the core's.  This interface is STABLE: the hooks, the helpers
# for backends and the C API keep their names and signatures; anything new is
# added, never renamed (rebuild backends after updating eventhub).
#
#     from eventhub.hubs._core cimport BaseHub, FdState, EV_READ, EV_WRITE
#
#     cdef class Hub(BaseHub):
#         def __init__(self, clock=None):
#             BaseHub.__init__(self, clock)
#             ...acquire the poller (raise OSError on failure)...
#         cdef int _update_interest(self, int fd) except -1: ...
#         cdef int _forget(self, int fd) except -1: ...
#         cdef int _wait(self, double seconds) except -1: ...
#         def destroy(self): BaseHub.destroy(self); ...release the poller...
#         def _reinit_poller(self): ...after fork: fresh kernel state with every
#                                   live listener; never modify shared state...
#
# The declarations are split as the code is: the timer queue and Timer in
# _core_timer.pxd (code: _core_timer.pxi), FdListener in _core_listener.pxd
# (code: _core_listener.pxi), and BaseHub here (code: _core.pyx).
#
# Rules for hooks:
# - Never keep a FdState pointer, or any borrowed listener, across a call
#   that can run Python code (_fire_read/_fire_write, remove_descriptor, any
#   callback): the slot table may be reallocated meanwhile.
# - fd numbers given to hooks are already bounds-checked against the slot
#   table (0 <= fd < _nslots) by the core.

from cpython.object cimport PyObject
from libc.limits cimport INT_MAX

# Interest bits: which directions have a live (primary) listener on an fd.
cdef enum:
    EV_READ = 1
    EV_WRITE = 2

# Per-fd state owned by the backend.  The core allocates one per slot,
# zero-fills new ones and never reads or writes them otherwise.
cdef struct FdState:
    int mask     # e.g. the events the kernel holds for this fd
    int state    # backend-defined (registration flags, an index + 1, ...)
    void *data   # backend-defined; the core never frees it

include "_core_timer.pxd"
include "_core_listener.pxd"


cdef class BaseHub:
    cdef dict __dict__                 # instance attributes, like the pure hub
    cdef object __weakref__            # weak references, like the pure hub

    # -- HOOK: the poller's interest in fd changed (a primary listener was
    # added or removed).  Read the new interest with _interest(fd).  Raise
    # (OSError, ValueError) to refuse a new listener: add() then rolls back.
    # May keep the kernel registration after interest drops to 0 (lazily
    # reconciled in _wait); the core ignores OSError raised on removal paths.
    cdef int _update_interest(self, int fd) except -1
    # -- HOOK: fd is being closed, was reused, or is being dropped: forget
    # everything cached about it now (kernel registration included).  Must
    # not raise OSError for an fd that is already closed.
    cdef int _forget(self, int fd) except -1
    # -- HOOK: wait up to `seconds` (>= 0) for readiness and dispatch it with
    # _fire_read/_fire_write, in the pure backend's order.  On EINTR call
    # PyErr_CheckSignals() and return.
    cdef int _wait(self, double seconds) except -1
    # -- HOOK (optional): switch from cur, which is blocking, straight to the
    # greenlet the batch's next event would wake, when waking it is all the
    # loop would do; else to the loop.  The default always goes to the loop.
    cdef object _handoff_io(self, object cur)

    # -- helpers for backends ------------------------------------------------
    # EV_READ|EV_WRITE bits of the primary listeners on fd (0 if out of range).
    cdef int _interest(self, int fd) noexcept
    # Call fd's reader's/writer's callback (if any), squelching its errors
    # like the pure hub; KeyboardInterrupt/SystemExit propagate.
    cdef int _fire_read(self, int fd) except -1
    cdef int _fire_write(self, int fd) except -1
    # Turn a validated non-negative int into the fd add() files the listener
    # under, before the slot table grows for it.  Overridable (selects
    # refuses fds >= FD_SETSIZE here); call BaseHub._accept_fd from overrides.
    cdef int _accept_fd(self, object fileno) except -1
    # One pass of the loop, all but its wait, and how long that wait may
    # block: the MAINLOOP runs them, and so does a backend whose loop is
    # someone else's (the asyncio hub's loop callback).
    cdef int _pass(self) except -1
    cdef double _sleep_time(self) except? -1.0
    # True while a backend's _wait dispatches a batch of ready fds: then
    # _switch_from lets _handoff_io choose the greenlet to switch to.
    cdef bint _io_batch
    # The fileno of the listener woken last, by _fire or by _handoff_io: the
    # one _fire blames for an error that reaches the loop.
    cdef int _woken_fd
    # While _trampoline adds a listener for an object that owns the fd (a
    # socket): that object.  A backend may trust a registration it made for
    # the same still-open owner without re-validating it with the kernel.
    cdef object _io_owner

    # -- C API used by the compiled twins (_greenthread, _timeout, _net) ------
    # switch() for a caller that holds getcurrent() already (cur).
    cdef object _switch_from(self, object cur)
    # schedule_call_global(seconds, cb, *args) in C (args: a tuple).
    cdef Timer _schedule_global(self, object seconds, object cb, tuple args)
    # schedule_call_global(seconds, g.switch, *args) in C, for a greenlet g.
    cdef Timer _schedule_switch(self, object seconds, object g, tuple args)
    # trampoline() in C: park the current greenthread until fileno is ready
    # (write: for writing); timeout_exc after timeout seconds (None: never);
    # IOClosed if the fd is closed meanwhile.  owner: the object whose
    # fileno() fileno is (see _io_owner), or None.
    cdef object _trampoline(self, object fileno, bint write, object timeout,
                            object timeout_exc, object mark_as_closed, object owner)

    # -- the MAINLOOP greenlet and switching ------------------------------------
    cdef object _greenlet
    cdef public bint stopping
    cdef public bint running
    cdef bint _firing                  # the loop is suspended inside _fire_timers
    cdef double _firing_when           # ... firing the timers due at this time
    # _switch_from()'s unusual cases: the loop greenlet, made ready to switch to from cur.
    cdef object _loop_for(self, object cur)

    # -- the listener table: index fd; None or the primary FdListener --------
    cdef list _readers
    cdef list _writers
    cdef FdState *_fdstate             # backend state, same length
    cdef int _nslots
    cdef dict _queued_r                # fd -> [FdListener] waiting behind the primary
    cdef dict _queued_w
    cdef unsigned long long _order_seq
    cdef public list closed            # obsoleted listeners awaiting IOClosed
    cdef public object lclass
    cdef public bint prevent_multiple_readers
    cdef int _grow(self, int fd) except -1
    # add(); with target (the current greenlet), cb/tb are its own switch/throw
    # (FdListener._target) and are not made unless read.
    cdef object _add_listener(self, object evtype, object fileno, object cb, object tb,
                              object mark_as_closed, object target)
    cdef int _remove(self, object listener) except -1    # remove() in C
    cdef int _obsolete(self, object fileno) except -1
    cdef int _fire(self, FdListener listener) except -1

    # -- timers --------------------------------------------------------------
    cdef TimerQueue _timers
    cdef public Py_ssize_t timers_canceled
    cdef double _add_timer(self, object timer) except? -1.0
    cdef int _timer_canceled(self) except -1
    cdef int _prepare_timers(self) except -1
    cdef int _fire_timers(self, double when) except -1
    # _fire_timers for a timer whose callback is not a plain g.switch: the
    # callback runs with _handoff off.
    cdef int _fire_callback_timer(self, object timer) except -1
    cdef int _clear_timers(self) except -1

    # -- the loop --------------------------------------------------------------
    cdef object _clock
    cdef bint _monotonic               # clock is time.monotonic: read it in C
    cdef public bint debug_exceptions
    cdef public bint debug_blocking
    cdef public object debug_blocking_resolution
    # The SIGALRM handler block detection replaced (a field: an instance
    # __dict__ left empty makes _overridden() a size check).
    cdef public object _old_signal_handler
    cdef double _now(self) except? -1.0
    cdef int _loop_wait(self, double seconds) except -1

    # -- methods a Python subclass or an instance attribute overrides ----------
    cdef bint _py_wait                 # a Python subclass overrides wait()
    cdef bint _py_timer_canceled       # a Python subclass overrides timer_canceled()
    cdef bint _py_io                   # a Python subclass overrides add/remove/switch
    cdef bint _overridden(self, str name) noexcept
    cdef bint _io_overridden(self) noexcept   # _overridden() of add, remove or switch

    # -- lifetime and cross-thread calls ----------------------------------------
    cdef public bint destroyed         # destroy() ran: add()/run()/call_threadsafe() refuse
    cdef object _waker                 # waker.Waker once the loop ran, else None
    cdef object _waker_listener        # its FdListener (hidden from get_readers)
    cdef object _calls                 # deque of (fn, args) from call_threadsafe()


# hubs.get_hub() for the compiled twins: this thread's hub, cached in C.
cdef object current_hub()

# sock.fileno() as a C int (-1 once closed), read from the socket object
# for a socket.socket (its layout is checked at import); any other object's
# fileno() is called.
cdef int socket_fileno(object sock) except? -2

# A poller's timeout: seconds as whole milliseconds, rounded up so the loop
# never wakes before its timer is due; 0 for none, capped at INT_MAX.
cdef inline int timeout_ms(double seconds) noexcept nogil:
    cdef double ms
    if seconds <= 0:
        return 0
    ms = seconds * 1000.0
    if ms >= INT_MAX:
        return INT_MAX
    if ms != <int>ms:
        return <int>ms + 1
    return <int>ms
