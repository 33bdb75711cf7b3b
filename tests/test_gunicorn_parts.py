"""The gunicorn worker's hub-level parts on every hub: the accept loop and the client socket.

They need neither gunicorn nor eventlet (``tests/gunicorn_worker`` runs the
worker itself under real gunicorn).
"""

from __future__ import annotations

import errno
import select
import socket
from typing import Any, Iterator

import pytest

from eventhub import Event, sleep, spawn
from eventhub.gunicorn.accept import Acceptor
from eventhub.gunicorn.connection import JOIN_LIMIT, ClientSocket, OncePerSecond
from eventhub.net import GreenSocket

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"


class RecordingLog:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: Any) -> None:
        self.warnings.append(message % args)


class FlakyListener:
    """A listening socket whose first ``failures`` accepts fail with ``error``."""

    def __init__(self, real: socket.socket, error: int, failures: int) -> None:
        self.real = real
        self.error = error
        self.failures = failures
        self.family, self.type, self.proto = real.family, real.type, real.proto

    def setblocking(self, flag: bool) -> None:
        self.real.setblocking(flag)

    def fileno(self) -> int:
        return self.real.fileno()

    def _accept(self) -> Any:
        if self.failures:
            self.failures -= 1
            raise OSError(self.error, "injected")
        return self.real._accept()  # type: ignore[attr-defined]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock
    finally:
        sock.close()


def connect_green(port: int) -> GreenSocket:
    conn = GreenSocket()
    conn.settimeout(10)  # a broken acceptor fails the test instead of hanging it
    conn.connect(("127.0.0.1", port))
    return conn


def echo_once(sock: socket.socket, address: Any) -> None:
    with ClientSocket(sock=sock) as conn:
        conn.sendall(conn.recv(100))


@pytest.mark.parametrize("error", [errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM])
def test_accept_backs_off_on_resource_errors_and_recovers(hub: Any, listener: socket.socket, error: int) -> None:
    log = RecordingLog()
    flaky = FlakyListener(listener, error, failures=4)
    acceptor = Acceptor(flaky, echo_once, 10, log)  # type: ignore[arg-type]
    gt = spawn(acceptor.run)
    client = connect_green(listener.getsockname()[1])
    client.sendall(b"ping")
    assert client.recv(100) == b"ping"  # served once the errors stopped
    assert flaky.failures == 0
    assert log.warnings[0].startswith("accept() failed: ")
    assert len(log.warnings) == 2  # one at the start of the episode, one at its end
    assert log.warnings[1] == "Accepting connections again"
    client.close()
    gt.kill()


def test_accept_skips_errors_of_the_connection_it_took(hub: Any, listener: socket.socket) -> None:
    log = RecordingLog()
    flaky = FlakyListener(listener, errno.ECONNABORTED, failures=3)
    gt = spawn(Acceptor(flaky, echo_once, 10, log).run)  # type: ignore[arg-type]
    client = connect_green(listener.getsockname()[1])
    client.sendall(b"ping")
    assert client.recv(100) == b"ping"
    assert log.warnings == []
    client.close()
    gt.kill()


def test_an_unexpected_accept_error_ends_the_loop(hub: Any, listener: socket.socket) -> None:
    flaky = FlakyListener(listener, errno.EINVAL, failures=1)
    gt = spawn(Acceptor(flaky, echo_once, 10, RecordingLog()).run)  # type: ignore[arg-type]
    with pytest.raises(OSError) as info:
        gt.wait()
    assert info.value.errno == errno.EINVAL


def test_accept_runs_at_most_limit_handlers(hub: Any, listener: socket.socket) -> None:
    release: Event[None] = Event()
    running = []

    def held(sock: socket.socket, address: Any) -> None:
        running.append(sock)
        release.wait()
        sock.close()

    acceptor = Acceptor(listener, held, 2, RecordingLog())
    gt = spawn(acceptor.run)
    clients = [connect_green(listener.getsockname()[1]) for _ in range(5)]
    for _ in range(20):
        sleep(0.01)
    assert len(running) == 2 and len(acceptor.handlers) == 2
    release.send(None)
    for _ in range(200):
        if len(running) == 5:
            break
        sleep(0.01)
    assert len(running) == 5  # the rest were accepted as handlers ended
    for c in clients:
        c.close()
    gt.kill()


