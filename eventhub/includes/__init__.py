"""C declarations (.pxd) for the compiled modules: epoll, poll, select, libevent, POSIX, greenlet, CPython."""
