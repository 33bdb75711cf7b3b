# POSIX select(2) and its fixed-size fd_set.

cdef extern from "<sys/select.h>" nogil:
    ctypedef struct fd_set:
        pass

    struct timeval:
        long tv_sec
        long tv_usec

    enum:
        FD_SETSIZE

    void FD_ZERO(fd_set *s)
    void FD_SET(int fd, fd_set *s)
    void FD_CLR(int fd, fd_set *s)
    int FD_ISSET(int fd, fd_set *s)

    int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, timeval *timeout)
