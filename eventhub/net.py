"""Cooperative sockets: stdlib-like sockets that park the greenthread, not the thread.

Each blocking call tries the non-blocking syscall first and, on
``EAGAIN``, waits for readiness with ``trampoline`` so other greenthreads
run meanwhile.  Timeouts raise ``TimeoutError`` like the stdlib.

One exception saves a syscall per message in request/response traffic:
the next blocking ``recv`` on a stream socket waits for readiness first,
instead of trying a read that would most likely fail, when the socket's
last ``recv`` ran it dry (it returned less than it asked for, or found
nothing and had to wait) or when ``send``/``sendall`` was called on it
since (the reply to what was just sent is seldom there yet).  Readiness is
level-triggered, so if data did arrive meanwhile the wait returns at once:
a wrong guess costs one trip through the hub, never a lost wake-up, and a
read after such a wait that fills its buffer is no evidence of dryness, so
streaming data goes back to reading first.

Names are resolved off the hub: ``getaddrinfo`` hands them to the system
resolver in a worker thread (``eventhub.to_thread``), and ``connect`` and
``GreenSocket.connect`` resolve through it.  TLS lives in ``eventhub.tls``
and is reached from here too: ``wrap_tls``, ``TLSSocket``, and the ``tls=``
of ``connect`` and ``serve``.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import socket as _socket
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, overload

from eventhub.greenthread import GreenThread, spawn
from eventhub.hubs import IOClosed, notify_close, notify_opened, trampoline
from eventhub.hubs._variant import load_compiled
from eventhub.threadpool import to_thread
from eventhub.timeout import Timeout

#: The compiled recv/send fast path (eventhub/_net.pyx), or None.  When
#: built, its functions are GreenSocket's methods of the same names.
_fast: Any = load_compiled("_net", package="eventhub")

if TYPE_CHECKING:
    import ssl

    from eventhub.tls import TLSSocket as TLSSocket
    from eventhub.tls import wrap_tls as wrap_tls

__all__ = [
    "GreenSocket",
    "StopServe",
    "TLSSocket",
    "connect",
    "getaddrinfo",
    "listen",
    "serve",
    "socketpair",
    "wrap_tls",
]

_CONNECT_PENDING = frozenset({errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK})


class StopServe(Exception):
    """Raise from a ``serve()`` handler to stop the server loop."""


#: The stdlib socket class, bound at import: ``eventlet.monkey_patch()`` later
#: replaces ``socket.socket`` with eventlet's green class, and eventhub's
#: sockets must keep wrapping real ones (the gunicorn worker patches first).
_StdSocket = _socket.socket

# A plain int: `flags & socket.MSG_DONTWAIT` runs enum.Flag.__and__ in Python.
_MSG_DONTWAIT = int(_socket.MSG_DONTWAIT)

#: The stdlib resolver, bound at import as ``_StdSocket`` is (eventlet's green
#: one must not run in a worker thread).  ``getaddrinfo`` calls it in the
#: thread pool for names, and directly for numeric addresses.
_blocking_getaddrinfo = _socket.getaddrinfo
_NUMERIC_ONLY = _socket.AI_NUMERICHOST | _socket.AI_NUMERICSERV
# Hosts the socket module takes as addresses without asking the resolver.
_SPECIAL_HOSTS = frozenset({"", "<broadcast>", b"", b"<broadcast>"})

#: One of ``getaddrinfo``'s results: (family, type, proto, canonname, sockaddr).
AddrInfo = tuple[_socket.AddressFamily, _socket.SocketKind, int, str, tuple[Any, ...]]


def _timed_out() -> TimeoutError:
    return TimeoutError("timed out")


def _recv_into_size(buffer: Any, nbytes: int) -> int:
    """The bytes ``recv_into(buffer, nbytes)`` asks for, or -1 if the socket module will refuse the arguments."""
    try:
        view = memoryview(buffer)
    except TypeError:
        return -1
    if view.readonly or not view.c_contiguous or nbytes < 0 or nbytes > view.nbytes:
        return -1
    return nbytes or view.nbytes


class _PureSocketState:
    """GreenSocket's per-socket state (the compiled ``_net.SocketState`` when built)."""

    __slots__ = ("_sock", "_timeout", "_closed", "_stream", "_expect_dry")
    _sock: _socket.socket
    _timeout: float | None
    _closed: bool
    _stream: bool
    _expect_dry: bool