def test_acceptor_rejects_a_limit_below_one(listener: socket.socket) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Acceptor(listener, echo_once, 0, RecordingLog())


@pytest.fixture
def pair(hub: Any) -> Iterator[tuple[ClientSocket, socket.socket]]:
    """(a ClientSocket, the plain blocking socket at its other end) over loopback TCP."""
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        peer = socket.create_connection(lsock.getsockname())
        server, _ = lsock.accept()
    client = ClientSocket(sock=server)
    peer.settimeout(5)
    try:
        yield client, peer
    finally:
        client.close()
        peer.close()


def nothing_arrived(peer: socket.socket) -> bool:
    readable, _, _ = select.select([peer], [], [], 0.05)
    return not readable


def test_a_header_block_waits_for_the_body_and_leaves_with_it(pair: tuple[ClientSocket, socket.socket]) -> None:
    client, peer = pair
    client.sendall(HEAD)
    assert nothing_arrived(peer)
    client.sendall(b"hello")
    expected = HEAD + b"hello"
    assert peer.recv(len(expected), socket.MSG_WAITALL) == expected


@pytest.mark.parametrize("then", ["recv", "recv_into", "close", "shutdown", "send", "flush"])
def test_any_other_use_sends_the_held_header_block_first(pair: tuple[ClientSocket, socket.socket], then: str) -> None:
    client, peer = pair
    client.sendall(HEAD)
    if then == "recv":
        peer.sendall(b"next")
        assert client.recv(10) == b"next"
    elif then == "recv_into":
        peer.sendall(b"next")
        assert client.recv_into(bytearray(10)) == 4
    elif then == "shutdown":
        client.shutdown(socket.SHUT_WR)
    elif then == "send":
        assert client.send(b"x") == 1
    else:
        getattr(client, then)()
    assert peer.recv(len(HEAD), socket.MSG_WAITALL) == HEAD


def test_a_large_body_after_a_header_block_arrives_whole(pair: tuple[ClientSocket, socket.socket]) -> None:
    client, peer = pair
    body = bytes(range(256)) * (JOIN_LIMIT // 256 + 10)
    reader = spawn(lambda: peer.recv(len(HEAD) + len(body), socket.MSG_WAITALL))
    client.sendall(HEAD)
    client.sendall(body)
    client.close()
    assert reader.wait() == HEAD + body


def test_ordinary_data_is_not_held(pair: tuple[ClientSocket, socket.socket]) -> None:
    client, peer = pair
    client.sendall(b"chunk\r\n\r\n")  # not a response head
    assert peer.recv(100) == b"chunk\r\n\r\n"


def test_sendfile_sends_the_held_head_then_the_file_range(pair: tuple[ClientSocket, socket.socket], tmp_path: Any) -> None:
    client, peer = pair
    path = tmp_path / "data"
    path.write_bytes(b"0123456789" * 1000)
    with open(path, "rb") as f:
        client.sendall(HEAD)
        assert client.sendfile(f, offset=5, count=20) == 20
        assert f.tell() == 25
        assert client.sendfile(f, offset=9990) == 10  # to the end of the file
        assert client.sendfile(f, count=0) == 0
    expected = HEAD + b"56789012345678901234" + b"0123456789"
    assert peer.recv(len(expected), socket.MSG_WAITALL) == expected


def test_once_per_second_returns_what_it_wraps() -> None:
    calls: list[float] = []

    def http_date(timestamp: float | None = None) -> str:
        calls.append(timestamp if timestamp is not None else -1.0)
        return f"date {int(timestamp) if timestamp is not None else 'now'}"

    cached = OncePerSecond(http_date)
    first = cached()
    assert first.startswith("date ") and first == cached() == cached()
    assert len(calls) <= 2  # formatted once (twice if a second ticked over)
    assert cached(12.5) == "date 12"  # an explicit time is formatted as asked
