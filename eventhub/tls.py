"""TLS over cooperative sockets: ``wrap_tls`` and ``TLSSocket`` (also ``net.wrap_tls``).

A ``TLSSocket`` is a ``GreenSocket`` whose recv/send go through TLS: the
protocol runs in an ``ssl.SSLObject`` between two ``ssl.MemoryBIO`` buffers,
and the encrypted bytes travel over the socket's own cooperative recv and
sendall (the compiled fast path where built), so waiting, timeouts and
closing behave as on any ``GreenSocket``.  Reading fills the incoming buffer
with whatever the kernel has (up to 64 KiB), often several records in one
recv(2), where OpenSSL on the descriptor itself reads each record's header
and body separately: measured on a loopback echo of 64-byte messages, 1.1-1.4x
the round trips of ``SSLContext.wrap_socket`` on the non-blocking socket.

As with the stdlib's ``SSLSocket``: a peer that closes without a TLS
close_notify reads as end of file (``b""``); ``close()`` closes the
connection without a close_notify (``unwrap()`` sends one); a ``Timeout``
inside ``send``/``sendall`` leaves the connection's state undefined (some of
the data may have gone), so close it then.  One greenthread may read while
another writes.
"""

from __future__ import annotations

import errno
import socket as _socket
import ssl
from typing import Any, NoReturn

from eventhub.event import Event
from eventhub.net import GreenSocket, _StdSocket

__all__ = ["TLSSocket", "wrap_tls"]

# A recv(2) for the incoming buffer asks for this much: a full TLS record is
# at most 16 KiB plus its overhead, and a burst of small ones fits too.
_FILL_SIZE = 65536
# sendall() encrypts and sends this much at a time, and send() at most this
# much: the outgoing buffer holds one chunk's records, not the whole payload.
_SEND_CHUNK = 65536

_WantRead = ssl.SSLWantReadError
_ZeroReturn = ssl.SSLZeroReturnError
_EOF = ssl.SSLEOFError


