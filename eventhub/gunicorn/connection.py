"""What a handler greenthread works with: the client's socket and its listener's name."""

from __future__ import annotations

import os
from typing import Any

from eventhub.net import GreenSocket

#: Bytes per os.sendfile() call: large enough to be cheap, small enough to
#: let other connections run between the chunks of a big file.
SENDFILE_CHUNK = 1 << 20


class ClientSocket(GreenSocket):
    """A client connection: eventhub's cooperative socket (compiled recv/send when built).

    It adds a cooperative ``sendfile()``, which gunicorn uses for
    ``wsgi.file_wrapper`` responses: the stdlib one refuses non-blocking
    sockets, and every eventhub socket is one underneath.
    """

    __slots__ = ()

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """Send ``count`` bytes (default: to the end) of ``file`` from ``offset``, as ``socket.sendfile``.

        Uses ``os.sendfile`` and waits for writability between chunks;
        leaves the file position after the last byte sent.
        """
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
