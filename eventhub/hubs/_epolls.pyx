"""Compiled epolls hub: epoll_create1/epoll_ctl/epoll_wait called from C.

An fd stays registered with the kernel across consecutive blocks: when its
last listener goes, the registration is kept (no syscall) and only dropped
if the kernel reports an event nobody wants any more.

Re-adding an fd whose registration was idle re-validates it with
EPOLL_CTL_MOD, so an fd closed and reused behind the hub's back (ENOENT) is
registered afresh -- unless the wait comes from the socket object that made
the registration and that object is still open on the same fd: then the
kernel cannot have dropped it (it drops a registration only when the file is
closed), and no syscall is made.  notify_close / mark_as_reopened drop the
registration at once.
"""

import weakref

from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from eventhub.includes.pycompat cimport weakref_is

from eventhub.hubs._core cimport (
    EV_READ,
    EV_WRITE,
    BaseHub,
    FdListener,
    FdState,
    listener_target,
    socket_fileno,
    timeout_ms,
)
from eventhub.includes.greenlet cimport greenlet_import, greenlet_is_dead, greenlet_is_started, greenlet_switch
from eventhub.includes.epoll cimport (
    EPOLL_CLOEXEC,
    EPOLL_CTL_ADD,
    EPOLL_CTL_DEL,
    EPOLL_CTL_MOD,
    EPOLLERR,
    EPOLLHUP,
    EPOLLIN,
    EPOLLOUT,
    EPOLLPRI,
    epoll_create1,
    epoll_ctl,
    epoll_event,
    epoll_wait,
)
from eventhub.includes.posix cimport EBADF, EEXIST, EINTR, ENOENT, close, errno

greenlet_import()

cdef enum:
    # Events fetched per epoll_wait; more ready fds are picked up next pass.
    MAX_EVENTS = 1024
    READ_MASK = EPOLLIN | EPOLLPRI
    WRITE_MASK = EPOLLOUT
    ERROR_MASK = EPOLLERR | EPOLLHUP
    # FdState.state: a listener has needed the registration continuously
    # since the last successful epoll_ctl, so it is known to be current.
    CONFIRMED = 1


cdef inline unsigned int _kernel_mask(int interest) noexcept nogil:
    return ((READ_MASK if interest & EV_READ else 0)
            | (WRITE_MASK if interest & EV_WRITE else 0))


