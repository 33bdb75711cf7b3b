"""The workloads for greenlet frameworks (eventhub, eventlet, gevent), written once.

Each framework supplies a ``GreenAPI``: its own spawn, join, sleep,
Timeout, raw timers, event, cooperative sockets, thread pool and TLS, bound
directly (no wrapper where the framework's API already fits) so the loops
below measure the framework, not an adapter.  Every workload returns a ``Sample``: the
operations it counted and the seconds its timed part took.
"""

from __future__ import annotations

import random
import socket
import ssl
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable

from eventhub.bench import certs
from eventhub.bench.workloads import Sizes

#: How every workload reports: (operations counted, seconds timed).
Sample = tuple[int, float]
Scheduler = Callable[[float, Callable[[], None]], Any]


class WorkloadError(Exception):
    """The workload ran but its result is inconsistent (lost messages, ...)."""


@dataclass(frozen=True)
class GreenTLS:
    """One greenlet framework's TLS, as the tls workload needs it."""

    #: (cert file, key file) -> (server context, client context), of the framework's own SSLContext class.
    contexts: Callable[[str, str], tuple[Any, Any]]
    #: (accepted socket, server context) -> a TLS socket, handshake done.
    wrap_server: Callable[[Any, Any], Any]
    #: (address, client context) -> a TLS connection to ``certs.HOSTNAME``, handshake done.
    connect: Callable[[tuple[str, int], Any], Any]


def contexts_of(context_class: Callable[[int], ssl.SSLContext]) -> Callable[[str, str], tuple[Any, Any]]:
    """``GreenTLS.contexts`` for a framework whose contexts are ``context_class`` (a subclass of ssl.SSLContext)."""

    def contexts(cert: str, key: str) -> tuple[Any, Any]:
        server = context_class(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert, key)
        client = context_class(ssl.PROTOCOL_TLS_CLIENT)  # checks the certificate and its host name
        client.load_verify_locations(cert)
        return server, client

    return contexts


@dataclass(frozen=True)
class GreenAPI:
    """One greenlet framework's primitives, as the workloads need them."""

    spawn: Callable[..., Any]
    join: Callable[[Any], Any]  # returns the greenthread's result
    sleep: Callable[[float], Any]
    start_timeout: Callable[[float], Any]  # a started timeout with .pending
    cancel_timeout: Callable[[Any], Any]
    timer_scheduler: Callable[[], Scheduler]  # the current hub's call_later
    new_event: Callable[[], tuple[Callable[[], Any], Callable[[], Any]]]  # (wait, fire)
    socketpair: Callable[[], tuple[Any, Any]]
    listen: Callable[[int], Any]  # backlog -> socket listening on 127.0.0.1
    connect: Callable[[tuple[str, int]], Any]
    to_thread: Callable[..., Any]  # (fn, *args) -> fn(*args) run in the framework's thread pool
    tls: GreenTLS
    #: Block the calling greenthread until a coroutine finishes (its result);
    #: None where greenthreads do not run on an asyncio loop.
    run_coroutine: Callable[[Any], Any] | None = None


def switch(api: GreenAPI, sizes: Sizes) -> Sample:
    sleep = api.sleep

    def loop(n: int) -> int:
        for _ in range(n):
            sleep(0)
        return n

    start = time.perf_counter()
    threads = [api.spawn(loop, sizes.switch_sleeps) for _ in range(sizes.switch_threads)]
    count = sum(api.join(t) for t in threads)
    return count, time.perf_counter() - start


def spawn(api: GreenAPI, sizes: Sizes) -> Sample:
    def task() -> int:
        return 1

    spawn_ = api.spawn
    start = time.perf_counter()
    threads = [spawn_(task) for _ in range(sizes.spawn_threads)]
    count = sum(api.join(t) for t in threads)
    return count, time.perf_counter() - start


def timeout(api: GreenAPI, sizes: Sizes) -> Sample:
    start_timeout = api.start_timeout
    cancel = api.cancel_timeout
    count = 0
    start = time.perf_counter()
    for _ in range(sizes.timeouts):
        t = start_timeout(10)
        if t.pending:
            count += 1
        cancel(t)
    return count, time.perf_counter() - start


def timers(api: GreenAPI, sizes: Sizes) -> Sample:
    n = sizes.timers
    rng = random.Random(n)
    delays = [rng.random() * sizes.timer_window for _ in range(n)]
    wait, fire = api.new_event()
    fired = 0

    def callback() -> None:
        nonlocal fired
        fired += 1
        if fired == n:
            fire()

    call_later = api.timer_scheduler()
    start = time.perf_counter()
    for delay in delays:
        call_later(delay, callback)
    wait()
    return fired, time.perf_counter() - start


def _ping(sock: Any, n: int) -> int:
    send, recv = sock.sendall, sock.recv
    count = 0
    for _ in range(n):
        send(b"x")
        if recv(1) == b"x":
            count += 1
    return count


def _pong(sock: Any, n: int) -> None:
    send, recv = sock.sendall, sock.recv
    for _ in range(n):
        send(recv(1))


def _pingpong(api: GreenAPI, n: int) -> Sample:
    a, b = api.socketpair()
    try:
        start = time.perf_counter()
        ponger = api.spawn(_pong, b, n)
        count = api.join(api.spawn(_ping, a, n))
        elapsed = time.perf_counter() - start
        api.join(ponger)
    finally:
        a.close()
        b.close()
    return count, elapsed