if TYPE_CHECKING:
    _SocketState = _PureSocketState
else:
    _SocketState = _PureSocketState if _fast is None else _fast.SocketState


class GreenSocket(_SocketState):
    """A socket whose blocking calls yield to other greenthreads.

    Construct it like ``socket.socket`` or wrap an existing socket with
    ``GreenSocket(sock=s)``; the wrapped socket is made non-blocking.
    """

    # Like socket.socket, no per-instance __dict__: attribute reads on the
    # hot path are slot reads (C fields when built), not dict lookups.
    __slots__ = ("_io_refs", "__weakref__")

    def __init__(
        self,
        family: int = _socket.AF_INET,
        type: int = _socket.SOCK_STREAM,
        proto: int = 0,
        fileno: int | None = None,
        *,
        sock: _socket.socket | None = None,
    ) -> None:
        if sock is None:
            sock = _StdSocket(family, type, proto, fileno)
            if fileno is None:
                notify_opened(sock.fileno())  # see _fresh()
        elif not isinstance(sock, _StdSocket):
            raise TypeError(f"sock must be a socket.socket, not {sock.__class__.__name__}")
        # A stdlib timeout on the wrapped socket becomes ours.
        self._timeout = sock.gettimeout()
        sock.setblocking(False)
        self._sock = sock
        self._io_refs = 0
        self._closed = False
        self._stream = sock.type == _socket.SOCK_STREAM
        # The next plain recv on this stream waits for readiness before
        # reading: the last one ran it dry, or a send went out since (see
        # the module docstring).
        self._expect_dry = False

    # -- plumbing -------------------------------------------------------------

    def _wait(self, read: bool, flags: int = 0) -> None:
        """Park until readable (``read``) or writable; raise at timeout 0 or with MSG_DONTWAIT."""
        timeout = self._timeout
        if timeout == 0.0 or flags & _MSG_DONTWAIT:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        try:
            trampoline(self._sock, read=read, write=not read, timeout=timeout, timeout_exc=_timed_out())
        except IOClosed:
            raise OSError(errno.EBADF, "Bad file descriptor (closed while waiting)") from None

    def fileno(self) -> int:
        return self._sock.fileno()

    @property
    def family(self) -> int:
        return self._sock.family

    @property
    def type(self) -> int:
        return self._sock.type

    @property
    def proto(self) -> int:
        return self._sock.proto

    if TYPE_CHECKING:
        # At run time these are the forwarding methods made below the class
        # (a real __getattr__ would slow every attribute lookup on the socket).
        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        return f"<GreenSocket {self._sock!r}>"

    # -- timeouts ---------------------------------------------------------------

    def settimeout(self, timeout: float | None) -> None:
        """None blocks forever, 0 makes calls raise BlockingIOError, >0 raises TimeoutError."""
        if timeout is not None:
            timeout = float(timeout)
            if timeout < 0.0:
                raise ValueError("Timeout value out of range")
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    @property
    def timeout(self) -> float | None:
        """The timeout, as ``gettimeout()`` returns it."""
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    # -- connections ------------------------------------------------------------

    def accept(self) -> tuple[GreenSocket, Any]:
        """Wait for a connection; return ``(GreenSocket, address)``."""
        sock = self._sock
        while True:
            try:
                fd, addr = sock._accept()  # type: ignore[attr-defined]
                break
            except BlockingIOError:
                self._wait(read=True)
        client = _StdSocket(sock.family, sock.type, sock.proto, fileno=fd)
        client.settimeout(None)  # like the stdlib: blocking, whatever the listener's timeout
        return _fresh(client), addr

    def connect(self, address: Any) -> None:
        """Connect, waiting cooperatively; raises like ``socket.connect``.

        A host name is resolved off the hub (``getaddrinfo``) and, as
        ``socket.connect`` does, the first address of the socket's family is
        used: a socket connects once.  ``net.connect`` tries every address.
        The timeout covers the resolving and the connecting.
        """
        self._raise_unless_connected(self.connect_ex(address))

    def _raise_unless_connected(self, err: int) -> None:
        """Raise for ``connect_ex``'s errno ``err``, as ``socket.connect`` would."""
        if err:
            if err == errno.ETIMEDOUT and self._timeout is not None:
                raise _timed_out()
            raise OSError(err, os.strerror(err))

    def connect_ex(self, address: Any) -> int:
        """Connect; return 0 or an errno instead of raising (resolver errors raise, as in the stdlib)."""
        if self._sock.family in _INET_FAMILIES and isinstance(address, tuple) and _is_name(address[0]):
            return self._connect_ex_by_name(address)
        return self._connect_ex(address)

    def _connect_ex_by_name(self, address: tuple[Any, ...]) -> int:
        timeout = self._timeout
        deadline = _deadline(timeout or None)  # 0.0: resolve anyway, then don't wait to connect
        sock = self._sock
        try:
            infos = _getaddrinfo_by(deadline, address[0], address[1], sock.family, sock.type, sock.proto)
        except TimeoutError:
            return errno.ETIMEDOUT
        try:
            if deadline is not None:
                self._timeout = _remaining(deadline)
            return self._connect_ex(_sockaddr(infos[0][4], address))
        except TimeoutError:  # _remaining() found the time up
            return errno.ETIMEDOUT
        finally:
            self._timeout = timeout

    def _connect_ex(self, address: Any) -> int:
        err = self._sock.connect_ex(address)
        if err not in _CONNECT_PENDING or self._timeout == 0.0:
            return err  # non-blocking: EINPROGRESS, as the stdlib says
        try:
            self._wait(read=False)
        except TimeoutError:
            return errno.ETIMEDOUT
        return self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)

    # -- receiving --------------------------------------------------------------

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        # The last read ran the socket dry, or a send went out since (see the
        # module docstring): wait first.  Not for recv(0) or a bad size
        # (that raises below at once).
        if self._expect_dry and bufsize > 0 and not flags and self._timeout != 0.0:
            self._wait(True)
        found_empty = False
        while True:
            try:
                data = self._sock.recv(bufsize, flags)
            except BlockingIOError:
                found_empty = True
                self._wait(True, flags)
            else:
                count = len(data)
                # Does this read leave the socket dry: it found it empty, or emptied it?
                self._expect_dry = self._stream and not flags and count > 0 and (found_empty or count < bufsize)
                return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        asked = _recv_into_size(buffer, nbytes)
        # As in recv(); bad arguments go straight to the socket module's errors.
        if self._expect_dry and asked > 0 and not flags and self._timeout != 0.0:
            self._wait(True)
        found_empty = False
        while True:
            try:
                count = self._sock.recv_into(buffer, nbytes, flags)
            except BlockingIOError:
                found_empty = True
                self._wait(True, flags)
            else:
                self._expect_dry = self._stream and not flags and count > 0 and (found_empty or count < asked)
                return count

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        while True:
            try:
                return self._sock.recvfrom(bufsize, flags)
            except BlockingIOError:
                self._wait(True, flags)

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, Any]:
        while True:
            try:
                return self._sock.recvfrom_into(buffer, nbytes, flags)
            except BlockingIOError:
                self._wait(True, flags)

    # -- sending ----------------------------------------------------------------

    def send(self, data: Any, flags: int = 0) -> int:
        self._expect_dry = self._stream  # a reply takes a while: see the module docstring
        while True:
            try:
                return self._sock.send(data, flags)
            except BlockingIOError:
                self._wait(False, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send everything; a peer that goes away raises (BrokenPipeError, ...)."""
        view = memoryview(data).cast("B")
        self._expect_dry = self._stream  # as in send()
        sent = 0
        total = len(view)
        sock = self._sock
        while sent < total:
            try:
                sent += sock.send(view[sent:], flags)
            except BlockingIOError:
                self._wait(False, flags)

    def sendto(self, data: Any, *args: Any) -> int:
        """``sendto(data, address)`` or ``sendto(data, flags, address)``."""
        flags = args[0] if len(args) == 2 else 0
        while True:
            try:
                return self._sock.sendto(data, *args)
            except BlockingIOError:
                self._wait(False, flags)

    # -- closing ----------------------------------------------------------------

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        """Close the socket; greenthreads waiting on it get an error, not a hang."""
        if self._closed:
            return
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        fd = self._sock.fileno()
        if fd >= 0:
            notify_close(fd)
        self._sock.close()

    def detach(self) -> int:
        self._closed = True
        return self._sock.detach()

    def _decref_socketios(self) -> None:
        # Called by socket.SocketIO when a makefile() object is closed.
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._real_close()

    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        """A file object over the socket, as ``socket.makefile`` returns."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        rawmode = ("r" if reading else "") + ("w" if writing else "")
        raw = _socket.SocketIO(self, rawmode)  # type: ignore[arg-type]
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if "b" not in mode:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffer: Any
        if reading and writing:
            buffer = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffer = io.BufferedReader(raw, buffering)
        else:
            buffer = io.BufferedWriter(raw, buffering)
        if "b" in mode:
            return buffer
        text = io.TextIOWrapper(buffer, encoding, errors, newline)
        text.mode = mode  # type: ignore[misc]
        return text

    def __enter__(self) -> GreenSocket:
        return self

    def __exit__(
        self,
        typ: builtins.type[BaseException] | None,  # `type` is our property here
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _forwarder(name: str) -> Callable[..., Any]:
    def forward(self: GreenSocket, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._sock, name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"``socket.{name}()`` of the wrapped socket, as is (it does not wait)."
    return forward


# Non-blocking socket methods (setsockopt, getpeername, bind, ...) pass through.
for _name in dir(_socket.socket):
    if not _name.startswith("_") and not hasattr(GreenSocket, _name) and callable(getattr(_socket.socket, _name)):
        setattr(GreenSocket, _name, _forwarder(_name))


#: The pure-Python methods the compiled fast path replaces, by name.
PURE_METHODS: dict[str, Callable[..., Any]] = {
    name: GreenSocket.__dict__[name] for name in ("recv", "recv_into", "send", "sendall")
}
if _fast is not None:
    # Compiled functions bind like methods: a call goes straight to C,
    # with no Python frame in between.
    for _name in PURE_METHODS:
        setattr(GreenSocket, _name, getattr(_fast, _name))


def _fresh(sock: _socket.socket) -> GreenSocket:
    """Wrap a socket the OS has just created.

    Its fd number may have belonged to a file closed behind the hub's back;
    the hub is told, so a greenthread still waiting on the old file gets
    IOClosed instead of colliding with the new socket's waits.
    """
    notify_opened(sock.fileno())
    return GreenSocket(sock=sock)


def socketpair(
    family: int = _socket.AF_UNIX, type: int = _socket.SOCK_STREAM, proto: int = 0
) -> tuple[GreenSocket, GreenSocket]:
    """A connected pair of cooperative sockets."""
    a, b = _socket.socketpair(family, type, proto)
    return _fresh(a), _fresh(b)


_INET_FAMILIES = frozenset({_socket.AF_INET, _socket.AF_INET6})


def getaddrinfo(
    host: bytes | str | None,
    port: bytes | str | int | None,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[AddrInfo]:
    """``socket.getaddrinfo``, cooperative: names are resolved in a worker thread.

    The calling greenthread waits (``to_thread``) while the hub runs the
    others.  A numeric host with a numeric (or no) port is answered at once,
    without the thread pool.  Same arguments, results and errors
    (``socket.gaierror``) as the stdlib's.
    """
    if port is None or isinstance(port, int) or (isinstance(port, (str, bytes)) and port.isdigit()):
        try:
            return list(_blocking_getaddrinfo(host, port, family, type, proto, flags | _NUMERIC_ONLY))
        except _socket.gaierror:
            pass  # a name: for the resolver (which also gives the errors of anything else)
    return list(to_thread(_blocking_getaddrinfo, host, port, family, type, proto, flags))


def _is_name(host: object) -> bool:
    """Whether connecting to ``host`` needs the resolver (it is not an address the kernel takes as is)."""
    if not isinstance(host, (str, bytes)) or host in _SPECIAL_HOSTS:
        return False
    try:
        _blocking_getaddrinfo(host, None, 0, 0, 0, _socket.AI_NUMERICHOST)
    except _socket.gaierror:
        return True
    return False


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float) -> float:
    """The seconds left until ``deadline``; ``TimeoutError`` if none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _timed_out()
    return left


def _getaddrinfo_by(deadline: float | None, host: Any, port: Any, family: int, type: int, proto: int) -> list[AddrInfo]:
    """``getaddrinfo`` that raises ``TimeoutError`` at ``deadline``, and never returns an empty list."""
    if deadline is None:
        infos = getaddrinfo(host, port, family, type, proto)
    else:
        with Timeout(_remaining(deadline), _timed_out()):
            infos = getaddrinfo(host, port, family, type, proto)
    if not infos:
        raise OSError("getaddrinfo returns an empty list")
    return infos


def _sockaddr(resolved: Any, address: tuple[Any, ...]) -> Any:
    """The resolved address, keeping an IPv6 flowinfo and scope id that ``address`` gave."""
    if len(resolved) == 4 and len(address) == 4:
        return (resolved[0], resolved[1], address[2], address[3])
    return resolved


def listen(address: Any, backlog: int = 128, reuse_port: bool = False) -> GreenSocket:
    """A listening TCP socket bound to ``address`` (``(host, port)``; IPv6 by ':' in host)."""
    host = address[0] if isinstance(address, tuple) else ""
    family = _socket.AF_INET6 if ":" in str(host) else _socket.AF_INET
    sock = _StdSocket(family, _socket.SOCK_STREAM)
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return _fresh(sock)


@overload
def connect(address: Any, timeout: float | None = None, *, tls: None = None, server_hostname: None = None) -> GreenSocket: ...
@overload
def connect(
    address: Any, timeout: float | None = None, *, tls: ssl.SSLContext, server_hostname: str | None = None
) -> TLSSocket: ...
def connect(
    address: Any,
    timeout: float | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> GreenSocket:
    """A TCP connection to ``(host, port)``; ``TimeoutError`` after ``timeout`` seconds.

    The host is resolved off the hub (``getaddrinfo``) and each of its
    addresses, IPv6 and IPv4 in the resolver's order, is tried in turn until
    one connects; if none does, the first one's error is raised.  With
    ``tls`` (an ``ssl.SSLContext``) the connection then runs TLS
    (``wrap_tls``), checking the server's name against ``server_hostname``,
    by default the host.  ``timeout`` covers the whole attempt, handshake
    included.  The socket returned blocks (cooperatively), with no timeout.
    """
    if not isinstance(address, tuple) or len(address) < 2:
        raise TypeError(f"connect() needs a (host, port) tuple, not {address!r}")
    if tls is not None:
        from eventhub.tls import wrap_tls

        _check_tls_context(tls, "connect")
        if server_hostname is None:
            host = address[0]
            server_hostname = host.decode("ascii") if isinstance(host, bytes) else host
    elif server_hostname is not None:
        raise ValueError("server_hostname goes with tls")
    deadline = _deadline(timeout)
    infos = _getaddrinfo_by(deadline, address[0], address[1], 0, _socket.SOCK_STREAM, 0)
    first_error: OSError | None = None
    for family, type, proto, _, sockaddr in infos:
        try:
            sock = GreenSocket(family, type, proto)
        except OSError as e:  # a family this host cannot make sockets of (IPv6 turned off, ...)
            first_error = first_error or e
            continue
        try:
            sock.settimeout(None if deadline is None else _remaining(deadline))
            sock._raise_unless_connected(sock._connect_ex(_sockaddr(sockaddr, address)))
        except OSError as e:
            sock.close()
            if deadline is not None and time.monotonic() >= deadline:
                raise _timed_out() from None
            first_error = first_error or e
            continue
        except BaseException:
            sock.close()
            raise
        if tls is not None:
            try:
                if deadline is None:
                    sock = wrap_tls(sock, tls, server_hostname=server_hostname)
                else:
                    with Timeout(_remaining(deadline), _timed_out()):
                        sock = wrap_tls(sock, tls, server_hostname=server_hostname)
            except BaseException:
                sock.close()  # wrap_tls closed the connection if it took it; this closes it if not
                raise
        sock.settimeout(None)
        return sock
    assert first_error is not None
    raise first_error


def serve(
    listener: GreenSocket,
    handler: Callable[[GreenSocket, Any], Any],
    concurrency: int | None = None,
    *,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Accept connections forever, running ``handler(conn, address)`` in a greenthread each.

    With ``concurrency``, at most that many handlers run at once; further
    connections wait in the listen backlog.  Returns when the listener is
    closed or a handler raises ``StopServe``; other handler errors are
    printed by the hub and the server goes on.  With ``tls`` (an
    ``ssl.SSLContext``), each connection runs TLS: its greenthread does the
    server-side handshake (``wrap_tls``) and passes the ``TLSSocket`` to
    ``handler``; a failed handshake closes the connection and is printed like
    a handler error.
    """
    from eventhub.event import Event

    if concurrency is not None and concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if tls is not None:
        from eventhub.tls import wrap_tls

        _check_tls_context(tls, "serve")
    running: set[GreenThread[Any]] = set()
    stop: list[StopServe] = []
    slot_free: Event[None] = Event()

    def finished(gt: GreenThread[Any]) -> None:
        running.discard(gt)
        if not slot_free.ready():
            slot_free.send(None)

    def run_handler(conn: GreenSocket, addr: Any) -> None:
        try:
            if tls is not None:
                conn = wrap_tls(conn, tls, server_side=True)
            handler(conn, addr)
        except StopServe as e:
            stop.append(e)
            listener.close()
        finally:
            conn.close()

    while not stop:
        if concurrency is not None:
            while len(running) >= concurrency:
                slot_free.wait()
                slot_free.reset()
        try:
            conn, addr = listener.accept()
        except OSError:
            if stop or listener._closed:
                return
            raise
        gt = spawn(run_handler, conn, addr)
        running.add(gt)
        gt.link(finished)


def _check_tls_context(tls: object, caller: str) -> None:
    import ssl  # only once TLS is asked for

    if not isinstance(tls, ssl.SSLContext):
        raise TypeError(f"{caller}() needs an ssl.SSLContext as tls, not {type(tls).__name__}")


def __getattr__(name: str) -> Any:
    # The TLS names live in eventhub.tls, which builds on this module: loaded on first use.
    if name in ("TLSSocket", "wrap_tls"):
        from eventhub import tls

        return getattr(tls, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
