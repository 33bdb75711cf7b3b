"""GreenSocket recv/send on every hub, through both the compiled fast path
(eventhub/_net.pyx, when built) and the pure-Python one: same results, same errors."""

from __future__ import annotations

import errno
import socket
from typing import Any, Iterator

import pytest

from eventhub import net, sleep, spawn
from eventhub.net import GreenSocket

NET_PATHS = ["pure"] + (["compiled"] if net._fast is not None else [])


@pytest.fixture(params=NET_PATHS)
def net_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(net, "_fast", None)
    return str(request.param)


@pytest.fixture
def gpair(hub: Any, net_path: str) -> Iterator[tuple[GreenSocket, GreenSocket]]:
    a, b = socket.socketpair()
    ga, gb = GreenSocket(sock=a), GreenSocket(sock=b)
    yield ga, gb
    ga.close()
    gb.close()


def test_pingpong(gpair: Any) -> None:
    a, b = gpair

    def echo() -> None:
        for _ in range(50):
            b.sendall(b.recv(10))

    t = spawn(echo)
    for i in range(50):
        msg = str(i).encode()
        a.sendall(msg)
        assert a.recv(10) == msg
    t.wait()


def test_recv_into_and_send(gpair: Any) -> None:
    a, b = gpair
    buf = bytearray(8)
    t = spawn(a.recv_into, buf)
    sleep(0)
    assert b.send(b"hello") == 5
    assert t.wait() == 5
    assert bytes(buf[:5]) == b"hello"
    b.send(memoryview(b"abcdef")[2:])
    assert a.recv_into(buf, 2) == 2 and bytes(buf[:2]) == b"cd"
    assert a.recv(0) == b""
    with pytest.raises(ValueError):
        a.recv(-1)
    with pytest.raises(ValueError):
        a.recv_into(bytearray(2), 5)
    with pytest.raises(ValueError):
        a.recv_into(buf, -1)
    with pytest.raises(TypeError):
        a.recv_into(b"immutable")
    with pytest.raises(TypeError):
        a.send("text")


def test_sendall_with_backpressure(gpair: Any) -> None:
    a, b = gpair
    data = bytes(range(256)) * 8000  # ~2 MB: far more than the socket buffers
    received = bytearray()

    def reader() -> None:
        while len(received) < len(data):
            received.extend(b.recv(65536))

    t = spawn(reader)
    a.sendall(data)
    t.wait()
    assert received == data


def test_recv_timeout(gpair: Any) -> None:
    a, _ = gpair
    a.settimeout(0.01)
    with pytest.raises(TimeoutError):
        a.recv(1)
    with pytest.raises(TimeoutError):
        a.recv_into(bytearray(1))


def test_nonblocking_raises_blocking_io_error(gpair: Any) -> None:
    a, _ = gpair
    a.setblocking(False)
    with pytest.raises(BlockingIOError):
        a.recv(1)


def test_closed_socket_errors(gpair: Any) -> None:
    a, b = gpair
    a.close()
    with pytest.raises(OSError) as info:
        a.recv(1)
    assert info.value.errno == errno.EBADF
    with pytest.raises(OSError):
        a.send(b"x")


def test_close_while_waiting(gpair: Any) -> None:
    a, _ = gpair
    errors: list[OSError] = []

    def reader() -> None:
        try:
            a.recv(1)
        except OSError as e:
            errors.append(e)

    t = spawn(reader)
    sleep(0)
    a.close()
    t.wait()
    assert errors and errors[0].errno == errno.EBADF


def test_peer_gone(gpair: Any) -> None:
    a, b = gpair
    b.close()
    assert a.recv(1) == b""
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        for _ in range(100):
            a.sendall(b"x" * 65536)


def _recv_after_send(reader: GreenSocket, writer: Any) -> bytes:
    def later() -> None:
        sleep(0.001)
        writer.send(b"z")

    t = spawn(later)
    data = reader.recv(1)
    t.wait()
    return data


def test_fd_reuse_across_sockets_closed_without_notify(hub: Any, net_path: str) -> None:
    """Sockets closed behind GreenSocket's back, their fds reused by new ones:
    every new socket's wait still wakes up (no stale registration trusted)."""
    for _ in range(30):
        a, b = socket.socketpair()
        ga = GreenSocket(sock=a)
        assert _recv_after_send(ga, b) == b"z"
        a.close()  # the raw socket: no notify_close
        b.close()
        del ga
    c, d = socket.socketpair()
    try:
        assert _recv_after_send(GreenSocket(sock=c), d) == b"z"
    finally:
        c.close()
        d.close()


def test_same_socket_waits_repeatedly(hub: Any, net_path: str) -> None:
    a, b = socket.socketpair()
    ga = GreenSocket(sock=a)
    try:
        for _ in range(20):
            assert _recv_after_send(ga, b) == b"z"
        ga.settimeout(0.01)
        with pytest.raises(TimeoutError):
            ga.recv(1)
    finally:
        ga.close()
        b.close()
