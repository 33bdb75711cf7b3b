"""Compiled fast path of ``eventhub.net``: cooperative recv/send without exceptions.

``GreenSocket.recv``/``recv_into``/``send``/``sendall`` hand over to these
when built.  They call recv(2)/send(2) on the socket's fd directly, so the
usual ``EAGAIN`` is an errno, not a ``BlockingIOError`` raised and caught,
and they wait with the compiled hub's trampoline.  Results and errors match
the socket module's (OSError subclasses from errno); waiting behaves as
``GreenSocket._wait`` (timeouts, ``BlockingIOError`` at timeout 0, EBADF for
a closed socket or one closed while waiting).  Like ``net.py``, a plain
read on a stream socket that the last read ran dry, or that was sent on
since, waits for readiness before reading (see the ``eventhub.net``
docstring).
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF

from eventhub.hubs._core cimport BaseHub, current_hub, socket_fileno
from eventhub.includes.cpython_api cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from eventhub.includes.posix cimport EAGAIN, EBADF, EINTR, EWOULDBLOCK, MSG_DONTWAIT, c_recv, c_send, errno
from eventhub.includes.pycompat cimport bytes_shrink

import errno as _errno

from eventhub.hubs import IOClosed



cdef class SocketState:
    """GreenSocket's per-socket state as C fields: its base class when built.

    The fast path below reads these on every call; as slots of a Python
    class each read was a full attribute lookup.  Same names, same values
    as the pure ``net._SocketState`` slots.
    """
    cdef public object _sock       # the wrapped non-blocking socket.socket
    cdef public object _timeout    # None, 0.0 or a positive float
    cdef public bint _closed
    cdef public bint _stream       # SOCK_STREAM: the expect-dry heuristic applies
    cdef public bint _expect_dry   # the next plain read waits for readiness first


# recv() of up to SMALL_READ bytes reads here first.  One buffer serves every
# greenthread and thread: it is filled and copied out with the GIL held and
# nothing in between can switch away or run Python code.
cdef enum:
    SMALL_READ = 8192
cdef char _small_read[SMALL_READ]


cdef int _wait(SocketState gsock, bint write, int flags) except -1:
    """GreenSocket._wait(not write, flags), with the compiled trampoline."""
    timeout = gsock._timeout
    if (timeout is not None and timeout == 0.0) or flags & MSG_DONTWAIT:
        raise BlockingIOError(_errno.EAGAIN, "Resource temporarily unavailable")
    if gsock._closed:
        raise OSError(_errno.EBADF, "Bad file descriptor")
    hub = current_hub()
    if not isinstance(hub, BaseHub):
        gsock._wait(not write, flags)
        return 0
    try:
        sock = gsock._sock
        (<BaseHub>hub)._trampoline(
            sock, write, timeout, None if timeout is None else TimeoutError("timed out"), None, sock)
    except IOClosed:
        raise OSError(_errno.EBADF, "Bad file descriptor (closed while waiting)") from None
    return 0


cdef int _wait_if_dry(SocketState gsock, int flags) except -1:
    """Before a plain read: wait if the last read ran the socket dry or a send
    went out since (as net.py's recv)."""
    if gsock._expect_dry and flags == 0 and (gsock._timeout is None or gsock._timeout != 0.0):
        _wait(gsock, False, flags)
    return 0


cdef int _note_read(SocketState gsock, ssize_t count, Py_ssize_t asked, bint found_empty, int flags) except -1:
    """Remember whether this read ran the socket dry (as net.py's recv)."""
    cdef bint dry = flags == 0 and count > 0 and (found_empty or count < asked) and gsock._stream
    gsock._expect_dry = dry
    return 0


cdef inline bint _would_block(int err) noexcept:
    return err == EAGAIN or err == EWOULDBLOCK


cdef int _raise_errno(int err) except -1:
    global errno
    errno = err
    PyErr_SetFromErrno(OSError)
    return -1


def recv(SocketState gsock, Py_ssize_t bufsize, int flags=0):
    """``GreenSocket.recv``."""
    cdef PyObject *buf
    cdef ssize_t n
    cdef int err
    cdef bint found_empty = False
    if bufsize < 0:
        raise ValueError("negative buffersize in recv")
    sock = gsock._sock
    if bufsize > 0:
        _wait_if_dry(gsock, flags)
    while True:
        if bufsize <= SMALL_READ:
            # Into the shared buffer, then a bytes object of exactly what
            # came: one small allocation instead of bufsize bytes and a
            # shrink (request/response reads are short).
            n = c_recv(socket_fileno(sock), _small_read, <size_t>bufsize, flags)
            err = errno
            if n >= 0:
                buf = PyBytes_FromStringAndSize(_small_read, n)
        else:
            buf = PyBytes_FromStringAndSize(NULL, bufsize)
            n = c_recv(socket_fileno(sock), PyBytes_AS_STRING(buf), <size_t>bufsize, flags)
            err = errno
            if n < 0:
                Py_DECREF(<object>buf)
            elif n != bufsize:
                bytes_shrink(&buf, n)  # frees buf itself if it fails
        if n >= 0:
            result = <object>buf
            Py_DECREF(result)  # the new reference buf came with
            _note_read(gsock, n, bufsize, found_empty, flags)
            return result
        if err == EINTR:
            PyErr_CheckSignals()
        elif _would_block(err):
            found_empty = True
            _wait(gsock, False, flags)
        else:
            _raise_errno(err)


def recv_into(SocketState gsock, buffer, Py_ssize_t nbytes=0, int flags=0):
    """``GreenSocket.recv_into``."""
    cdef Py_buffer view
    cdef ssize_t n
    cdef int err
    cdef bint found_empty = False
    if nbytes < 0:
        raise ValueError("negative buffersize in recv_into")
    try:
        PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE)
    except BufferError:  # as the socket module words it
        raise TypeError(
            f"recv_into() argument 1 must be read-write bytes-like object, not {type(buffer).__name__}"
        ) from None
    try:
        if nbytes == 0:
            nbytes = view.len
        elif view.len < nbytes:
            raise ValueError("buffer too small for requested bytes")
        sock = gsock._sock
        if nbytes > 0:
            _wait_if_dry(gsock, flags)
        while True:
            n = c_recv(socket_fileno(sock), view.buf, <size_t>nbytes, flags)
            if n >= 0:
                _note_read(gsock, n, nbytes, found_empty, flags)
                return n
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
            elif _would_block(err):
                found_empty = True
                _wait(gsock, False, flags)
            else:
                _raise_errno(err)
    finally:
        PyBuffer_Release(&view)


