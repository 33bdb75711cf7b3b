"""Compiled pyevent hub: libevent 2.1's ``event_base``, called from C.

One ``event_base`` per hub, so hubs in several OS threads run independently.
Each fd gets two persistent libevent events (read, write), created when the
fd first gets a listener in that direction and freed when the fd is closed,
reused or the hub destroyed.  libevent's epoll backend is level-triggered,
like every hub: a callback is called on every pass while its fd is ready.

An event stays added (registered with the kernel) when its last listener
goes, and is deleted only if it fires with nobody listening.  Re-adding
interest in an event that stayed added re-validates it (delete + add), since
the fd may have been closed and reused behind the hub's back -- unless the
wait comes from the socket object that made the registration and that
object is still open on the same fd (the core's ``_io_owner``, as in the
epolls hub): then the kernel cannot have dropped it, and no call is made.

A file closed behind the hub while a dup keeps it open stays in the epoll
set under an fd number epoll_ctl can no longer remove; libevent would then
get its events on every pass and spin inside ``event_base_loop`` (it finds
no event of its own for them).  Deleting an event is where that shows: the
delete fails with EBADF/ENOENT (libevent ignores it, errno keeps it), and the
hub then rebuilds the epoll set (``event_reinit``), as the epolls hub does.

No Python code runs inside ``event_base_loop``: libevent's callbacks only
record (fd, direction) in a C array, which ``_wait`` dispatches once the
loop has returned.  So greenlet switches, exceptions and nested waits never
cross libevent's stack, and the loop can run without the GIL.

After fork, ``reinit()`` gives the forking thread's hub a fresh kernel
state (``event_reinit``) and the signal wakeup pipe a fresh pipe; the other
hubs a child inherits share their kernel state with the parent, so they are
never handed to libevent again in the child (freeing them would delete the
parent's registrations), only dropped.

Timers stay in the core's timer queue; ``_wait`` turns its timeout into one
reusable libevent timer event and runs one ``EVLOOP_ONCE`` pass.

Signals: libevent's epoll backend retries ``epoll_wait`` after EINTR, so a
Python signal handler (SIGINT's raises KeyboardInterrupt) would only run
once the wait timed out.  So the first hub to block in the main thread points
Python's ``signal.set_wakeup_fd`` at a pipe of this module, if no one else
set a wakeup fd, and leaves it there for the process's life (hubs come and
go, and an abandoned hub must not keep it): a signal writes a byte to the
pipe, every main-thread hub watches the pipe, its event ends the pass, and
``PyErr_CheckSignals`` runs the handler.  If the wakeup fd belongs to
someone else, blocking waits are cut into short slices instead.  No libevent
signal event is ever installed, so Python's own handlers stay in charge.
"""

import os
import signal
import threading
import weakref

from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from libc.errno cimport EBADF, ENOENT, errno
from libc.stdlib cimport free, malloc
from posix.time cimport timeval
from posix.fcntl cimport F_GETFD, fcntl
from posix.unistd cimport getpid

from eventhub.hubs._core cimport EV_READ, EV_WRITE, BaseHub, FdState, socket_fileno
from eventhub.includes cimport libevent as le

cdef enum:
    # Distinct fds recorded per wait; more ready fds are reported again on
    # the next wait (level-triggered), so none is lost.
    MAX_READY = 4096
    # libevent's epoll backend fetches at least this many events per
    # epoll_wait (its first batch size; it grows the batch when one fills).
    # A pass that reports this many may have left ready fds behind: poll again.
    LIBEVENT_MIN_BATCH = 32
    # ... but at most this many passes per wait.
    MAX_PASSES = 8

# Blocking waits are cut into slices this long (seconds) when the signal
# wakeup fd is someone else's, so a signal handler still runs promptly.
cdef double SIGNAL_SLICE = 0.1

# The pipe Python's signal wakeup fd points at (see the module docstring):
# created once, shared by the main thread's hubs, never closed.
cdef int _wakeup_r = -1
cdef int _wakeup_w = -1


cdef struct Ready:
    int fd
    int what          # libevent EV_READ / EV_WRITE bits


cdef struct Sink:
    # Filled by the C callbacks during event_base_loop, read by _wait.
    Ready *items
    int len
    FdState *fdstate  # the hub's slot table: state = index + 1 in items
    int nslots
    bint signalled    # the signal wakeup pipe became readable