def pingpong(api: GreenAPI, sizes: Sizes) -> Sample:
    return _pingpong(api, sizes.pingpong_round_trips)


def idle(api: GreenAPI, sizes: Sizes) -> Sample:
    """Ping-pong while ``idle_sockets`` sockets each have a greenthread blocked in recv."""
    pairs = [api.socketpair() for _ in range(sizes.idle_sockets // 2)]
    blocked = 0

    def reader(sock: Any) -> bytes:
        nonlocal blocked
        blocked += 1
        data: bytes = sock.recv(1)
        return data

    readers = [api.spawn(reader, s) for pair in pairs for s in pair]
    while blocked < len(readers):
        api.sleep(0)
    api.sleep(0)  # the last reader to start is now registered too
    try:
        return _pingpong(api, sizes.idle_round_trips)
    finally:
        for a, b in pairs:
            a.shutdown(socket.SHUT_WR)
            b.shutdown(socket.SHUT_WR)
        leftovers = [api.join(r) for r in readers]
        for a, b in pairs:
            a.close()
            b.close()
        if any(leftovers):
            raise WorkloadError("an idle socket received data")


def echo(api: GreenAPI, sizes: Sizes) -> Sample:
    return _echo(api, sizes.echo_clients, sizes.echo_messages, sizes.echo_message_size, _as_is, api.connect)


def _as_is(conn: Any) -> Any:
    return conn


def _echo(
    api: GreenAPI,
    clients: int,
    messages: int,
    size: int,
    serve: Callable[[Any], Any],
    connect: Callable[[tuple[str, int]], Any],
) -> Sample:
    """``clients`` concurrent connections (``connect``) to an echo server, ``messages`` round trips each.

    Each accepted connection's handler first passes it through ``serve``.
    """
    server = api.listen(max(1024, 2 * clients))
    address = server.getsockname()
    handlers: list[Any] = []

    def handle(accepted: Any) -> int:
        conn = serve(accepted)
        recv, send = conn.recv, conn.sendall
        echoed = 0
        while True:
            data = recv(4096)
            if not data:
                break
            send(data)
            echoed += len(data)
        conn.close()
        return echoed

    def acceptor(n: int) -> None:
        for _ in range(n):
            conn, _ = server.accept()
            handlers.append(api.spawn(handle, conn))

    def client(m: int) -> int:
        sock = connect(address)
        send, recv = sock.sendall, sock.recv
        message = b"m" * size
        done = 0
        for _ in range(m):
            send(message)
            got = 0
            while got < size:
                chunk = recv(size - got)
                if not chunk:
                    raise WorkloadError("the echo server closed the connection early")
                got += len(chunk)
            done += 1
        sock.close()
        return done

    start = time.perf_counter()
    accepting = api.spawn(acceptor, clients)
    connections = [api.spawn(client, messages) for _ in range(clients)]
    count = sum(api.join(c) for c in connections)
    elapsed = time.perf_counter() - start
    api.join(accepting)
    echoed = sum(api.join(h) for h in handlers)
    server.close()
    if echoed != count * size:
        raise WorkloadError(f"the server echoed {echoed} bytes for {count} messages of {size}")
    return count, elapsed


def await_greenthread(api: GreenAPI, sizes: Sizes) -> Sample:
    run_coroutine = api.run_coroutine
    if run_coroutine is None:
        raise WorkloadError("await needs greenthreads on an asyncio loop (see GreenTarget)")
    spawn_ = api.spawn

    def task() -> int:
        return 1

    async def main(n: int) -> int:
        count = 0
        for _ in range(n):
            count += await spawn_(task)
        return count

    start = time.perf_counter()
    count: int = run_coroutine(main(sizes.awaits))
    return count, time.perf_counter() - start


def offload(api: GreenAPI, sizes: Sizes) -> Sample:
    to_thread = api.to_thread

    def call() -> int:
        return 1

    def loop(n: int) -> int:
        count = 0
        for _ in range(n):
            count += to_thread(call)
        return count

    api.join(api.spawn(to_thread, call))  # the pool's first thread starts outside the timing
    start = time.perf_counter()
    count: int = api.join(api.spawn(loop, sizes.offloads))
    return count, time.perf_counter() - start


def tls_echo(api: GreenAPI, sizes: Sizes) -> Sample:
    """``echo`` over TLS: each client connects and shakes hands (timed), then exchanges its messages."""
    with tempfile.TemporaryDirectory() as directory:
        server_context, client_context = api.tls.contexts(*certs.make(directory))

    def serve(conn: Any) -> Any:
        return api.tls.wrap_server(conn, server_context)

    def connect(address: tuple[str, int]) -> Any:
        return api.tls.connect(address, client_context)

    return _echo(api, sizes.tls_clients, sizes.tls_messages, sizes.tls_message_size, serve, connect)


WORKLOAD_FUNCTIONS: dict[str, Callable[[GreenAPI, Sizes], Sample]] = {
    "switch": switch,
    "spawn": spawn,
    "timeout": timeout,
    "timers": timers,
    "pingpong": pingpong,
    "idle": idle,
    "echo": echo,
    "await": await_greenthread,
    "offload": offload,
    "tls": tls_echo,
}
