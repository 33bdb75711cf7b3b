"""Compiled poll hub: poll() called from C on a pollfd array kept up to date.

The array is dense (one entry per fd with a listener); each fd's FdState
remembers its index, so adding, changing and dropping interest are O(1).
"""

from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc

from eventhub.hubs._core cimport EV_READ, EV_WRITE, BaseHub, FdState, timeout_ms
from eventhub.includes.poll cimport POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, nfds_t, poll, pollfd
from eventhub.includes.posix cimport EINTR, F_GETFD, errno, fcntl

cdef enum:
    READ_MASK = POLLIN | POLLPRI
    WRITE_MASK = POLLOUT
    ERROR_MASK = POLLERR | POLLHUP


cdef struct Ready:
    int fd
    short revents


cdef class Hub(BaseHub):
    """The poll hub, compiled."""

    cdef pollfd *_pfds
    cdef int _npfds
    cdef int _cap

    def __cinit__(self, *args, **kw):
        self._pfds = NULL
        self._npfds = 0
        self._cap = 0

    def __dealloc__(self):
        PyMem_Free(self._pfds)

    def destroy(self):
        """Forget every registration (poll holds no kernel resource)."""
        cdef int i, fd
        BaseHub.destroy(self)
        for i in range(self._npfds):
            fd = self._pfds[i].fd
            if 0 <= fd < self._nslots:
                self._fdstate[fd].state = 0
        self._npfds = 0

    cdef int _update_interest(self, int fd) except -1:
        cdef int interest = self._interest(fd)
        cdef FdState *st = &self._fdstate[fd]
        cdef short events
        cdef pollfd *grown
        cdef int index
        if not interest:
            return self._forget(fd)
        events = ((READ_MASK if interest & EV_READ else 0)
                  | (WRITE_MASK if interest & EV_WRITE else 0))
        if st.state:
            self._pfds[st.state - 1].events = events
            return 0
        # poll() accepts a closed fd silently (POLLNVAL later): check now.
        if fcntl(fd, F_GETFD) == -1:
            PyErr_SetFromErrno(OSError)
        if self._npfds == self._cap:
            grown = <pollfd *>PyMem_Realloc(
                self._pfds, <size_t>(self._cap * 2 if self._cap else 64) * sizeof(pollfd))
            if grown == NULL:
                raise MemoryError()
            self._pfds = grown
            self._cap = self._cap * 2 if self._cap else 64
        index = self._npfds
        self._pfds[index].fd = fd
        self._pfds[index].events = events
        self._pfds[index].revents = 0
        self._npfds += 1
        self._fdstate[fd].state = index + 1
        return 0

    cdef int _forget(self, int fd) except -1:
        cdef FdState *st = &self._fdstate[fd]
        cdef int index = st.state - 1
        cdef int last = self._npfds - 1
        cdef int moved
        if index < 0 or index > last:
            st.state = 0
            return 0
        st.state = 0
        if index != last:  # fill the hole with the last entry
            self._pfds[index] = self._pfds[last]
            moved = self._pfds[index].fd
            if 0 <= moved < self._nslots:
                self._fdstate[moved].state = index + 1
        self._npfds = last
        return 0

    cdef int _wait(self, double seconds) except -1:
        cdef int timeout = timeout_ms(seconds)
        cdef nfds_t n = <nfds_t>self._npfds
        cdef int rc, i, count, fd
        cdef Ready *ready
        if timeout == 0:
            rc = poll(self._pfds, n, 0)
        else:
            with nogil:
                rc = poll(self._pfds, n, timeout)
        if rc < 0:
            if errno == EINTR:
                PyErr_CheckSignals()
                return 0
            PyErr_SetFromErrno(OSError)
        if rc == 0:
            return 0
        # Callbacks change the pollfd array: dispatch from a copy.
        ready = <Ready *>PyMem_Malloc(<size_t>rc * sizeof(Ready))
        if ready == NULL:
            raise MemoryError()
        try:
            count = 0
            for i in range(<int>n):
                if self._pfds[i].revents and count < rc:
                    ready[count].fd = self._pfds[i].fd
                    ready[count].revents = self._pfds[i].revents
                    count += 1
            if self.debug_blocking:
                self.block_detect_pre()
            for i in range(count):
                fd = ready[i].fd
                if ready[i].revents & POLLNVAL:
                    self.remove_descriptor(fd)
                    continue
                if ready[i].revents & (READ_MASK | ERROR_MASK):
                    self._fire_read(fd)
                if ready[i].revents & (WRITE_MASK | ERROR_MASK):
                    self._fire_write(fd)
            if self.debug_blocking:
                self.block_detect_post()
        finally:
            PyMem_Free(ready)
        return 0
