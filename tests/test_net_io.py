"""GreenSocket recv/send on every hub, through both the compiled fast path
(eventhub/_net.pyx, when built) and the pure-Python one: same results, same errors."""

from __future__ import annotations

import errno
import socket
from typing import Any, Iterator

import pytest

from eventhub import net, sleep, spawn
from eventhub.net import GreenSocket

NET_PATHS = ["pure"] + (["compiled"] if net._compiled is not None else [])


@pytest.fixture(params=NET_PATHS)
def net_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(net, "_compiled", None)
        for name, method in net.PURE_METHODS.items():
            monkeypatch.setattr(GreenSocket, name, method)
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


@pytest.mark.parametrize("bufsize", [1, 100, 8191, 8192, 8193, 70000])
def test_recv_returns_what_came_up_to_bufsize(gpair: Any, bufsize: int) -> None:
    # Small reads go through a shared buffer when compiled, large ones not.
    a, b = gpair
    data = bytes(range(256)) * 400  # 102400 bytes, more than any bufsize
    sender = spawn(b.sendall, data)
    got = bytearray()
    while len(got) < len(data):
        chunk = a.recv(bufsize)
        assert 0 < len(chunk) <= bufsize
        got += chunk
    sender.wait()
    assert bytes(got) == data
    b.sendall(b"xyz")
    assert a.recv(bufsize) == b"xyz"[:bufsize]


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


# -- a short read means "drained": the next plain recv waits before reading ------


def test_which_reads_run_a_stream_dry(gpair: Any) -> None:
    a, b = gpair
    b.sendall(b"abc")
    assert a.recv(10) == b"abc" and a._expect_dry  # short: nothing was left
    b.sendall(b"xy")
    assert a.recv(2) == b"xy" and not a._expect_dry  # waited first, then full: no evidence
    b.sendall(b"xyz")
    assert a.recv(2) == b"xy" and not a._expect_dry  # full at once: there may be more
    assert a.recv(10, socket.MSG_PEEK) == b"z" and not a._expect_dry  # a peek empties nothing
    assert a.recv_into(bytearray(8)) == 1 and a._expect_dry
    b.sendall(b"s")
    assert a.recv(1) == b"s" and not a._expect_dry
    def recv() -> Any:
        return a.recv(1)

    def recv_into() -> Any:
        return a.recv_into(bytearray(1))

    for read in (recv, recv_into):
        t = spawn(read)
        sleep(0)  # it found the socket empty and waits
        b.sendall(b"q")
        assert t.wait() in (b"q", 1) and a._expect_dry  # full, but it had to wait: dry
        b.sendall(b"r")
        assert read() in (b"r", 1) and not a._expect_dry  # waited first, full: back to reading first


def test_drained_recv_yields_once_even_if_data_is_there(gpair: Any) -> None:
    a, b = gpair
    b.sendall(b"abc")
    assert a.recv(10) == b"abc"
    b.sendall(b"more")  # already readable when recv is called
    order: list[str] = []
    spawn(order.append, "other")
    order.append(a.recv(10).decode())
    # recv waited for readiness first (one trip through the hub): the
    # greenthread spawned before it ran first, and no byte was lost.
    assert order == ["other", "more"]


@pytest.mark.parametrize("send", ["send", "sendall"])
def test_recv_after_a_send_waits_first(gpair: Any, send: str) -> None:
    a, b = gpair
    b.sendall(b"reply")  # already readable when a's recv is called
    getattr(a, send)(b"request")
    assert a._expect_dry
    order: list[str] = []
    spawn(order.append, "other")
    order.append(a.recv(10).decode())
    # The reply to a request is seldom there the moment it went out: recv
    # waited for readiness first (one trip through the hub), and no byte
    # was lost.
    assert order == ["other", "reply"]
    assert b.recv(10) == b"request"


def test_drained_recv_still_gets_later_data(gpair: Any) -> None:
    a, b = gpair
    for i in range(20):  # every read is short, so every recv waits first
        t = spawn(a.recv, 100)
        sleep(0)
        b.sendall(str(i).encode())
        assert t.wait() == str(i).encode()
    assert a._expect_dry


def test_drained_socket_keeps_nonblocking_and_bad_input_immediate(gpair: Any) -> None:
    a, b = gpair
    b.sendall(b"abc")
    assert a.recv(10) == b"abc" and a._expect_dry
    # None of these may wait for data that is not coming.
    with pytest.raises(BlockingIOError):
        a.recv(10, socket.MSG_DONTWAIT)
    with pytest.raises(ValueError):
        a.recv(-1)
    with pytest.raises(TypeError):
        a.recv_into(b"read-only")
    with pytest.raises(ValueError):
        a.recv_into(bytearray(2), 5)
    a.setblocking(False)
    with pytest.raises(BlockingIOError):
        a.recv(10)
    with pytest.raises(BlockingIOError):
        a.recv_into(bytearray(4))
    a.settimeout(0.01)
    with pytest.raises(TimeoutError):
        a.recv(10)


def test_datagram_reads_are_never_guessed_drained(hub: Any, net_path: str) -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ga, gb = GreenSocket(sock=a), GreenSocket(sock=b)
    try:
        gb.send(b"one")
        gb.send(b"two")
        assert not gb._expect_dry  # nor does sending make its next read wait first
        # One datagram per read, each shorter than asked, more still queued.
        assert ga.recv(10) == b"one" and not ga._expect_dry
        assert ga.recv(10) == b"two" and not ga._expect_dry
    finally:
        ga.close()
        gb.close()


def test_msg_dontwait_never_waits(gpair: Any) -> None:
    a, b = gpair  # blocking sockets: only the flag says "don't wait"
    with pytest.raises(BlockingIOError):
        a.recv(1, socket.MSG_DONTWAIT)
    with pytest.raises(BlockingIOError):
        a.recv_into(bytearray(1), 0, socket.MSG_DONTWAIT)
    with pytest.raises(BlockingIOError):
        a.recvfrom(1, socket.MSG_DONTWAIT)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    with pytest.raises(BlockingIOError):
        while True:  # fill the buffer until a send would block
            b.send(b"x" * 4096, socket.MSG_DONTWAIT)
