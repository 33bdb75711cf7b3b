"""Compiled twin of ``eventhub.eventlet_greenio``: eventlet's green socket I/O, waiting in C.

``recv``, ``recv_into``, ``send`` and ``sendall`` here are eventlet
0.41's ``GreenSocket`` methods of the same names, step for step: the same
calls on the wrapped socket, the same errno sets deciding between waiting,
returning empty and raising, the same exceptions (``EOFError`` for a
socket marked closed while reading, ``ConnectionResetError`` while
sending, ``socket.timeout('timed out')`` at the socket's timeout).  Two
things change, neither visible to the caller:

- eventlet's three or four Python frames per call (``recv`` ->
  ``_recv_loop`` -> ``_read_trampoline`` -> ``_trampoline`` ->
  ``trampoline``) are one C call;
- a wait on one of eventhub's compiled hubs parks the greenthread with the
  hub's own trampoline in C (``BaseHub._trampoline``), as eventlet's
  ``trampoline()`` would through the hub's Python API.  On any other hub
  (eventhub's pure hubs, eventlet's own, a third party's) it calls
  ``GreenSocket._trampoline`` as eventlet does.

An instance of a ``GreenSocket`` subclass, which may override the helpers
eventlet's methods call, gets eventlet's own methods (``EVENTLETS``).
"""

import errno as _errno

import eventlet.greenio.base as _base
from eventlet.hubs import IOClosed, get_hub
from eventlet.support import get_errno

from eventhub.hubs._core cimport BaseHub

GreenSocket = _base.GreenSocket

#: The methods this module replaces, as eventlet defines them: what a subclass gets.
EVENTLETS = {name: vars(GreenSocket)[name] for name in ("recv", "recv_into", "send", "sendall")}

cdef object _eventlets_recv = EVENTLETS["recv"]
cdef object _eventlets_recv_into = EVENTLETS["recv_into"]
cdef object _eventlets_send = EVENTLETS["send"]
cdef object _eventlets_sendall = EVENTLETS["sendall"]
cdef object _eventlets_trampoline = GreenSocket._trampoline
cdef object _SOCKET_BLOCKING = _base.SOCKET_BLOCKING
cdef object _SOCKET_CLOSED = _base.SOCKET_CLOSED
cdef object _socket_timeout = _base.socket_timeout
cdef int _ENOTCONN = _errno.ENOTCONN


cdef object _wait(object gsock, object fd, bint write):
    """``gsock._trampoline(fd, read=not write, write=write, timeout=gsock.gettimeout(),
    timeout_exc=socket_timeout('timed out'))``: in C on eventhub's compiled hubs."""
    hub = get_hub()
    if not isinstance(hub, BaseHub) or GreenSocket._trampoline is not _eventlets_trampoline:
        return gsock._trampoline(fd, read=not write, write=write, timeout=gsock._timeout,
                                 timeout_exc=_socket_timeout("timed out"))
    # GreenSocket._trampoline, with eventlet's trampoline() in C.
    if gsock._closed:
        raise IOClosed()
    mark_as_closed = gsock._mark_as_closed
    try:
        return (<BaseHub>hub)._trampoline(fd, write, gsock._timeout, _socket_timeout("timed out"),
                                          mark_as_closed, fd)
    except IOClosed:
        mark_as_closed()
        raise


cdef object _recv_loop(object gsock, object method, object empty, object first, tuple args):
    """``GreenSocket._recv_loop(method, empty, *args)``; ``first`` is ``args[0]``."""
    fd = gsock.fd
    if gsock.act_non_blocking:
        return method(*args)
    while True:
        try:
            if not first:
                # A read of nothing never blocks: wait first, so the socket's timeout applies.
                _wait(gsock, fd, False)
            return method(*args)
        except OSError as e:
            err = get_errno(e)
            if err in _SOCKET_CLOSED:
                return empty
            if err not in _SOCKET_BLOCKING:
                raise
        try:
            _wait(gsock, fd, False)
        except IOClosed:
            raise EOFError()


cdef object _send(object gsock, object data, object flags):
    """``GreenSocket.send(data, flags)``."""
    fd = gsock.fd
    if gsock.act_non_blocking:
        return fd.send(data, flags)
    while True:
        try:
            return fd.send(data, flags)
        except OSError as e:
            err = get_errno(e)
            if err == _ENOTCONN or err not in _SOCKET_BLOCKING:
                raise
        try:
            _wait(gsock, fd, True)
        except IOClosed:
            raise OSError(_errno.ECONNRESET, "Connection closed by another thread")


def recv(self, bufsize, flags=0):
    """eventlet's ``GreenSocket.recv``, waiting in C."""
    if type(self) is not GreenSocket:
        return _eventlets_recv(self, bufsize, flags)
    return _recv_loop(self, self.fd.recv, b"", bufsize, (bufsize, flags))


def recv_into(self, buffer, nbytes=0, flags=0):
    """eventlet's ``GreenSocket.recv_into``, waiting in C."""
    if type(self) is not GreenSocket:
        return _eventlets_recv_into(self, buffer, nbytes, flags)
    return _recv_loop(self, self.fd.recv_into, 0, buffer, (buffer, nbytes, flags))


def send(self, data, flags=0):
    """eventlet's ``GreenSocket.send``, waiting in C."""
    if type(self) is not GreenSocket:
        return _eventlets_send(self, data, flags)
    return _send(self, data, flags)


def sendall(self, data, flags=0):
    """eventlet's ``GreenSocket.sendall``, waiting in C."""
    if type(self) is not GreenSocket:
        return _eventlets_sendall(self, data, flags)
    tail = _send(self, data, flags)
    len_data = len(data)
    while tail < len_data:
        tail += _send(self, data[tail:], flags)
