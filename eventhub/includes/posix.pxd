# The few POSIX bits beyond the pollers: fcntl, close, errno, clock_gettime.

cdef extern from "<errno.h>" nogil:
    int errno
    enum:
        EINTR
        EBADF
        ENOENT
        EEXIST
        EPERM
        ENOMEM
        EAGAIN
    # A macro that may equal EAGAIN: not an enum member, or Cython could
    # emit duplicate switch cases.
    const int EWOULDBLOCK

cdef extern from "<fcntl.h>" nogil:
    enum:
        F_GETFD
    int fcntl(int fd, int cmd, ...)

cdef extern from "<unistd.h>" nogil:
    int close(int fd)

cdef extern from "<time.h>" nogil:
    ctypedef long time_t

    struct timespec:
        time_t tv_sec
        long tv_nsec

    enum:
        CLOCK_MONOTONIC
    int clock_gettime(int clk_id, timespec *tp)

cdef extern from "<limits.h>" nogil:
    enum:
        INT_MAX