cdef struct FdEvents:
    le.event *read
    le.event *write
    # EV_READ/EV_WRITE (core bits) added and needed continuously since they
    # were last (re-)added: known to match the kernel's registration.
    int confirmed


cdef void _on_io(int fd, short what, void *arg) noexcept nogil:
    # One record per fd per wait, whichever order libevent reports its read
    # and write events in and however many passes report it.
    cdef Sink *sink = <Sink *>arg
    cdef int index
    if fd < 0 or fd >= sink.nslots:
        return  # not an fd of ours
    index = sink.fdstate[fd].state - 1
    if index >= 0:
        sink.items[index].what |= what
    elif sink.len < MAX_READY:
        sink.items[sink.len].fd = fd
        sink.items[sink.len].what = what
        sink.len += 1
        sink.fdstate[fd].state = sink.len


cdef void _on_signal(int fd, short what, void *arg) noexcept nogil:
    (<Sink *>arg).signalled = True


cdef void _on_timeout(int fd, short what, void *arg) noexcept nogil:
    pass  # firing is all it is for: that ends the EVLOOP_ONCE pass


cdef void _quiet_log(int severity, const char *msg) noexcept nogil:
    # libevent would print its warnings (e.g. a failed epoll_ctl on a bad
    # fd) to stderr; every failure is reported as an exception instead.
    pass


le.event_set_log_callback(_quiet_log)

#: The libevent version this module runs on, e.g. "2.1.12-stable".
LIBEVENT_VERSION = le.event_get_version().decode("ascii", "replace")
if le.event_get_version_number() < 0x02010000:
    raise ImportError(f"the pyevent hub needs libevent 2.1 or later, found {LIBEVENT_VERSION}")


cdef inline void _set_timeval(timeval *tv, double seconds) noexcept:
    # Rounded up to the microsecond: never wake before the timer is due.
    cdef long usec
    if seconds > 86400.0 * 365:
        seconds = 86400.0 * 365
    tv.tv_sec = <long>seconds
    usec = <long>((seconds - tv.tv_sec) * 1e6)
    if (seconds - tv.tv_sec) * 1e6 > usec:
        usec += 1
    if usec >= 1000000:
        tv.tv_sec += 1
        usec -= 1000000
    tv.tv_usec = usec


cdef int _raise_errno(int err) except -1:
    if err == 0:
        err = EBADF
    raise OSError(err, os.strerror(err))


