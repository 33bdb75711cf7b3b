"""What a handler greenthread works with: the client's socket and its listener's name."""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from eventhub.net import GreenSocket

#: Bytes per os.sendfile() call: large enough to be cheap, small enough to
#: let other connections run between the chunks of a big file.
SENDFILE_CHUNK = 1 << 20

#: A held header block is joined to the data sent after it by copying both
#: into one buffer when that data is at most this long; longer data goes
#: out in its own send.
JOIN_LIMIT = 1 << 16

_send = GreenSocket.send
_sendall = GreenSocket.sendall
_recv = GreenSocket.recv
_recv_into = GreenSocket.recv_into


def _is_header_block(data: Any) -> bool:
    """Whether ``data`` is an HTTP/1 response head (status line to the blank line)."""
    return data.__class__ is bytes and data[:5] == b"HTTP/" and data[-4:] == b"\r\n\r\n"


class ClientSocket(GreenSocket):
    """A client connection: eventhub's cooperative socket (compiled recv/send when built).

    Two things for gunicorn on top:

    - gunicorn sends a response's header block and its body in two
      ``sendall`` calls, two system calls and often two TCP segments.  This
      socket holds a header block back and sends it together with whatever
      comes next; any other use of the socket (a read, ``close()``,
      ``shutdown()``, ``sendfile()``, ``flush()``) first sends what is held.
      gunicorn always does one of those after a response, without waiting
      on anything else, so a held header block never waits for the network.
    - a cooperative ``sendfile()``, which gunicorn uses for
      ``wsgi.file_wrapper`` responses: the stdlib one refuses non-blocking
      sockets, and every eventhub socket is one underneath.
    """

    __slots__ = ("_held",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held = b""

    def flush(self) -> None:
        """Send the header block held back, if any."""
        held = self._held
        if held:
            self._held = b""
            _sendall(self, held)

    def sendall(self, data: Any, flags: int = 0) -> None:
        held = self._held
        if held:
            self._held = b""
            if flags or len(data) > JOIN_LIMIT:
                _sendall(self, held)
            else:
                data = held + data
        elif not flags and _is_header_block(data):
            self._held = data
            return
        _sendall(self, data, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        self.flush()
        return _send(self, data, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self._held:
            self.flush()
        return _recv(self, bufsize, flags)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if self._held:
            self.flush()
        return _recv_into(self, buffer, nbytes, flags)

    def shutdown(self, how: int) -> None:
        self.flush()
        super().shutdown(how)

    def close(self) -> None:
        if self._held and not self._closed:
            try:
                self.flush()
            except OSError:
                pass  # the peer is gone: there is no one to send it to
        super().close()

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """Send ``count`` bytes (default: to the end) of ``file`` from ``offset``, as ``socket.sendfile``.

        Uses ``os.sendfile`` and waits for writability between chunks;
        leaves the file position after the last byte sent.
        """
        self.flush()
        if count is not None and count <= 0:
            return 0
        in_fd = file.fileno()
        out_fd = self.fileno()
        total = 0
        try:
            while count is None or total < count:
                chunk = SENDFILE_CHUNK if count is None else min(SENDFILE_CHUNK, count - total)
                try:
                    sent = os.sendfile(out_fd, in_fd, offset + total, chunk)
                except BlockingIOError:
                    self._wait(False)
                    continue
                if sent == 0:
                    break  # end of file
                total += sent
        finally:
            if total:
                file.seek(offset + total)
        return total


class ListenerName:
    """Stands for a listener where gunicorn only asks its name (``getsockname()``).

    Asked once per connection; asking the real listener costs a system call
    and, once the worker is shutting down, may find it closed.
    """

    __slots__ = ("_name",)

    def __init__(self, name: Any) -> None:
        self._name = name

    def getsockname(self) -> Any:
        return self._name


class OncePerSecond:
    """``http_date()`` formatting the current time once per second, not once per response.

    Wraps gunicorn's ``util.http_date(timestamp=None)`` (an HTTP Date
    header's text; seconds are its finest unit) and returns the very same
    strings: formatting through ``email.utils`` was a few percent of a
    small request's time.  An explicit timestamp is formatted as asked.
    """

    __slots__ = ("_format", "_second", "_text")

    def __init__(self, http_date: Callable[..., str]) -> None:
        self._format = http_date
        self._second = -1
        self._text = ""

    def __call__(self, timestamp: float | None = None) -> str:
        if timestamp is not None:
            return self._format(timestamp)
        second = int(time.time())
        if second != self._second:
            self._text = self._format(second)
            self._second = second
        return self._text
