"""Compiled asyncio hub: the core's listeners and timer heap on an asyncio loop.

The twin of ``eventhub.hubs.asyncio.PureHub`` (read its docstrings for the
design).  Each fd's FdState.mask holds the directions registered with the
loop; a hub pass fires the core's C timer heap, with the core's greenlet
hand-off between due timers.  On a loop that dispatches in C (uvloop), fd
and timer callbacks only note what is due and the next pass switches
(PureHub's module docstring says why).
"""

from libc.math cimport INFINITY
from posix.stat cimport S_ISSOCK, fstat, struct_stat

from eventhub.hubs._core cimport EV_READ, EV_WRITE, BaseHub, FdState

import contextvars

from eventhub.hubs.aioloop import (
    bind_loop, closed_loop_error, dispatches_in_c, drop_stale_registration, file_identity, forget_fd, loop_method,
    queues_io_after_callbacks, refresh_selector, still_ready, unwind,
)
from eventhub.hubs.errors import HubDestroyed


cdef enum:
    PARKED = 1  # FdState.state: registered with the loop, no listener (see PureHub)


cdef class Hub(BaseHub):
    """The asyncio hub, compiled."""

    #: Makes the hub's own loop when none runs in its thread; None means
    #: ``asyncio.new_event_loop`` (a subclass may set e.g. ``uvloop.new_event_loop``).
    loop_factory = None

    cdef public object loop
    cdef public bint owns_loop
    cdef public bint forked_away       # see PureHub._forsake_loop
    cdef object _pass_handle
    cdef object _pass_context          # see PureHub.__init__
    cdef object _timer_handle
    cdef double _timer_deadline
    cdef bint _in_pass
    cdef bint _recheck_io              # see PureHub.__init__
    cdef bint _io_after_callbacks
    cdef Py_ssize_t _nregistered       # fds registered with the loop (FdState.mask != 0)
    cdef dict _files                   # fd -> file_identity() when registered
    cdef bint _io_in_pass              # see PureHub.__init__
    cdef list _ready_io                # fd * 2 + (1 if writable): noted by fd callbacks, for the next pass
    cdef object _waited  # inside wait(): the (fd, direction)s dispatched, else None
    # Bound methods made once: handed to the loop on every registration and pass.
    cdef object _pass_cb
    cdef object _timer_cb
    cdef object _readable_cb
    cdef object _writable_cb

    def __init__(self, clock=None):
        BaseHub.__init__(self, clock)
        loop, adopter = bind_loop(self.loop_factory)
        self.loop = loop
        self.owns_loop = adopter is None
        self._pass_handle = None
        self._pass_context = contextvars.Context()
        self._timer_handle = None
        self._timer_deadline = INFINITY
        self._waited = None
        self._io_after_callbacks = queues_io_after_callbacks(loop)
        self._io_in_pass = dispatches_in_c(loop)
        self._ready_io = []
        self._files = {}
        self._pass_cb = self._loop_pass
        self._timer_cb = self._on_timer
        self._readable_cb = self._on_readable
        self._writable_cb = self._on_writable
        if adopter is not None:
            self.greenlet = adopter
            self.running = True  # for as long as its owner runs the loop

    @property
    def method(self):
        """The kernel mechanism the loop waits with ("epoll" on Linux)."""
        return loop_method(self.loop)

    # -- passes ------------------------------------------------------------------

    cdef int _soon(self) except -1:
        if self._pass_handle is None and self.running:
            try:  # (not is_closed() first: one loop method call per pass less)
                self._pass_handle = self.loop.call_soon(self._pass_cb, context=self._pass_context)
            except RuntimeError:
                if self.loop.is_closed():
                    raise closed_loop_error(self.loop) from None
                raise
        return 0

    def _loop_pass(self):
        """The loop callback ``_soon`` queues: the hub's pass, then arm the next."""
        self._pass_handle = None
        if not self.running:
            return
        if self.stopping:
            self.loop.stop()
            return
        self._in_pass = True
        if self._io_after_callbacks and not self._recheck_io and self._nregistered:
            # (Nothing registered: no fd callback of this poll is queued.)
            self._recheck_io = True
            self.loop.call_soon(self._io_fresh)  # runs before the next poll's handles
        try:
            if self._ready_io:
                self._fire_ready_io()
            self._pass()
            if self._py_wait or self._overridden("wait"):
                self.wait(self._sleep_time())  # an override still sees each pass's wait
        finally:
            self._in_pass = False
        self._arm()

    def _io_fresh(self):
        self._recheck_io = False

    def _on_timer(self):
        self._timer_handle = None
        self._timer_deadline = INFINITY
        if self._io_in_pass:
            self._soon()  # not from inside libuv's timer dispatch
        else:
            self._loop_pass()

    cdef int _arm(self) except -1:
        cdef double when, delay
        if self.closed or self.stopping or self._calls:
            return self._soon()
        if self._timers.heap_len == 0:
            return self._disarm()
        when = self._timers.heap[0].deadline
        delay = when - self._now()
        if delay <= 0:
            return self._soon()
        if self._timer_handle is not None:
            if self._timer_deadline == when:
                return 0
            self._timer_handle.cancel()
        self._timer_deadline = when
        self._timer_handle = self.loop.call_later(delay, self._timer_cb)
        return 0

    cdef int _disarm(self) except -1:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
            self._timer_deadline = INFINITY
        return 0

    cdef double _add_timer(self, object timer) except? -1.0:
        cdef double deadline = BaseHub._add_timer(self, timer)
        # Outside a pass nobody re-arms after this: see PureHub._timer_added.
        if not self._in_pass and deadline < self._timer_deadline:
            self._soon()
        return deadline

    # -- fds ---------------------------------------------------------------------

    cdef int _update_interest(self, int fd) except -1:
        cdef int want = self._interest(fd)
        cdef int have = self._fdstate[fd].mask
        cdef int target
        if self.forked_away:
            return 0
        if want and self._fdstate[fd].state == PARKED:
            self._fdstate[fd].state = 0
            if not self._same_file(fd):  # closed behind the hub's back (and the number maybe reused)
                self._drop(fd)
                have = 0
        # See PureHub._update_interest: a socket's read registration stays parked.
        target = want or (have & EV_READ if self._files.get(fd) is not None else 0)
        if target != have:
            self._register(fd, have, target)
        if target and not want:
            self._fdstate[fd].state = PARKED
        return 0

    cdef int _register(self, int fd, int have, int target) except -1:
        """Change fd's loop registration from ``have`` to ``target``."""
        cdef bint added_reader = False
        if not have:
            # Raises for a closed fd: loops differ on one, refuse it the same way on all.
            self._files[fd] = file_identity(fd)
        loop = self.loop
        if target & EV_READ and not have & EV_READ:
            loop.add_reader(fd, self._readable_cb, fd)
            added_reader = True
        elif have & EV_READ and not target & EV_READ:
            loop.remove_reader(fd)
        if target & EV_WRITE and not have & EV_WRITE:
            try:
                loop.add_writer(fd, self._writable_cb, fd)
            except BaseException:
                if added_reader:
                    loop.remove_reader(fd)  # roll back: add() leaves nothing behind
                raise
        elif have & EV_WRITE and not target & EV_WRITE:
            loop.remove_writer(fd)
        # Python code ran above: index the table afresh (it may have moved).
        self._fdstate[fd].mask = target
        self._nregistered += (target != 0) - (have != 0)
        if not target:
            del self._files[fd]
            drop_stale_registration(loop, fd)
        return 0

    cdef bint _same_file(self, int fd) except -1:
        """Whether the file open on fd is the one its registration was made for."""
        cdef struct_stat st
        if fstat(fd, &st) != 0 or not S_ISSOCK(st.st_mode):
            return False  # closed, or not the socket it was (see file_identity)
        return (st.st_dev, st.st_ino) == self._files.get(fd)

    cdef int _unrecord(self, int fd) except -1:
        """Clear the hub's record of fd's registration; return the directions the loop holds."""
        cdef int have = self._fdstate[fd].mask
        self._fdstate[fd].mask = 0
        self._fdstate[fd].state = 0
        if have:
            self._nregistered -= 1
        self._files.pop(fd, None)
        return have

    cdef int _drop(self, int fd) except -1:
        """Unregister a parked fd from the loop (it fired, or its file changed)."""
        cdef int have = self._unrecord(fd)
        forget_fd(self.loop, fd, have & EV_READ, have & EV_WRITE)
        drop_stale_registration(self.loop, fd)
        return 0

    cdef bint _parked(self, int fd) noexcept:
        return 0 <= fd < self._nslots and self._fdstate[fd].state == PARKED

    cdef int _forget(self, int fd) except -1:
        cdef int have = self._unrecord(fd)
        if self.forked_away:
            return 0
        try:
            forget_fd(self.loop, fd, have & EV_READ, have & EV_WRITE)
        finally:
            if self.closed:
                self._soon()  # the next pass throws IOClosed into the waiters
        return 0

    def _on_readable(self, int fd):
        if self._parked(fd):
            self._drop(fd)  # nobody waits on it: the loop stops reporting it
            return
        if self._waited is not None and self._first_in_wait((fd, False)):
            return
        if self._io_in_pass:
            self._ready_io.append(fd * 2 + 0)
            self._soon()
            return
        if self._recheck_io and not still_ready(fd, False):
            return
        self._fire_read(fd)

    def _on_writable(self, int fd):
        if self._waited is not None and self._first_in_wait((fd, True)):
            return
        if self._io_in_pass:
            self._ready_io.append(fd * 2 + 1)
            self._soon()
            return
        if self._recheck_io and not still_ready(fd, True):
            return
        self._fire_write(fd)

    cdef int _fire_ready_io(self) except -1:
        """Wake the waiters of the fd events noted since the last pass."""
        cdef list ready = self._ready_io
        cdef int fd
        cdef bint write
        self._ready_io = []
        for event in ready:
            fd = event >> 1
            write = event & 1
            # Greenthreads woken before this one may have drained it.
            if not still_ready(fd, write):
                continue
            if write:
                self._fire_write(fd)
            else:
                self._fire_read(fd)
        return 0

    cdef bint _first_in_wait(self, tuple event) except -1:
        """In wait(): True if ``event`` was dispatched already (see PureHub)."""
        if event in self._waited:
            return True
        self._waited.add(event)
        self.loop.stop()
        return False

    # -- the loop ------------------------------------------------------------------

    cdef int _wait(self, double seconds) except -1:
        loop = self.loop
        if loop.is_running():
            return 0  # called from inside the loop: it waits once the pass returns
        self._waited = set()
        stop = loop.call_later(seconds, loop.stop) if seconds > 0 else loop.call_soon(loop.stop)
        try:
            loop.run_forever()
        finally:
            stop.cancel()
            self._waited = None
        if self._ready_io:
            self._fire_ready_io()
        return 0

    def run(self, *a, **kw):
        """The MAINLOOP: run the hub's own loop until ``abort()``."""
        if self.running:
            raise RuntimeError("Already running!")
        if self.destroyed:
            raise HubDestroyed("a destroyed hub cannot run")
        if self.loop.is_running():
            raise RuntimeError("the hub's asyncio loop is already being run by someone else")
        self.running = True
        self.stopping = False
        try:
            self._soon()
            self.loop.run_forever()
            if self.stopping:  # abort(), as the other hubs: pending timers are dropped
                self._clear_timers()
        finally:
            self._loop_ended()

    def _loop_ended(self):
        self.running = False
        self.stopping = False
        self._disarm()
        if self._pass_handle is not None:
            self._pass_handle.cancel()
            self._pass_handle = None
        if self.destroyed and self.owns_loop and not self.loop.is_closed():
            self.loop.close()

    def abort(self, wait=False):
        """Stop the loop after its current pass; with ``wait``, switch to it until then.

        A hub on an adopted loop does not stop that loop (its owner does).
        """
        if self.running and self.owns_loop:
            self.stopping = True
            self._soon()
        BaseHub.abort(self, wait)

    # -- threads, fork, lifetime -----------------------------------------------------

    def call_threadsafe(self, fn, *args):
        """Run ``fn(*args)`` on this hub's thread soon; callable from any thread.

        ``fn`` runs in a hub pass, like a timer callback; the loop is woken
        with ``loop.call_soon_threadsafe``.
        """
        BaseHub.call_threadsafe(self, fn, *args)
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            if self.loop.is_closed():
                raise closed_loop_error(self.loop) from None
            raise

    def _wake(self):
        if self._calls:
            self._soon()

    def _start_waker(self):
        """No waker descriptor: the loop's own (``call_soon_threadsafe``) wakes it."""

    def _reinit_poller(self):
        if not refresh_selector(self.loop):
            # A forked child on a loop that cannot get kernel state of its own
            # (uvloop): destroyed, and never touching the loop again, whose
            # epoll set the parent still uses.
            self.forked_away = True
            self.destroyed = True

    def destroy(self):
        """Drop every registration and timer handle; close the loop if the hub made it."""
        cdef int fd
        if self.destroyed:
            return
        BaseHub.destroy(self)
        for fd in range(self._nslots):
            if self._fdstate[fd].mask:
                try:
                    self._forget(fd)
                except OSError:
                    pass  # closed meanwhile: the loop dropped it itself
        if self.loop.is_closed():
            return
        if self.running and self.owns_loop:
            unwind(self.greenlet)  # run() closes the loop as it ends
            if self.running:  # destroyed from inside the loop: its next pass stops it
                self._soon()
                return
        self._loop_ended()
