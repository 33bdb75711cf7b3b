# The few POSIX bits beyond the pollers: fcntl, close, errno, clock_gettime,
# and the socket calls of the compiled recv/send.

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

cdef extern from "<sys/socket.h>" nogil:
    # c_: the module-level names recv/send are the compiled GreenSocket methods.
    ssize_t c_recv "recv"(int fd, void *buf, size_t n, int flags)
    ssize_t c_send "send"(int fd, const void *buf, size_t n, int flags)
    int MSG_DONTWAIT

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
