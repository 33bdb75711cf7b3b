"""The accept loop: each new connection to its own handler greenthread.

It is what gunicorn's old eventlet worker lacked under bad conditions:

- running out of descriptors or kernel memory (``EMFILE``, ``ENFILE``,
  ``ENOBUFS``, ``ENOMEM``) pauses accepting, with a backoff that a finished
  connection cuts short (it just freed a descriptor), and accepting resumes
  by itself; the old worker's accepting greenthread died there and the
  worker never served again;
- errors ``accept()`` reports about the one connection it took (the peer
  reset it before it was accepted, ...) are skipped;
- at most ``limit`` handlers run at once (gunicorn's ``worker_connections``);
  further connections wait in the listen backlog.

The loop ends only when its greenthread is killed (the worker's graceful
shutdown does that); the listening socket stays open, as it belongs to the
gunicorn master and its other workers.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any, Callable

from eventhub.event import Event
from eventhub.greenthread import GreenThread, spawn
from eventhub.hubs import notify_opened, trampoline

#: accept() failed for want of a resource that finishing connections give back.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

#: accept() failed because of the connection it was taking, not the listener:
#: Linux passes pending network errors of the new socket on (see accept(2)),
#: and a firewall may refuse it (EPERM).  The next connection is fine.
CONNECTION_ERRNOS = frozenset(
    {
        errno.ECONNABORTED,
        errno.EPROTO,
        errno.ENOPROTOOPT,
        errno.EHOSTDOWN,
        errno.ENONET,
        errno.EHOSTUNREACH,
        errno.EOPNOTSUPP,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.EPERM,
        errno.EINTR,
    }
)

#: The stdlib socket class, bound at import: in a worker that ran
#: ``eventlet.monkey_patch()`` since, ``socket.socket`` is eventlet's.
_StdSocket = socket.socket

#: The first and the longest pause after a resource error (seconds).
FIRST_BACKOFF = 0.005
MAX_BACKOFF = 0.5


class Acceptor:
    """Accepts on ``listener`` and runs ``serve(sock, address)`` in a greenthread per connection.

    ``listener`` is a listening stdlib socket (made non-blocking here);
    ``serve`` gets a new stdlib socket, which it owns and must close.
    ``handlers`` holds the greenthreads still running.
    """

    def __init__(
        self,
        listener: socket.socket,
        serve: Callable[[socket.socket, Any], object],
        limit: int,
        log: Any,
    ) -> None:
        if limit < 1:
            raise ValueError(f"the connection limit must be at least 1, not {limit}")
        listener.setblocking(False)
        self.listener = listener
        self.serve = serve
        self.limit = limit
        self.log = log
        self.handlers: set[GreenThread[object]] = set()
        # Sent when a handler ends while run() waits for one to (for room
        # under the limit, or for a freed descriptor during a backoff).
        self._handler_ended: Event[None] = Event()

    def run(self) -> None:
        """Accept forever (until killed)."""
        listener = self.listener
        backoff = 0.0
        while True:
            if len(self.handlers) >= self.limit:
                self._wait_for_a_handler(None)
                continue
            try:
                fd, address = listener._accept()  # type: ignore[attr-defined]
            except BlockingIOError:
                trampoline(listener, read=True)
                continue
            except OSError as e:
                if e.errno in RESOURCE_ERRNOS:
                    backoff = self._back_off(e, backoff)
                    continue
                if e.errno in CONNECTION_ERRNOS:
                    continue
                raise
            if backoff:
                self.log.warning("Accepting connections again")
                backoff = 0.0
            # The fd number may be one the hub still has waiters on (a file
            # closed behind its back): they get IOClosed, not our events.
            notify_opened(fd)
            sock = _StdSocket(listener.family, listener.type, listener.proto, fileno=fd)
            handler = spawn(self.serve, sock, address)
            self.handlers.add(handler)
            handler.link(self._finished)

    def _back_off(self, error: OSError, backoff: float) -> float:
        """Pause after a resource error; return the pause taken (the next one doubles)."""
        if not backoff:
            self.log.warning(
                "accept() failed: %s; pausing new connections until descriptors are free",
                os.strerror(error.errno or 0),
            )
        backoff = min(MAX_BACKOFF, backoff * 2 or FIRST_BACKOFF)
        self._wait_for_a_handler(backoff)
        return backoff

    def _wait_for_a_handler(self, timeout: float | None) -> None:
        """Wait until a handler ends, or ``timeout`` seconds (None: no limit)."""
        ended = self._handler_ended
        ended.wait(timeout)
        if ended.ready():
            ended.reset()

    def _finished(self, handler: GreenThread[object]) -> None:
        self.handlers.discard(handler)
        if not self._handler_ended.ready():
            self._handler_ended.send(None)
