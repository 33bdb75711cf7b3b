# Included by _core.pyx, before the timers.
# Owns the fast lookups every wait starts with: this thread's hub
# (current_hub), the clock and argument checks (_monotonic_now, _as_delay,
# _as_fileno), a socket's fd read in C (socket_fileno), and the report of
# which CPython shortcuts this interpreter gets (cpython_shortcuts).

# ---------------------------------------------------------------------------
# This thread's hub, for the compiled twins
# ---------------------------------------------------------------------------
# hubs.get_hub() reads a threading.local: about 450 instructions per call,
# which sleep(0) and every socket wait pay.  The last thread to ask keeps its
# hub here, keyed by its thread state's id (unique for the interpreter's
# life, unlike a thread ident).  A thread's hub changes only by use_hub() in
# that thread or by the thread ending; hubs calls forget_current_hub() after
# either, so the entry can never name a hub its thread has left.

cdef object _cached_hub = None
cdef unsigned long long _cached_thread = 0  # thread state ids start at 1


cdef object current_hub():
    """hubs.get_hub() (this thread's hub, created on first use), cached."""
    global _cached_hub, _cached_thread
    cdef unsigned long long thread = PyThreadState_GetID(PyThreadState_Get())
    if thread == _cached_thread:
        return _cached_hub
    hub = _hubs.get_hub()
    _cached_hub = hub
    _cached_thread = thread
    return hub


def forget_current_hub():
    """Drop the cached hub: some thread's hub was replaced or dropped."""
    global _cached_hub, _cached_thread
    hub = _cached_hub
    _cached_hub = None
    _cached_thread = 0
    del hub  # released after the cache is consistent: its finalizer may ask again


_hubs._hub_forgetters.append(forget_current_hub)


cdef inline double _monotonic_now() except? -1.0:
    cdef timespec ts
    if clock_gettime(CLOCK_MONOTONIC, &ts) != 0:
        PyErr_SetFromErrno(OSError)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9


cdef inline double _as_delay(object seconds) except? -1.0:
    """as_delay() of hub.py, with C fast paths for float and int."""
    cdef double d
    if type(seconds) is float:
        d = <double>seconds
        if d != d or d == _INF or d == -_INF:
            return _as_delay_slow(seconds)  # raises the reference's ValueError
    elif type(seconds) is int:
        d = PyLong_AsDouble(seconds)  # OverflowError for huge ints, as in the pure hub
    else:
        d = <double>_as_delay_slow(seconds)
    return d if d > 0 else 0.0


cdef inline object _as_fileno(object fd):
    cdef int number
    if type(fd) is int and 0 <= fd <= INT_MAX:
        return fd
    if type(fd) is _socket_type:  # what eventhub.net waits on: skip the Python-level helper
        number = socket_fileno(fd)
        if number >= 0:
            return number
    return _as_fileno_slow(fd)  # the reference's checks and error messages


# ---------------------------------------------------------------------------
# A socket's fd without a method call
# ---------------------------------------------------------------------------
# socket.fileno() is a Python method call (~250 instructions), and a socket
# wait asked for it three times.  On the CPython versions pycompat knows, the
# socket object starts with its fd after the object header, and fileno()
# returns exactly that; _check_socket_layout() verifies it on this
# interpreter at import, and only then is the field read.

cdef bint _socket_layout_known = False


cdef int socket_fileno(object sock) except? -2:
    """``sock.fileno()`` as a C int (-1 once closed); no method call for a socket.socket."""
    if _socket_layout_known and type(sock) is _socket_type:
        return pycompat.socket_head_fd(sock)
    return sock.fileno()


def _check_socket_layout():
    """Whether socket objects hold their fd where socket_fileno() reads it."""
    if (not pycompat.SOCKET_LAYOUT or _socket.socket.__basicsize__ < pycompat.SOCKET_HEAD_SIZE
            or not issubclass(_socket_type, _socket.socket)):
        return False
    first, second = _socket.socketpair()
    try:
        if pycompat.socket_head_fd(first) != first.fileno() or pycompat.socket_head_fd(second) != second.fileno():
            return False
        first.close()
        return pycompat.socket_head_fd(first) == -1
    finally:
        first.close()
        second.close()


_socket_layout_known = _check_socket_layout()


def cpython_shortcuts():
    """Which speed shortcuts past CPython's public API this interpreter gets.

    ``{name: True/False}``.  Each is on for the CPython versions
    ``eventhub/includes/pycompat.pxd`` knows (3.11-3.14) and off elsewhere,
    where the general path (slower, same results) is taken instead.
    ``python -m eventhub`` prints them.
    """
    return {
        "class memo": bool(pycompat.CLASS_MEMO),
        "socket fd read in C": _socket_layout_known,
        "frame-chunk cache": pycompat.DATA_STACK_CHUNK_SIZE != 0,
        "recv's bytes shrunk in place": bool(pycompat.BYTES_RESIZE),
    }
