"""``EventletWorker``: gunicorn's async worker, for eventlet applications, on eventhub's hub."""

from __future__ import annotations

import os
import signal
import socket
import sys
import types
from typing import Any

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.greenio  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.hubs  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.wsgi  # type: ignore[import-untyped,import-not-found,unused-ignore]
import gunicorn.util  # type: ignore[import-untyped,import-not-found,unused-ignore]
from gunicorn.sock import ssl_wrap_socket  # type: ignore[import-untyped,import-not-found,unused-ignore]
from gunicorn.workers.base_async import ALREADY_HANDLED, AsyncWorker  # type: ignore[import-untyped,import-not-found,unused-ignore]

import eventhub.eventlet
from eventhub import hubs
from eventhub.greenthread import GreenletExit, GreenThread, sleep, spawn
from eventhub import eventlet_queue
from eventhub.gunicorn.accept import Acceptor
from eventhub.gunicorn.connection import ClientSocket, ListenerName, OncePerSecond
from eventhub.timeout import Timeout

#: How often the main loop tells the arbiter the worker is alive (seconds),
#: as gunicorn's own async workers do.  A signal wakes it at once.
HEARTBEAT = 1.0

#: The worker ends its graceful shutdown this much before ``graceful_timeout``
#: (seconds, at most a quarter of it): the arbiter SIGKILLs a worker still
#: there at the timeout, and we would rather close the last connections ourselves.
GRACE_MARGIN = 0.5

#: The unpatched os.read (bound before any monkey-patching): the green one
#: would wait on an empty non-blocking pipe instead of saying it is empty.
_read = os.read

#: What ``eventlet.hubs.use_hub()`` takes to make eventlet's hub of this
#: thread the very instance ``eventhub.hubs.get_hub()`` returns, so eventlet
#: greenthreads and eventhub's compiled sockets, spawn and Timeout share one loop.
_SHARED_HUB = types.SimpleNamespace(Hub=hubs.get_hub, is_available=lambda: True)


def share_one_hub() -> Any:
    """Make eventlet and eventhub use one hub in this thread: an ``eventhub.eventlet.Hub``.

    Returns it.  Any hub either of them had in this thread is dropped.
    """
    hubs.use_hub(eventhub.eventlet.Hub)
    eventlet.hubs.use_hub(_SHARED_HUB)
    hub = hubs.get_hub()
    if eventlet.hubs.get_hub() is not hub:
        raise RuntimeError(f"eventlet did not take eventhub's hub: it runs {eventlet.hubs.get_hub()!r}")
    return hub


