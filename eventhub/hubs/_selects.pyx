"""Compiled selects hub: select() called from C, fds below FD_SETSIZE only.

Master read/write fd_sets are kept up to date as interest changes; each wait
copies them and scans up to the highest watched fd.
"""

from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno

from eventhub.hubs._core cimport EV_READ, EV_WRITE, BaseHub
from eventhub.includes.posix cimport EINTR, F_GETFD, errno, fcntl
from eventhub.includes.select cimport FD_CLR, FD_ISSET, FD_SET, FD_SETSIZE, FD_ZERO, fd_set, select, timeval

from eventhub.hubs.selects import check_selectable

# The longest wait select() is asked for (about 31 years): beyond it, tv_sec could overflow.
cdef double MAX_WAIT = 1e9


cdef class Hub(BaseHub):
    """The selects hub, compiled."""

    cdef fd_set _rset
    cdef fd_set _wset
    cdef int _maxfd  # highest fd in either set, -1 if none

    def __cinit__(self, *args, **kw):
        FD_ZERO(&self._rset)
        FD_ZERO(&self._wset)
        self._maxfd = -1

    def destroy(self):
        """Release the waker (select itself holds no kernel resource)."""
        BaseHub.destroy(self)

    cdef int _accept_fd(self, object fileno) except -1:
        if fileno >= FD_SETSIZE:
            check_selectable(fileno)  # raises the reference's ValueError
        return BaseHub._accept_fd(self, fileno)

    cdef int _update_interest(self, int fd) except -1:
        cdef int interest = self._interest(fd)
        # Drop what is no longer wanted before anything can fail.
        if not interest & EV_READ:
            FD_CLR(fd, &self._rset)
        if not interest & EV_WRITE:
            FD_CLR(fd, &self._wset)
        if not interest:
            self._lower_maxfd()
            return 0
        if fd >= FD_SETSIZE:
            check_selectable(fd)
        if fcntl(fd, F_GETFD) == -1:  # select() would fail for everyone later
            PyErr_SetFromErrno(OSError)
        if interest & EV_READ:
            FD_SET(fd, &self._rset)
        if interest & EV_WRITE:
            FD_SET(fd, &self._wset)
        if fd > self._maxfd:
            self._maxfd = fd
        return 0

    cdef void _lower_maxfd(self) noexcept:
        while self._maxfd >= 0 and not (FD_ISSET(self._maxfd, &self._rset)
                                        or FD_ISSET(self._maxfd, &self._wset)):
            self._maxfd -= 1

    cdef int _forget(self, int fd) except -1:
        if fd < FD_SETSIZE:
            FD_CLR(fd, &self._rset)
            FD_CLR(fd, &self._wset)
            self._lower_maxfd()
        return 0

    cdef int _wait(self, double seconds) except -1:
        cdef fd_set r, w, x
        cdef timeval tv
        cdef int nfds = self._maxfd + 1
        cdef int rc, fd
        cdef long usec
        if seconds > MAX_WAIT:
            seconds = MAX_WAIT
        usec = <long>(seconds * 1e6)
        if usec < seconds * 1e6:
            usec += 1  # rounded up, so the loop never wakes before its timer
        tv.tv_sec = usec // 1000000
        tv.tv_usec = usec % 1000000
        r = self._rset
        w = self._wset
        FD_ZERO(&x)
        for fd in range(nfds):
            if FD_ISSET(fd, &r) or FD_ISSET(fd, &w):
                FD_SET(fd, &x)
        if usec == 0:
            rc = select(nfds, &r, &w, &x, &tv)
        else:
            with nogil:
                rc = select(nfds, &r, &w, &x, &tv)
        if rc < 0:
            if errno == EINTR:
                PyErr_CheckSignals()
                return 0
            # EBADF: an fd was closed while watched. Wake its waiters; their
            # own syscall then reports the error where it can be handled.
            for fd in range(nfds):
                if ((FD_ISSET(fd, &self._rset) or FD_ISSET(fd, &self._wset))
                        and fcntl(fd, F_GETFD) == -1):
                    self.remove_descriptor(fd)
            return 0
        if rc == 0:
            return 0
        if self.debug_blocking:
            self.block_detect_pre()
        for fd in range(nfds):
            if FD_ISSET(fd, &r):
                self._fire_read(fd)
        for fd in range(nfds):
            if FD_ISSET(fd, &w):
                self._fire_write(fd)
        for fd in range(nfds):
            if FD_ISSET(fd, &x):
                self._fire_read(fd)
                self._fire_write(fd)
        if self.debug_blocking:
            self.block_detect_post()
        return 0
