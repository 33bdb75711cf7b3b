"""gevent as a benchmark target, on its default loop (libev)."""

from __future__ import annotations

import socket
from typing import Any, Callable

from eventhub.bench import certs
from eventhub.bench.green import GreenAPI, GreenTLS, Scheduler, contexts_of
from eventhub.bench.target import GreenTarget, Unavailable


def load() -> GreenTarget:
    try:
        import gevent  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import gevent.event  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import gevent.socket  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import gevent.ssl  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as e:
        raise Unavailable(f"cannot import gevent: {e}") from None

    hub = gevent.get_hub()
    loop = hub.loop

    def scheduler() -> Scheduler:
        timer = loop.timer

        def call_later(delay: float, callback: Callable[[], None]) -> Any:
            # A raw libev timer watcher: the closest thing to a hub timer.
            watcher = timer(delay)
            watcher.start(callback)
            return watcher

        return call_later

    def event() -> tuple[Any, Any]:
        ev = gevent.event.Event()
        return ev.wait, ev.set

    def listen(backlog: int) -> Any:
        sock = gevent.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(backlog)
        return sock

    def tls_server(sock: Any, context: Any) -> Any:
        return context.wrap_socket(sock, server_side=True)

    def tls_connect(address: tuple[str, int], context: Any) -> Any:
        return context.wrap_socket(gevent.socket.create_connection(address), server_hostname=certs.HOSTNAME)

    api = GreenAPI(
        spawn=gevent.spawn,
        join=gevent.Greenlet.get,
        sleep=gevent.sleep,
        # Timeout(10) alone is not started in gevent; start_new() is.  close()
        # is cancel() plus releasing the watcher, for a timeout never reused.
        start_timeout=gevent.Timeout.start_new,
        cancel_timeout=gevent.Timeout.close,
        timer_scheduler=scheduler,
        new_event=event,
        socketpair=gevent.socket.socketpair,
        listen=listen,
        connect=gevent.socket.create_connection,
        to_thread=hub.threadpool.apply,
        tls=GreenTLS(contexts_of(gevent.ssl.SSLContext), tls_server, tls_connect),
    )
    loop_type = type(loop)
    return GreenTarget(
        f"gevent {gevent.__version__} {loop_type.__module__}.{loop_type.__qualname__}",
        api,
        lambda: None,  # gevent's hub cannot be replaced per sample; it is reused
    )
