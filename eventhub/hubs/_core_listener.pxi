# The compiled core's listener unit (declared in _core_listener.pxd),
# included by _core.pyx: FdListener, one greenthread waiting on one direction
# of one fd, and DebugListener.  The fd-indexed table that holds them, and
# add/remove/fire, are BaseHub's (_core.pyx).

# ---------------------------------------------------------------------------
# Listeners
# ---------------------------------------------------------------------------

@cython.freelist(64)  # one per socket wait
cdef class FdListener:
    """One greenthread waiting for one direction of readiness on one fd."""

    def __init__(self, evtype, fileno, cb, tb, mark_as_closed):
        self.evtype = evtype
        self.fileno = fileno
        self._cb = cb
        self._tb = tb
        self.mark_as_closed = mark_as_closed
        self.spent = False
        self.greenlet = getcurrent()

    cdef int _bind_target(self) except -1:
        """Make the bound g.switch/g.throw a switching listener stands for."""
        g = self._target
        if g is not None:
            self._target = None
            self._cb = _GREENLET_SWITCH.__get__(g, type(g))
            self._tb = _GREENLET_THROW.__get__(g, type(g))
        return 0

    @property
    def cb(self):
        """Called with the fd when it is ready."""
        self._bind_target()
        return self._cb

    @cb.setter
    def cb(self, value):
        self._bind_target()
        self._cb = value

    @property
    def tb(self):
        """Called with an exception (IOClosed) when the fd is closed or reused."""
        self._bind_target()
        return self._tb

    @tb.setter
    def tb(self, value):
        self._bind_target()
        self._tb = value

    def defang(self):
        """Disarm the callback because the fd was closed or reused."""
        self.cb = closed_callback
        if self.mark_as_closed is not None:
            self.mark_as_closed()
        self.spent = True

    def __repr__(self):
        return f"{type(self).__name__}({self.evtype!r}, {self.fileno!r}, {self.cb!r}, {self.tb!r})"


cdef class DebugListener(FdListener):
    """A listener that remembers where it was added (``set_debug_listeners``)."""

    cdef public object where_called

    def __init__(self, *args):
        self.where_called = traceback.format_stack()
        FdListener.__init__(self, *args)

    def __repr__(self):
        return FdListener.__repr__(self) + "\n" + "".join(self.where_called)


cdef PyObject *listener_target(FdListener listener) noexcept:
    if listener._target is not None:
        return <PyObject *>listener._target
    return switch_target(listener._cb)