cdef class Hub(BaseHub):
    """The epolls hub, compiled: level-triggered epoll."""

    cdef int _epfd
    cdef epoll_event *_events
    cdef bint _dispatching  # _wait is dispatching _events (a nested wait needs its own)
    # The batch being dispatched: its events _batch[_batch_pos:_batch_len]
    # are still to fire, by _wait or (while _io_batch) by _handoff_io.
    cdef epoll_event *_batch
    cdef int _batch_len
    cdef int _batch_pos
    # fd -> a weakref to the socket whose wait made the registration, or None.
    # A list indexed by fd, not a dict: every socket wait consults it.
    cdef list _owners
    cdef bint _busy    # the last wait found fds ready

    def __cinit__(self, *args, **kw):
        self._epfd = -1
        self._owners = []
        self._events = <epoll_event *>PyMem_Malloc(MAX_EVENTS * sizeof(epoll_event))
        if self._events == NULL:
            raise MemoryError()

    def __init__(self, clock=None):
        BaseHub.__init__(self, clock)
        if self._epfd < 0:
            self._epfd = epoll_create1(EPOLL_CLOEXEC)
            if self._epfd < 0:
                PyErr_SetFromErrno(OSError)

    def __dealloc__(self):
        if self._epfd >= 0:
            close(self._epfd)
        PyMem_Free(self._events)

    def destroy(self):
        """Release the epoll descriptor; the hub is unusable afterwards."""
        BaseHub.destroy(self)
        if self._epfd >= 0:
            close(self._epfd)
            self._epfd = -1

    cdef int _ctl(self, int op, int fd, unsigned int mask) noexcept:
        cdef epoll_event ev
        ev.events = mask
        ev.data.u64 = 0
        ev.data.fd = fd
        return epoll_ctl(self._epfd, op, fd, &ev)

    cdef int _register(self, int fd, int interest) except -1:
        """Make the kernel hold exactly `interest` for fd; raise OSError if it cannot."""
        cdef FdState *st = &self._fdstate[fd]
        cdef unsigned int mask = _kernel_mask(interest)
        cdef int rc
        if st.mask:
            rc = self._ctl(EPOLL_CTL_MOD, fd, mask)
            if rc < 0 and errno == ENOENT:  # closed and reused behind our back
                rc = self._ctl(EPOLL_CTL_ADD, fd, mask)
        else:
            rc = self._ctl(EPOLL_CTL_ADD, fd, mask)
            if rc < 0 and errno == EEXIST:  # a dup of a closed fd is still registered
                rc = self._ctl(EPOLL_CTL_MOD, fd, mask)
        if rc < 0:
            st.mask = 0
            st.state = 0
            PyErr_SetFromErrno(OSError)
        st.mask = interest
        st.state = CONFIRMED
        return 0

    cdef int _update_interest(self, int fd) except -1:
        cdef int interest = self._interest(fd)
        cdef FdState *st = &self._fdstate[fd]
        if not interest:
            st.state = 0  # keep the registration; _wait drops it if it fires
            return 0
        if (st.mask & interest) == interest:
            if st.state == CONFIRMED:
                return 0
            if self._owner_holds(fd):  # may run Python code: st is re-fetched
                self._fdstate[fd].state = CONFIRMED
                return 0
        self._set_owner(fd, None)
        self._register(fd, interest)
        owner = self._io_owner
        if owner is not None:
            self._set_owner(fd, weakref.ref(owner))
        return 0

    cdef bint _owner_holds(self, int fd) except -1:
        """The socket now waiting made fd's registration and is still open on fd."""
        owner = self._io_owner
        if owner is None or fd < 0 or fd >= len(self._owners):
            return False
        ref = self._owners[fd]
        return (ref is not None and weakref_is(ref, owner) == 1
                and socket_fileno(owner) == fd)

    cdef int _set_owner(self, int fd, object ref) except -1:
        """Record (or, with None, drop) the weakref to fd's registering socket."""
        cdef Py_ssize_t known = len(self._owners)
        if fd < 0:
            return 0
        if fd < known:
            self._owners[fd] = ref
        elif ref is not None:
            self._owners.extend([None] * (fd + 1 - known))
            self._owners[fd] = ref
        return 0

    cdef int _forget(self, int fd) except -1:
        cdef FdState *st = &self._fdstate[fd]
        if st.mask:
            self._ctl(EPOLL_CTL_DEL, fd, 0)  # errors: the kernel dropped it already
        st.mask = 0
        st.state = 0
        self._set_owner(fd, None)
        return 0

    cdef int _reconcile(self, int fd) except -1:
        """The kernel reported fd for a direction nobody waits for: narrow it."""
        cdef int interest = self._interest(fd)
        cdef FdState *st = &self._fdstate[fd]
        self._set_owner(fd, None)
        if interest:
            try:
                self._register(fd, interest)
            except OSError:
                pass  # closed under its listener: its own syscall will say so
            return 0
        st.mask = 0
        st.state = 0
        if self._ctl(EPOLL_CTL_DEL, fd, 0) < 0 and (errno == EBADF or errno == ENOENT):
            # The registration belongs to a file closed (or whose fd number
            # was reused) while a dup keeps it open: epoll cannot drop it by
            # number any more, so start a fresh epoll set.
            self._rebuild()
        return 0

    cdef object _handoff_io(self, object cur):
        """Switch from cur straight to the greenlet the batch's next event wakes.

        Switching back to the loop would only make it take the next event
        and, for a greenthread waiting on that fd, switch to it: doing that
        here halves the greenlet switches of a busy batch.  Anything else
        (an error event, both directions, a callback, a narrowing to do)
        goes back to the loop, which then picks up where this left off.
        """
        cdef int fd
        cdef unsigned int events
        cdef PyObject *found
        while self._batch_pos < self._batch_len:
            fd = self._batch[self._batch_pos].data.fd
            events = self._batch[self._batch_pos].events
            if fd < 0 or fd >= self._nslots:
                self._batch_pos += 1  # never registered by us: the loop skips it too
                continue
            if (events & ERROR_MASK or self._fdstate[fd].mask & ~self._interest(fd)
                    or (events & READ_MASK and events & WRITE_MASK)):
                break
            listener = self._readers[fd] if events & READ_MASK else self._writers[fd]
            if listener is None:
                break
            found = listener_target(<FdListener>listener)
            if found == NULL:
                break  # a callback
            target = <object>found  # held: g may drop its listener meanwhile
            if target is cur or greenlet_is_dead(target) or not greenlet_is_started(target):
                break
            self._batch_pos += 1
            self._woken_fd = fd
            args = (fd,)
            return greenlet_switch(target, <PyObject *>args, NULL)
        return greenlet_switch(self._greenlet, NULL, NULL)

    def _reinit_poller(self):
        # After fork the epoll set is shared with the parent: _rebuild never
        # touches it, it drops this process's reference and registers afresh.
        if self._epfd >= 0:
            self._rebuild()

    cdef int _rebuild(self) except -1:
        cdef int fd, interest
        cdef int epfd = epoll_create1(EPOLL_CLOEXEC)
        if epfd < 0:
            PyErr_SetFromErrno(OSError)
        close(self._epfd)
        self._epfd = epfd
        self._owners = []
        for fd in range(self._nslots):
            self._fdstate[fd].mask = 0
            self._fdstate[fd].state = 0
        for fd in range(self._nslots):
            interest = self._interest(fd)
            if interest:
                try:
                    self._register(fd, interest)
                except OSError:
                    self.remove_descriptor(fd)  # wakes its waiters to see the error
        return 0

    cdef int _wait(self, double seconds) except -1:
        cdef int timeout = timeout_ms(seconds)
        cdef int n, i, fd
        cdef unsigned int events
        cdef epoll_event *buf = self._events
        cdef bint nested = self._dispatching
        cdef bint outer_handoff = self._io_batch
        cdef epoll_event *outer_batch = self._batch
        cdef int outer_len = self._batch_len, outer_pos = self._batch_pos
        if self._epfd < 0:
            raise ValueError("I/O operation on a destroyed hub")
        if nested:  # wait() called from a callback: don't clobber the outer batch
            buf = <epoll_event *>PyMem_Malloc(MAX_EVENTS * sizeof(epoll_event))
            if buf == NULL:
                raise MemoryError()
        try:
            # While fds keep being ready, look without blocking first: that
            # keeps the GIL (releasing and retaking it costs more than the
            # syscall); only an empty look is followed by a blocking wait.
            n = 0
            if timeout == 0 or self._busy:
                n = epoll_wait(self._epfd, buf, MAX_EVENTS, 0)
            if n == 0 and timeout != 0:
                with nogil:
                    n = epoll_wait(self._epfd, buf, MAX_EVENTS, timeout)
            self._busy = n > 0
            if n < 0:
                if errno == EINTR:
                    PyErr_CheckSignals()
                    return 0
                PyErr_SetFromErrno(OSError)
            if n == 0:
                return 0
            if self.debug_blocking:
                self.block_detect_pre()
            self._dispatching = True
            self._batch = buf
            self._batch_len = n
            self._batch_pos = 0
            self._io_batch = True
            try:
                while self._batch_pos < self._batch_len:
                    i = self._batch_pos
                    self._batch_pos += 1
                    fd = buf[i].data.fd
                    events = buf[i].events
                    if fd < 0 or fd >= self._nslots:
                        continue  # never registered by us
                    if self._fdstate[fd].mask & ~self._interest(fd):
                        self._reconcile(fd)
                    if events & (READ_MASK | ERROR_MASK):
                        self._fire_read(fd)
                    if events & (WRITE_MASK | ERROR_MASK):
                        self._fire_write(fd)
            finally:
                self._dispatching = nested
                self._io_batch = outer_handoff
                self._batch = outer_batch
                self._batch_len = outer_len
                self._batch_pos = outer_pos
            if self.debug_blocking:
                self.block_detect_post()
        finally:
            if nested:
                PyMem_Free(buf)
        return 0
