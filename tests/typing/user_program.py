"""A user program on eventhub's public API; it must pass ``mypy --strict``.

tests/test_typing.py type-checks it (and runs it: it is real code).
"""

from __future__ import annotations

import socket
import ssl
import time

import eventhub
from eventhub import hubs, net
from eventhub.hubs import HubError, IOClosed


def square(n: int) -> int:
    eventhub.sleep(0.001)
    return n * n


def echo_once(conn: net.GreenSocket, address: object) -> None:
    with conn:
        data: bytes = conn.recv(100)
        conn.sendall(data)


def hang_up(conn: net.GreenSocket, address: object) -> None:
    conn.close()


def ping(port: int) -> bytes:
    with net.connect(("127.0.0.1", port), timeout=5.0) as sock:
        sock.sendall(b"ping")
        return sock.recv(100)


def slow_square(n: int) -> int:
    time.sleep(0.001)  # blocking: fine in a worker thread
    return n * n


def tls_version(port: int, context: ssl.SSLContext) -> str | None:
    conn: net.TLSSocket = net.connect(("127.0.0.1", port), tls=context, server_hostname="localhost", timeout=5.0)
    with conn:
        return conn.version()


def wait_readable(sock: socket.socket) -> None:
    try:
        hubs.trampoline(sock, read=True, timeout=0.01, timeout_exc=TimeoutError("nothing to read"))
    except TimeoutError:
        pass
    except IOClosed:
        raise


def main() -> list[int]:
    try:
        hubs.use_hub("epolls")
    except HubError:
        hubs.use_hub()  # the default
    hub = hubs.get_hub()
    fired: list[str] = []
    timer = hub.schedule_call_global(0, fired.append, "timer")
    pending: bool = timer.pending

    threads: list[eventhub.GreenThread[int]] = [eventhub.spawn(square, n) for n in range(5)]
    results: list[int] = [t.wait() for t in threads]

    done: eventhub.Event[str] = eventhub.Event()
    eventhub.spawn_after(0.001, done.send, "done")
    message: str | None = done.wait()
    assert message == "done" and pending
    untyped = eventhub.Event()  # no annotation needed: the value type defaults to Any
    eventhub.spawn_after(0.001, untyped.send, 1)
    assert untyped.wait() == 1

    with eventhub.Timeout(0.01, False):
        eventhub.sleep(1)

    listener = net.listen(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    server = eventhub.spawn(net.serve, listener, echo_once)
    reply: bytes = eventhub.spawn(ping, port).wait()
    assert reply == b"ping"
    listener.close()
    server.wait()

    a, b = socket.socketpair()
    with a, b:
        eventhub.spawn(wait_readable, a).wait()
    assert fired == ["timer"]

    offloaded: int = eventhub.to_thread(slow_square, 7)
    assert offloaded == 49
    addresses = net.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    family: socket.AddressFamily = addresses[0][0]
    assert family in (socket.AF_INET, socket.AF_INET6)

    # TLS: a server that is closed before anyone connects, and a client whose
    # handshake meets a plain server hanging up (no certificate at hand here).
    tls_listener = net.listen(("127.0.0.1", 0))
    tls_server = eventhub.spawn(net.serve, tls_listener, echo_once, tls=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    tls_listener.close()
    tls_server.wait()
    plain = net.listen(("127.0.0.1", 0))
    hanging_up = eventhub.spawn(net.serve, plain, hang_up)
    try:
        tls_version(plain.getsockname()[1], ssl.create_default_context())
    except OSError:  # ssl.SSLError is one
        pass
    plain.close()
    hanging_up.wait()
    return results


if __name__ == "__main__":
    print(main())