class EventletWorker(AsyncWorker):  # type: ignore[misc]
    """A gunicorn worker serving eventlet applications on eventhub's compiled hub.

    ``gunicorn -k eventhub.gunicorn.EventletWorker app:app``.  Each worker
    process applies ``eventlet.monkey_patch()`` before it loads the
    application, makes eventlet's green queues (``queue``'s once patched,
    and ``eventlet.queue``'s) serve their waiters first come, first served
    (``eventhub.eventlet_queue``), runs
    eventlet's greenthreads and the worker's own on one
    ``eventhub.eventlet.Hub``, and serves each connection in a greenthread
    (at most ``worker_connections`` at once).
    """

    def init_process(self) -> None:
        # Patched here, after the fork and before gunicorn loads the
        # application: gunicorn's master (threads, queues, asyncio in
        # gunicorn >= 25) stays unpatched.  With --preload the application
        # was imported by the master already: it must patch itself first.
        eventlet.monkey_patch()
        if not eventlet_queue.install():
            self.log.warning("eventhub: this eventlet's queues are not as eventhub.eventlet_queue expects: left unfair")
        share_one_hub()
        self.acceptors: list[Acceptor] = []
        # Read per request or connection otherwise, through gunicorn's slow Config.__getattr__;
        # a changed setting (SIGHUP) comes with new workers anyway.
        self._keepalive = self.cfg.keepalive or None
        self._is_ssl = self.cfg.is_ssl
        gunicorn.util.http_date = OncePerSecond(gunicorn.util.http_date)
        super().init_process()

    # -- signals: gunicorn's handlers may block, so they run in greenthreads --

    def handle_quit(self, sig: int, frame: Any) -> None:
        """SIGQUIT/SIGINT: quick shutdown (gunicorn's handler sleeps, so not in the signal handler)."""
        spawn(super().handle_quit, sig, frame)

    def handle_usr1(self, sig: int, frame: Any) -> None:
        """SIGUSR1: reopen the log files, in a greenthread (logging takes green locks)."""
        spawn(super().handle_usr1, sig, frame)

    # -- the arbiter's heartbeat --------------------------------------------

    def notify(self) -> None:
        """Tell the arbiter we are alive; exit if the arbiter that started us is gone."""
        super().notify()
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            sys.exit(0)

    # -- serving --------------------------------------------------------------

    def timeout_ctx(self) -> Any:
        """Bounds the wait for each request on a kept-alive connection: the ``keepalive`` setting."""
        return Timeout(self._keepalive, False)

    def is_already_handled(self, respiter: Any) -> bool:
        """An eventlet app that took the socket over (eventlet.websocket) ends the connection.

        Such an app flags it in ``eventlet.wsgi.WSGI_LOCAL`` and returns an
        empty list; the flag (a greenthread-local, slow to read) is read only then.
        """
        if respiter.__class__ is list and not respiter and getattr(eventlet.wsgi.WSGI_LOCAL, "already_handled", False):
            raise StopIteration()
        return respiter is ALREADY_HANDLED  # gunicorn's own marker, as its AsyncWorker checks

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, GreenletExit):
            # Killed at the end of the graceful timeout (waiting for a
            # request, or inside the app): nothing to answer or report.
            self.log.debug("Closing connection at the graceful timeout")
            return
        super().handle_error(req, client, addr, exc)

    def serve_connection(self, listener: ListenerName, sock: socket.socket, address: Any) -> None:
        """One connection, from accept to close (gunicorn's ``handle`` closes it)."""
        client: Any
        if self._is_ssl:
            # eventlet's green ssl (monkey-patched) over eventlet's green socket.
            client = ssl_wrap_socket(eventlet.greenio.GreenSocket(sock), self.cfg)
        else:
            client = ClientSocket(sock=sock)
        self.handle(listener, client, address)

    def run(self) -> None:
        for listener in self.sockets:
            name = ListenerName(listener.getsockname())
            # gunicorn's listener objects wrap the socket: accept on the socket itself.
            acceptor = Acceptor(listener.sock, self._serve_from(name), self.worker_connections, self.log)
            self.acceptors.append(acceptor)
        accepting = [spawn(a.run) for a in self.acceptors]

        while self.alive:
            self.notify()
            self._wait_for_signal(HEARTBEAT)

        for gt in accepting:
            gt.kill()
        self._finish_requests()
        # The process now exits, and the interpreter's finalization gives
        # SIGTERM its default action back.  gunicorn 23's arbiter repeats
        # SIGTERM to a worker it is retiring until the worker is gone: one
        # arriving then would kill us by signal, which the arbiter logs as
        # an error.  Our shutdown is done: there is nothing left to stop.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def _wait_for_signal(self, seconds: float) -> None:
        """Sleep up to ``seconds``; a signal ends it early (gunicorn points the wakeup fd at PIPE)."""
        try:
            hubs.trampoline(self.PIPE[0], read=True, timeout=seconds)
        except TimeoutError:
            return
        try:
            while _read(self.PIPE[0], 4096):
                pass
        except BlockingIOError:
            pass

    def _serve_from(self, name: ListenerName) -> Any:
        def serve(sock: socket.socket, address: Any) -> None:
            self.serve_connection(name, sock, address)

        return serve

    def _finish_requests(self) -> None:
        """Graceful shutdown: let open connections finish within ``graceful_timeout``, then kill them.

        Kept-alive connections end after their current request (``alive`` is
        false, so gunicorn answers with ``Connection: close``).
        """
        handlers: set[GreenThread[object]] = set()
        for acceptor in self.acceptors:
            handlers |= acceptor.handlers
        graceful = self.cfg.graceful_timeout
        hub = hubs.get_hub()
        deadline = hub.clock() + graceful - min(GRACE_MARGIN, graceful / 4)
        while any(not h.dead for h in handlers):
            left = deadline - hub.clock()
            if left <= 0:
                self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
                for h in handlers:
                    h.kill()
                return
            self.notify()
            sleep(min(HEARTBEAT, left, 0.05))