def send(SocketState gsock, data, int flags=0):
    """``GreenSocket.send``."""
    cdef Py_buffer view
    cdef ssize_t n
    cdef int err
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    gsock._expect_dry = gsock._stream  # a reply takes a while: as net.py's send
    try:
        sock = gsock._sock
        while True:
            n = c_send(socket_fileno(sock), view.buf, <size_t>view.len, flags)
            if n >= 0:
                return n
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
            elif _would_block(err):
                _wait(gsock, True, flags)
            else:
                _raise_errno(err)
    finally:
        PyBuffer_Release(&view)


def sendall(SocketState gsock, data, int flags=0):
    """``GreenSocket.sendall``: send everything, waiting as needed."""
    cdef Py_buffer view
    cdef ssize_t n
    cdef Py_ssize_t sent = 0
    cdef int err
    if type(data) is not bytes:
        data = memoryview(data).cast("B")  # the same checks (and errors) as net.py
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    gsock._expect_dry = gsock._stream  # as in send()
    try:
        sock = gsock._sock
        while sent < view.len:
            n = c_send(socket_fileno(sock), <char *>view.buf + sent, <size_t>(view.len - sent), flags)
            if n >= 0:
                sent += n
                continue
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
            elif _would_block(err):
                _wait(gsock, True, flags)
            else:
                _raise_errno(err)
    finally:
        PyBuffer_Release(&view)
