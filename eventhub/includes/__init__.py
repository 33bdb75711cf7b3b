"""C declarations (.pxd) for the compiled hubs: epoll, poll, select, POSIX, greenlet."""