cdef class Hub(BaseHub):
    """The pyevent hub: persistent, level-triggered libevent events."""

    cdef le.event_base *_base
    cdef le.event *_timer       # ends a blocking pass at its timeout
    cdef le.event *_signal_ev   # read event on the signal wakeup pipe
    cdef bint _main_thread      # may watch the wakeup pipe (is in the main thread)
    cdef bint _slice_waits      # the wakeup fd is someone else's: wait in slices
    cdef Sink _sink
    cdef bint _dispatching
    cdef dict _owners  # fd -> weakref to the socket whose wait made its registration
    cdef int _pid      # the process whose kernel state _base holds

    def __cinit__(self, *args, **kw):
        self._owners = {}
        self._sink.items = <Ready *>malloc(MAX_READY * sizeof(Ready))
        if self._sink.items == NULL:
            raise MemoryError()

    def __init__(self, clock=None):
        BaseHub.__init__(self, clock)
        if self._base != NULL:
            return
        self._base = le.event_base_new()
        if self._base == NULL:
            raise OSError("libevent could not create an event_base")
        self._pid = getpid()
        self._timer = le.event_new(self._base, -1, 0, _on_timeout, NULL)
        if self._timer == NULL:
            raise MemoryError()
        self._main_thread = threading.current_thread() is threading.main_thread()

    @property
    def method(self):
        """The kernel interface libevent chose, e.g. ``"epoll"``."""
        if self._base == NULL:
            return None
        return le.event_base_get_method(self._base).decode("ascii", "replace")

    def __dealloc__(self):
        self._release()
        free(self._sink.items)

    def destroy(self):
        """Free every event and the event_base; the hub is unusable afterwards."""
        BaseHub.destroy(self)
        self._release()

    def _reinit_poller(self):
        # In a forked child: a fresh epoll set holding every added event.
        # event_reinit never touches the parent's set (it only closes this
        # process's descriptor of it).
        global _wakeup_r, _wakeup_w
        if self._base == NULL:
            return
        if le.event_reinit(self._base) < 0:
            raise OSError("libevent could not reinitialize the event_base after fork")
        self._pid = getpid()
        if self._signal_ev != NULL:
            le.event_free(self._signal_ev)  # deleted from the child's own set
            self._signal_ev = NULL
        if _wakeup_w >= 0:
            # The pipe is shared with the parent: its signal bytes must not
            # wake (or be drained by) the child.  The next blocking wait
            # watches a fresh one.
            old_r, old_w = _wakeup_r, _wakeup_w
            _wakeup_r, _wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                previous = signal.set_wakeup_fd(_wakeup_w, warn_on_full_buffer=False)
                if previous != old_w and previous != -1:
                    signal.set_wakeup_fd(previous)  # someone else's: leave it theirs
            except ValueError:
                pass  # not the main thread: set at the next main-thread wait
            os.close(old_r)
            os.close(old_w)

    cdef void _release(self) noexcept:
        cdef int fd
        if self._base != NULL and self._pid != getpid():
            # Inherited through fork and not reinitialized: the kernel state is
            # the parent's.  Freeing would delete its registrations: drop it.
            self._base = NULL
            self._timer = self._signal_ev = NULL
            if self._fdstate != NULL:
                for fd in range(self._nslots):
                    self._fdstate[fd].data = NULL
                    self._fdstate[fd].mask = 0
        if self._fdstate != NULL:
            for fd in range(self._nslots):
                self._free_events(fd)
        if self._owners is not None:
            self._owners.clear()
        if self._signal_ev != NULL:
            le.event_free(self._signal_ev)
            self._signal_ev = NULL
        if self._timer != NULL:
            le.event_free(self._timer)
            self._timer = NULL
        if self._base != NULL:
            le.event_base_free(self._base)
            self._base = NULL

    cdef bint _free_events(self, int fd) noexcept:
        """Delete and free fd's events; True if the kernel could not drop its registration."""
        global errno
        cdef FdState *st = &self._fdstate[fd]
        cdef FdEvents *evs = <FdEvents *>st.data
        cdef bint stale = False
        cdef int mask = st.mask
        st.mask = 0
        if evs == NULL:
            return False
        if mask:
            errno = 0
            if mask & EV_READ:
                le.event_del(evs.read)
            if mask & EV_WRITE:
                le.event_del(evs.write)
            stale = errno == EBADF or errno == ENOENT
        if evs.read != NULL:
            le.event_free(evs.read)
        if evs.write != NULL:
            le.event_free(evs.write)
        free(evs)
        st.data = NULL
        return stale

    cdef le.event *_event_for(self, int fd, bint write) except NULL:
        """fd's read or write event, created on first use."""
        cdef FdState *st = &self._fdstate[fd]
        cdef FdEvents *evs = <FdEvents *>st.data
        cdef le.event *ev
        if evs == NULL:
            evs = <FdEvents *>malloc(sizeof(FdEvents))
            if evs == NULL:
                raise MemoryError()
            evs.read = evs.write = NULL
            evs.confirmed = 0
            st.data = evs
        ev = evs.write if write else evs.read
        if ev == NULL:
            ev = le.event_new(self._base, fd,
                              (le.EV_WRITE if write else le.EV_READ) | le.EV_PERSIST,
                              _on_io, &self._sink)
            if ev == NULL:
                raise MemoryError()
            if write:
                evs.write = ev
            else:
                evs.read = ev
        return ev

    cdef int _set(self, int fd, int bit, bint on) except -1:
        """Add or delete fd's event for one direction (EV_READ/EV_WRITE)."""
        cdef FdState *st = &self._fdstate[fd]
        global errno
        cdef le.event *ev
        if self._base == NULL:  # destroyed (from a callback, say): nothing is registered
            if on:
                raise ValueError("I/O operation on a destroyed hub")
            st.mask &= ~bit
            return 0
        ev = self._event_for(fd, bit == EV_WRITE)
        if on:
            errno = 0
            if le.event_add(ev, NULL) < 0:
                # epoll_ctl refused the fd (closed: EBADF, a regular file:
                # EPERM, ...); libevent left the event unregistered.
                _raise_errno(errno)
            st.mask |= bit
        else:
            st.mask &= ~bit
            errno = 0
            if le.event_del(ev) < 0:
                raise OSError(f"libevent could not delete the event for fd {fd}")
            if errno == EBADF or errno == ENOENT:
                # fd was closed (or reused) while registered: if a dup keeps
                # the file open, its registration lingers where no delete
                # by number reaches it.
                self._rebuild()
        return 0

    cdef int _update_interest(self, int fd) except -1:
        cdef int interest = self._interest(fd)
        cdef int kept, bit
        cdef FdEvents *evs
        if self._base == NULL:
            if interest:
                raise ValueError("I/O operation on a destroyed hub")
            return 0
        evs = <FdEvents *>self._fdstate[fd].data
        if not interest:
            if evs != NULL:
                evs.confirmed = 0  # stays added; _wait deletes it if it fires
            return 0
        kept = interest & self._fdstate[fd].mask  # added earlier: maybe stale
        if kept and (evs.confirmed & kept) != kept:
            if not self._owner_holds(fd):  # runs Python code: state re-read below
                self._owners.pop(fd, None)
                for bit in (EV_READ, EV_WRITE):
                    if kept & bit:
                        self._set(fd, bit, False)
                        self._set(fd, bit, True)
                self._adopt(fd)
        for bit in (EV_READ, EV_WRITE):
            if interest & bit and not self._fdstate[fd].mask & bit:
                self._set(fd, bit, True)
                self._adopt(fd)
        evs = <FdEvents *>self._fdstate[fd].data  # re-read: Python code ran
        if evs != NULL:
            evs.confirmed = interest
        return 0

    cdef int _adopt(self, int fd) except -1:
        """The registration was just made: remember which socket's wait made it."""
        owner = self._io_owner
        if owner is not None:
            self._owners[fd] = weakref.ref(owner)
        else:
            self._owners.pop(fd, None)
        return 0

    cdef bint _owner_holds(self, int fd) except -1:
        """The socket now waiting made fd's registration and is still open on fd."""
        owner = self._io_owner
        if owner is None:
            return False
        ref = self._owners.get(fd)
        return ref is not None and ref() is owner and socket_fileno(owner) == fd

    cdef int _drop_unwanted(self, int fd) except -1:
        """fd fired for a direction nobody waits for: delete that event."""
        cdef int unwanted = self._fdstate[fd].mask & ~self._interest(fd)
        if unwanted & EV_READ:
            self._set(fd, EV_READ, False)
        if unwanted & EV_WRITE:
            self._set(fd, EV_WRITE, False)
        return 0

    cdef int _forget(self, int fd) except -1:
        # The fd is closed or reused: its events name a file that is gone.
        self._owners.pop(fd, None)
        if self._base != NULL and self._free_events(fd):
            self._rebuild()
        return 0

    cdef int _rebuild(self) except -1:
        """A fresh epoll set holding every added event (libevent's event_reinit)."""
        cdef int fd
        if le.event_reinit(self._base) == 0:
            return 0
        # Some added events name fds closed meanwhile: drop them, and wake
        # their waiters so that their own syscalls report the error.
        for fd in range(self._nslots):
            if self._fdstate[fd].mask and fcntl(fd, F_GETFD) < 0:
                self._free_events(fd)
                self._owners.pop(fd, None)
                if self._interest(fd):
                    self.remove_descriptor(fd)
        return 0

    cdef int _watch_signal_wakeup(self) except -1:
        """Watch the module's signal wakeup pipe, making it Python's wakeup fd if none is set."""
        global _wakeup_r, _wakeup_w
        if _wakeup_w < 0:
            _wakeup_r, _wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            old = signal.set_wakeup_fd(_wakeup_w, warn_on_full_buffer=False)
        except ValueError:  # not the main thread of the main interpreter
            self._main_thread = False
            return 0
        if old != -1 and old != _wakeup_w:
            signal.set_wakeup_fd(old)  # someone else's: give it back
            self._slice_waits = True
            return 0
        self._signal_ev = le.event_new(self._base, _wakeup_r, le.EV_READ | le.EV_PERSIST,
                                       _on_signal, &self._sink)
        if self._signal_ev == NULL:
            raise MemoryError()
        if le.event_add(self._signal_ev, NULL) < 0:
            le.event_free(self._signal_ev)
            self._signal_ev = NULL
            raise OSError("libevent could not watch the signal wakeup pipe")
        return 0

    cdef int _drain_signal_pipe(self) except -1:
        try:
            while os.read(_wakeup_r, 512):
                pass
        except BlockingIOError:
            pass
        return 0

    cdef int _loop(self, double seconds) except -1:
        """One libevent pass: poll, or block up to ``seconds``; adds to the sink."""
        cdef timeval tv
        cdef int rc
        self._sink.fdstate = self._fdstate
        self._sink.nslots = self._nslots
        self._sink.signalled = False
        if seconds <= 0:
            rc = le.event_base_loop(self._base, le.EVLOOP_ONCE | le.EVLOOP_NONBLOCK)
        else:
            _set_timeval(&tv, seconds)
            if le.event_add(self._timer, &tv) < 0:
                raise OSError("libevent could not add the timeout event")
            with nogil:
                rc = le.event_base_loop(self._base, le.EVLOOP_ONCE)
            if le.event_del(self._timer) < 0:
                raise OSError("libevent could not delete the timeout event")
        if rc < 0:
            PyErr_SetFromErrno(OSError)
        if self._sink.signalled:
            self._drain_signal_pipe()
        PyErr_CheckSignals()  # run Python signal handlers; KeyboardInterrupt propagates
        return 0

    cdef int _collect(self, double seconds) except -1:
        """Fill the sink with what is ready within ``seconds``."""
        cdef double slice_
        cdef int passes = 1
        cdef int before
        if seconds > 0 and self._main_thread and self._signal_ev == NULL and not self._slice_waits:
            self._watch_signal_wakeup()
        if seconds > 0 and self._slice_waits:
            # Someone else owns the wakeup fd: wait in short slices.
            while True:
                slice_ = seconds if seconds < SIGNAL_SLICE else SIGNAL_SLICE
                self._loop(slice_)
                seconds -= slice_
                if self._sink.len or seconds <= 0:
                    break
        else:
            self._loop(seconds)
        before = 0
        while self._sink.len - before >= LIBEVENT_MIN_BATCH and passes < MAX_PASSES:
            # A full batch: libevent may have more ready fds than it fetched.
            before = self._sink.len
            self._loop(0)
            passes += 1
        return 0

    cdef int _wait(self, double seconds) except -1:
        cdef Ready *items
        cdef Ready *outer = NULL
        cdef int outer_len = 0
        cdef int n, i, fd, what
        cdef bint nested = self._dispatching
        if self._base == NULL:
            raise ValueError("I/O operation on a destroyed hub")
        if nested:  # wait() called from a callback: don't clobber the outer batch
            outer = self._sink.items
            outer_len = self._sink.len
            self._sink.items = <Ready *>malloc(MAX_READY * sizeof(Ready))
            if self._sink.items == NULL:
                self._sink.items = outer
                raise MemoryError()
        self._sink.len = 0
        try:
            try:
                self._collect(seconds)
            finally:
                # The marks must not outlive this batch (a nested wait,
                # a later one): clear them before any callback runs.
                for i in range(self._sink.len):
                    fd = self._sink.items[i].fd
                    if fd < self._nslots:
                        self._fdstate[fd].state = 0
            n = self._sink.len
            if n == 0:
                return 0
            items = self._sink.items
            if self.debug_blocking:
                self.block_detect_pre()
            self._dispatching = True
            try:
                for i in range(n):
                    fd = items[i].fd
                    what = items[i].what
                    if (fd < self._nslots and self._base != NULL
                            and self._fdstate[fd].mask & ~self._interest(fd)):
                        self._drop_unwanted(fd)
                    if what & le.EV_READ:
                        self._fire_read(fd)
                    if what & le.EV_WRITE:
                        self._fire_write(fd)
            finally:
                self._dispatching = nested
            if self.debug_blocking:
                self.block_detect_post()
        finally:
            if nested:
                free(self._sink.items)
                self._sink.items = outer
                self._sink.len = outer_len
        return 0