class TLSSocket(GreenSocket):
    """A TLS connection over a cooperative socket; made by ``wrap_tls`` (or ``net.connect(tls=)``).

    ``recv``, ``recv_into``, ``send``, ``sendall`` and ``makefile`` carry
    plaintext, waiting cooperatively; the TLS details (``getpeercert``,
    ``cipher``, ``version``, ...) are those of ``ssl.SSLSocket``.
    """

    __slots__ = ("_tls", "_incoming", "_outgoing", "_flushing", "_flushed")

    def __init__(self, sock: _socket.socket, tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO):
        super().__init__(sock=sock)
        self._tls = tls
        self._incoming = incoming
        self._outgoing = outgoing
        self._flushing = False  # a greenthread is sending the outgoing buffer
        self._flushed: Event[None] | None = None  # for others waiting until it is done

    def __repr__(self) -> str:
        return f"<TLSSocket {self._sock!r}>"

    # -- moving the encrypted bytes -------------------------------------------------

    def _fill(self, size: int = _FILL_SIZE) -> None:
        """Wait for encrypted bytes and hand them to TLS (or tell it the peer closed)."""
        data = GreenSocket.recv(self, size)  # the plain socket's recv, compiled where built
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def _flush(self) -> None:
        """Send what TLS wrote to the outgoing buffer; with another greenthread
        already sending it, wait for that one instead (the order must hold)."""
        outgoing = self._outgoing
        while outgoing.pending:
            if self._flushing:
                if self._flushed is None:
                    self._flushed = Event()
                self._flushed.wait()
                continue
            self._flushing = True
            try:
                while outgoing.pending:
                    GreenSocket.sendall(self, outgoing.read())
            finally:
                self._flushing = False
                flushed, self._flushed = self._flushed, None
                if flushed is not None:
                    flushed.send(None)

    def _more(self) -> None:
        """TLS needs the peer's next bytes: send what it has to say first (a handshake
        message, a key update, ...), then wait for them."""
        if self._outgoing.pending:
            self._flush()
        if self._incoming.eof:
            raise _EOF(errno.ECONNRESET, "the peer closed the connection in the middle of the TLS exchange")
        self._fill()

    # -- the connection ---------------------------------------------------------------

    def do_handshake(self) -> None:
        """Run the TLS handshake; ``wrap_tls`` has, and once done it does nothing."""
        tls = self._tls
        while True:
            try:
                tls.do_handshake()
            except _WantRead:
                self._more()
            except ssl.SSLError:
                self._send_alert()
                raise
            else:
                break
        self._flush()

    def _send_alert(self) -> None:
        """After a TLS failure: tell the peer why (TLS wrote an alert), if it still listens."""
        try:
            self._flush()
        except OSError:
            pass  # the peer is gone: it learns nothing either way

    def unwrap(self) -> GreenSocket:
        """Close TLS with a close_notify both ways; return the plain socket, which carries on.

        This socket is closed afterwards.  The peer's close_notify is read byte
        by byte, so whatever the peer sends in the clear after it stays in the
        plain socket.
        """
        tls = self._tls
        while True:
            try:
                tls.unwrap()
            except _WantRead:
                self._flush()
                if self._incoming.eof:
                    raise _EOF(errno.ECONNRESET, "the peer closed the connection before its close_notify") from None
                self._fill(1)
            else:
                break
        self._flush()
        sock = self._sock
        plain = _StdSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        timeout = self._timeout
        self._closed = True
        result = GreenSocket(sock=plain)
        result.settimeout(timeout)
        return result

    # -- plaintext ----------------------------------------------------------------------

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes of plaintext; ``b""`` once the peer closed."""
        if flags:
            _no_flags("recv")
        tls, incoming = self._tls, self._incoming
        while True:
            if bufsize > 0 and not incoming.pending and not incoming.eof and not tls.pending():
                self._more()  # TLS could only answer "want read": a costly exception
            try:
                data = tls.read(bufsize)
            except _WantRead:  # part of a record
                if incoming.eof:
                    return b""
                self._more()
            except (_ZeroReturn, _EOF):
                return b""
            else:
                if self._outgoing.pending:
                    self._flush()
                return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Read plaintext into ``buffer`` (``nbytes`` of it, 0: all); 0 once the peer closed."""
        if flags:
            _no_flags("recv_into")
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        if not nbytes:
            nbytes = memoryview(buffer).nbytes
        tls, incoming = self._tls, self._incoming
        read: Any = tls.read  # with a buffer it returns a count (typeshed says bytes)
        while True:
            if not incoming.pending and not incoming.eof and not tls.pending():
                self._more()  # as in recv()
            try:
                count: int = read(nbytes, buffer)
            except _WantRead:
                if incoming.eof:
                    return 0
                self._more()
            except (_ZeroReturn, _EOF):
                return 0
            else:
                if self._outgoing.pending:
                    self._flush()
                return count

    def send(self, data: Any, flags: int = 0) -> int:
        """Send some of ``data`` (up to 64 KiB); return how much.  It is on its way when this returns."""
        if flags:
            _no_flags("send")
        view = memoryview(data).cast("B")
        return self._write(view[:_SEND_CHUNK] if len(view) > _SEND_CHUNK else view)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send all of ``data``."""
        if flags:
            _no_flags("sendall")
        if type(data) is bytes and len(data) <= _SEND_CHUNK:
            self._write(data)
            return
        view = memoryview(data).cast("B")
        for start in range(0, len(view), _SEND_CHUNK):
            self._write(view[start : start + _SEND_CHUNK])

    def _write(self, data: Any) -> int:
        tls = self._tls
        while True:
            try:
                count: int = tls.write(data)
            except _WantRead:  # TLS must hear from the peer first (a renegotiation)
                self._more()
            else:
                self._flush()
                return count

    # -- what ssl.SSLSocket tells ---------------------------------------------------------

    def pending(self) -> int:
        """Plaintext bytes already decrypted and waiting to be read."""
        return self._tls.pending()

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate, as ``ssl.SSLSocket.getpeercert``."""
        return self._tls.getpeercert(binary_form)

    def cipher(self) -> tuple[str, str, int] | None:
        return self._tls.cipher()

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        return self._tls.shared_ciphers()

    def compression(self) -> str | None:
        return self._tls.compression()

    def version(self) -> str | None:
        """The protocol negotiated (``"TLSv1.3"``, ...)."""
        return self._tls.version()

    def selected_alpn_protocol(self) -> str | None:
        return self._tls.selected_alpn_protocol()

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        return self._tls.get_channel_binding(cb_type)

    @property
    def context(self) -> ssl.SSLContext:
        return self._tls.context

    @property
    def server_side(self) -> bool:
        return self._tls.server_side

    @property
    def server_hostname(self) -> str | None:
        return self._tls.server_hostname

    @property
    def session(self) -> ssl.SSLSession | None:
        return self._tls.session

    @property
    def session_reused(self) -> bool:
        return self._tls.session_reused


def _no_flags(method: str) -> NoReturn:
    raise ValueError(f"non-zero flags not allowed in calls to {method}() on a TLSSocket")


def _refusal(name: str) -> Any:
    def refuse(self: TLSSocket, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError(f"{name}() would bypass TLS: not allowed on a TLSSocket")

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = f"Not on a TLS connection: ``{name}()`` would bypass TLS (``ValueError``)."
    return refuse


# The socket calls that would read or write the connection around TLS.
for _name in ("recvfrom", "recvfrom_into", "sendto", "recvmsg", "recvmsg_into", "sendmsg", "sendfile", "dup"):
    setattr(TLSSocket, _name, _refusal(_name))


def wrap_tls(
    sock: GreenSocket | _socket.socket,
    context: ssl.SSLContext,
    *,
    server_side: bool = False,
    server_hostname: str | None = None,
) -> TLSSocket:
    """Run TLS over the connected ``sock`` with ``context``; return it as a ``TLSSocket``.

    The handshake is done before this returns, waiting cooperatively under
    the socket's timeout.  ``sock`` is taken over (it is detached: use the
    result); a failed handshake closes the connection and raises
    (``ssl.SSLError``, ``OSError``).  A client checks the server's name
    against ``server_hostname`` when ``context.check_hostname`` is set.
    """
    if not isinstance(context, ssl.SSLContext):
        raise TypeError(f"wrap_tls() needs an ssl.SSLContext, not {type(context).__name__}")
    if not isinstance(sock, (GreenSocket, _StdSocket)):
        raise TypeError(f"wrap_tls() needs a GreenSocket or socket.socket, not {type(sock).__name__}")
    if isinstance(sock, TLSSocket):
        raise ValueError("this socket already runs TLS")
    if server_side and server_hostname is not None:
        raise ValueError("server_hostname can only be specified in client mode")
    if sock.type != _socket.SOCK_STREAM:
        raise ValueError("TLS needs a stream (SOCK_STREAM) socket")
    try:
        sock.getpeername()
    except OSError as e:
        if e.errno != errno.ENOTCONN:
            raise
        raise OSError(errno.ENOTCONN, "wrap_tls() needs a connected socket: connect it first") from None
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    # Made first: its errors (a client context on the server side, ...) leave sock as it was.
    tls = context.wrap_bio(incoming, outgoing, server_side=server_side, server_hostname=server_hostname)
    if isinstance(sock, GreenSocket):
        timeout = sock.gettimeout()
        raw = _StdSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        raw.settimeout(timeout)
    else:
        raw = sock
    result = TLSSocket(raw, tls, incoming, outgoing)
    try:
        result.do_handshake()
    except BaseException:
        result.close()
        raise
    return result
