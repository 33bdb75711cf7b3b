"""Cooperative sockets (eventhub.net) on every hub."""

from __future__ import annotations

import errno
import os
import socket
import time
from typing import Any, Iterator

import pytest

from eventhub import Event, GreenletExit, GreenThread, Timeout, sleep, spawn
from eventhub import net
from eventhub.hubs import trampoline
from eventhub.net import GreenSocket, StopServe

SLOW = 5.0
LOCALHOST = "127.0.0.1"


class Boom(Exception):
    """A test-only error."""


@pytest.fixture
def refused_address() -> Iterator[tuple[str, int]]:
    """A loopback port that is bound but not listening: connecting is refused.

    Keeping it bound means no other process can start listening there
    while the test runs.
    """
    s = socket.socket()
    s.bind((LOCALHOST, 0))
    try:
        yield s.getsockname()
    finally:
        s.close()


def echo_handler(conn: GreenSocket, addr: Any) -> None:
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def recv_exactly(sock: GreenSocket, n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_all(sock: GreenSocket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


# -- basics -------------------------------------------------------------------


def test_socketpair_round_trip(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        assert isinstance(a, GreenSocket) and isinstance(b, GreenSocket)
        a.sendall(b"ping")
        assert recv_exactly(b, 4) == b"ping"
        assert b.send(b"pong") == 4
        assert recv_exactly(a, 4) == b"pong"


def test_recv_waits_cooperatively(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        ticks: list[int] = []

        def ticker() -> None:
            for i in range(3):
                ticks.append(i)
                sleep(0.005)
            a.sendall(b"after ticks")

        spawn(ticker)
        with Timeout(SLOW):
            data = recv_exactly(b, len(b"after ticks"))
        assert data == b"after ticks"
        assert ticks == [0, 1, 2]  # they ran while we were blocked in recv


def test_large_transfer_both_ways(hub: Any) -> None:
    """Much more than the kernel buffers hold: sendall must park and resume."""
    payload = os.urandom(4 * 1024 * 1024)
    a, b = net.socketpair()
    with a, b:
        writer = spawn(a.sendall, payload)
        with Timeout(SLOW * 4):
            received = recv_exactly(b, len(payload))
            writer.wait()
        assert received == payload
        back = spawn(b.sendall, payload[::-1])
        with Timeout(SLOW * 4):
            assert recv_exactly(a, len(payload)) == payload[::-1]
            back.wait()


def test_recv_returns_empty_at_eof(hub: Any) -> None:
    a, b = net.socketpair()
    with b:
        a.sendall(b"last")
        a.close()
        assert recv_exactly(b, 4) == b"last"
        with Timeout(SLOW):
            assert b.recv(10) == b""


def test_shutdown_write_gives_eof_to_peer(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        a.sendall(b"half")
        a.shutdown(socket.SHUT_WR)
        with Timeout(SLOW):
            assert recv_all(b) == b"half"
        b.sendall(b"still open this way")
        assert recv_exactly(a, 19) == b"still open this way"


def test_recv_into(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        buf = bytearray(10)
        spawn(a.sendall, b"0123456789abc")
        with Timeout(SLOW):
            n = b.recv_into(buf, 4)
        assert n == 4 and bytes(buf[:4]) == b"0123" and bytes(buf[4:]) == bytes(6)
        view = memoryview(buf)[4:]
        got = 0
        with Timeout(SLOW):
            while got < len(view):
                got += b.recv_into(view[got:])
        assert bytes(buf) == b"0123456789"
        assert recv_exactly(b, 3) == b"abc"


def test_udp_sendto_recvfrom(hub: Any) -> None:
    rx = GreenSocket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = GreenSocket(socket.AF_INET, socket.SOCK_DGRAM)
    with rx, tx:
        rx.bind((LOCALHOST, 0))
        tx.bind((LOCALHOST, 0))
        got: list[tuple[bytes, Any]] = []

        def receive() -> None:
            got.append(rx.recvfrom(100))
            buf = bytearray(100)
            n, addr = rx.recvfrom_into(buf)
            got.append((bytes(buf[:n]), addr))

        r = spawn(receive)
        sleep(0)  # the receiver is parked before anything was sent
        assert got == []
        assert tx.sendto(b"datagram one", rx.getsockname()) == 12
        assert tx.sendto(b"datagram two", 0, rx.getsockname()) == 12
        with Timeout(SLOW):
            r.wait()
        assert got == [(b"datagram one", tx.getsockname()), (b"datagram two", tx.getsockname())]


def test_udp_recv_timeout(hub: Any) -> None:
    rx = GreenSocket(socket.AF_INET, socket.SOCK_DGRAM)
    with rx:
        rx.bind((LOCALHOST, 0))
        rx.settimeout(0.02)
        with pytest.raises(TimeoutError):
            rx.recvfrom(10)


# -- timeouts and blocking mode -------------------------------------------------


def test_socket_timeout_is_timeout_error() -> None:
    assert socket.timeout is TimeoutError


def test_settimeout_recv_raises_timeout_error(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        b.settimeout(0.03)
        assert b.gettimeout() == 0.03
        start = time.monotonic()
        with pytest.raises(socket.timeout):
            b.recv(10)
        assert 0.02 <= time.monotonic() - start < SLOW
        # The socket is still usable and its listener is gone.
        assert hub.get_readers() == []
        a.sendall(b"later")
        assert recv_exactly(b, 5) == b"later"


def test_settimeout_validation(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        with pytest.raises(ValueError):
            a.settimeout(-1)
        a.settimeout(2)
        assert a.gettimeout() == 2.0
        a.settimeout(None)
        assert a.gettimeout() is None
        assert a.getblocking()


def test_wrapping_a_stdlib_socket_keeps_its_timeout(hub: Any) -> None:
    a, b = socket.socketpair()
    a.settimeout(0.02)
    ga = GreenSocket(sock=a)
    with ga, b:
        assert ga.gettimeout() == 0.02
        with pytest.raises(TimeoutError):
            ga.recv(1)
    with pytest.raises(TypeError):
        GreenSocket(sock=object())  # type: ignore[arg-type]


def test_accept_timeout(hub: Any) -> None:
    with net.listen((LOCALHOST, 0)) as listener:
        listener.settimeout(0.02)
        with pytest.raises(TimeoutError):
            listener.accept()


def test_setblocking_false_raises_blocking_io_error(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        b.setblocking(False)
        assert not b.getblocking()
        assert b.gettimeout() == 0.0
        with pytest.raises(BlockingIOError):
            b.recv(10)
        a.sendall(b"x")
        # Data that is there is returned without blocking.
        deadline = time.monotonic() + SLOW
        while True:
            try:
                assert b.recv(10) == b"x"
                break
            except BlockingIOError:
                assert time.monotonic() < deadline
                sleep(0.001)
        b.setblocking(True)
        assert b.gettimeout() is None


def test_nonblocking_accept(hub: Any) -> None:
    with net.listen((LOCALHOST, 0)) as listener:
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_nonblocking_connect_ex_returns_einprogress(hub: Any) -> None:
    """As the stdlib: a non-blocking connect_ex() reports EINPROGRESS (or 0), never raises."""
    with net.listen((LOCALHOST, 0)) as listener:
        s = GreenSocket()
        with s:
            s.setblocking(False)
            err = s.connect_ex(listener.getsockname())
            assert err in (0, errno.EINPROGRESS)
            with Timeout(SLOW):
                conn, _ = listener.accept()
            conn.close()
        s2 = GreenSocket()
        with s2:
            s2.setblocking(False)
            try:
                s2.connect(listener.getsockname())
            except BlockingIOError as e:  # the usual outcome on Linux
                assert e.errno == errno.EINPROGRESS
            with Timeout(SLOW):
                conn, _ = listener.accept()
            conn.close()


# -- connecting -----------------------------------------------------------------


def test_listen_connect_accept(hub: Any) -> None:
    with net.listen((LOCALHOST, 0)) as listener:
        addr = listener.getsockname()
        accepted: list[tuple[GreenSocket, Any]] = []
        acceptor = spawn(lambda: accepted.append(listener.accept()))
        with Timeout(SLOW):
            client = net.connect(addr)
            acceptor.wait()
        conn, peer = accepted[0]
        with client, conn:
            assert isinstance(conn, GreenSocket)
            assert peer == client.getsockname()
            assert conn.gettimeout() is None  # accepted sockets block (cooperatively)
            client.sendall(b"hi")
            assert recv_exactly(conn, 2) == b"hi"


def test_connect_ex_refused(hub: Any, refused_address: tuple[str, int]) -> None:
    s = GreenSocket()
    with s:
        with Timeout(SLOW):
            assert s.connect_ex(refused_address) == errno.ECONNREFUSED


def test_connect_refused(hub: Any, refused_address: tuple[str, int]) -> None:
    s = GreenSocket()
    with s:
        with Timeout(SLOW):
            with pytest.raises(ConnectionRefusedError):
                s.connect(refused_address)
    with Timeout(SLOW):
        with pytest.raises(ConnectionRefusedError):
            net.connect(refused_address)
        with pytest.raises(ConnectionRefusedError):
            net.connect(refused_address, timeout=SLOW)


def test_connect_with_timeout_succeeds(hub: Any) -> None:
    with net.listen((LOCALHOST, 0)) as listener:
        with Timeout(SLOW):
            client = net.connect(listener.getsockname(), timeout=SLOW)
        with client:
            assert client.gettimeout() is None


# -- makefile -------------------------------------------------------------------


def test_makefile_text_lines_both_directions(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        a_r, a_w = a.makefile("r", encoding="utf-8"), a.makefile("w", encoding="utf-8")
        b_r, b_w = b.makefile("r", encoding="utf-8"), b.makefile("w", encoding="utf-8")
        try:

            def server() -> None:
                for line in b_r:
                    b_w.write(line.upper())
                    b_w.flush()
                    if line == "bye\n":
                        return

            srv = spawn(server)
            with Timeout(SLOW):
                for text in ("hello\n", "wörld\n", "bye\n"):
                    a_w.write(text)
                    a_w.flush()
                    assert a_r.readline() == text.upper()
                srv.wait()
        finally:
            for f in (a_r, a_w, b_r, b_w):
                f.close()


def test_makefile_binary_rw(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        fa = a.makefile("rwb")
        fb = b.makefile("rwb")
        with fa, fb:
            fa.write(b"line one\nline two\n")
            fa.flush()
            with Timeout(SLOW):
                assert fb.readline() == b"line one\n"
                assert fb.readline() == b"line two\n"
            fb.write(b"reply\n")
            fb.flush()
            with Timeout(SLOW):
                assert fa.readline() == b"reply\n"


def test_makefile_keeps_socket_open_until_file_closed(hub: Any) -> None:
    """As the stdlib: close() with a makefile() object open defers the real close."""
    a, b = net.socketpair()
    with b:
        f = a.makefile("wb")
        a.close()
        f.write(b"through the file\n")
        f.flush()
        with Timeout(SLOW):
            assert recv_exactly(b, 17) == b"through the file\n"
        f.close()
        assert a.fileno() == -1
        with Timeout(SLOW):
            assert b.recv(10) == b""


def test_makefile_timeout(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        b.settimeout(0.02)
        f = b.makefile("rb")
        with f:
            with pytest.raises(TimeoutError):
                f.readline()


def test_makefile_rejects_bad_mode(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        with pytest.raises(ValueError):
            a.makefile("x")
        with pytest.raises(ValueError):
            a.makefile("r", buffering=0)  # unbuffered text


# -- closing --------------------------------------------------------------------


def test_context_manager_closes(hub: Any) -> None:
    with GreenSocket() as s:
        assert s.fileno() >= 0
    assert s.fileno() == -1
    with pytest.raises(OSError):
        s.recv(1)
    s.close()  # closing twice is fine


def test_sendall_to_peer_that_closes_raises(hub: Any) -> None:
    """TCP: the peer reads a little and closes; sendall raises, never hangs."""
    with net.listen((LOCALHOST, 0)) as listener:
        client = net.connect(listener.getsockname())
        conn, _ = listener.accept()
        with client:

            def peer() -> None:
                conn.recv(1024)
                sleep(0.02)
                conn.close()  # unread data pending: the kernel resets the connection

            spawn(peer)
            with Timeout(SLOW * 4):
                with pytest.raises((BrokenPipeError, ConnectionResetError)):
                    client.sendall(b"x" * (64 * 1024 * 1024))


def test_sendall_to_unix_peer_that_closes_raises(hub: Any) -> None:
    a, b = net.socketpair()
    with a:

        def peer() -> None:
            b.recv(1024)
            b.close()

        spawn(peer)
        with Timeout(SLOW * 4):
            with pytest.raises((BrokenPipeError, ConnectionResetError)):
                a.sendall(b"x" * (64 * 1024 * 1024))


def test_close_wakes_greenthread_blocked_in_recv(hub: Any) -> None:
    a, b = net.socketpair()
    with a:
        outcome: list[BaseException] = []

        def reader() -> None:
            try:
                b.recv(10)
            except OSError as e:
                outcome.append(e)

        r = spawn(reader)
        sleep(0)
        assert hub.get_readers() != []
        b.close()
        with Timeout(SLOW):
            r.wait()
        assert len(outcome) == 1 and isinstance(outcome[0], OSError)
        assert hub.get_readers() == []


def test_uncaught_error_of_closed_socket_is_printed_and_loop_goes_on(
    hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A greenthread that lets the close error escape dies alone: printed, not
    raised into the hub's loop or into the main greenlet."""
    a, b = net.socketpair()
    with a:
        ticks: list[int] = []

        def ticker() -> None:
            for i in range(5):
                ticks.append(i)
                sleep(0.005)

        reader: GreenThread[bytes] = spawn(b.recv, 10)
        t = spawn(ticker)
        sleep(0)
        b.close()
        with Timeout(SLOW):
            with pytest.raises(OSError):
                reader.wait()
            t.wait()
        assert ticks == [0, 1, 2, 3, 4]
        assert "closed while waiting" in capsys.readouterr().err
        sleep(0)


def test_close_wakes_greenthread_blocked_in_sendall(hub: Any) -> None:
    a, b = net.socketpair()
    with b:
        outcome: list[BaseException] = []

        def writer() -> None:
            try:
                a.sendall(b"x" * (32 * 1024 * 1024))  # far more than the buffers hold
            except OSError as e:
                outcome.append(e)

        w = spawn(writer)
        sleep(0)
        assert hub.get_writers() != []
        a.close()
        with Timeout(SLOW):
            w.wait()
        assert len(outcome) == 1
        assert hub.get_writers() == []


def test_kill_greenthread_blocked_in_recv_frees_the_socket(hub: Any) -> None:
    """The killed reader's listener is removed: another greenthread can read next."""
    a, b = net.socketpair()
    with a, b:
        first = spawn(b.recv, 10)
        sleep(0)
        assert len(hub.get_readers()) == 1
        first.kill()
        assert hub.get_readers() == []
        second = spawn(b.recv, 10)
        sleep(0)
        a.sendall(b"for second")
        with Timeout(SLOW):
            assert second.wait() == b"for second"
        with pytest.raises(GreenletExit):
            first.wait()


def test_second_simultaneous_reader_is_refused(hub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = net.socketpair()
    with a, b:
        first = spawn(b.recv, 10)
        second = spawn(b.recv, 10)
        sleep(0)
        with Timeout(SLOW):
            with pytest.raises(RuntimeError, match="[Ss]econd simultaneous"):
                second.wait()
        a.sendall(b"to first")
        with Timeout(SLOW):
            assert first.wait() == b"to first"
    capsys.readouterr()


def test_close_wakes_greenthread_blocked_in_accept(hub: Any) -> None:
    listener = net.listen((LOCALHOST, 0))
    outcome: list[BaseException] = []

    def acceptor() -> None:
        try:
            listener.accept()
        except OSError as e:
            outcome.append(e)

    g = spawn(acceptor)
    sleep(0)
    listener.close()
    with Timeout(SLOW):
        g.wait()
    assert len(outcome) == 1


def test_close_does_not_disturb_other_sockets(hub: Any) -> None:
    a, b = net.socketpair()
    c, d = net.socketpair()
    with a, c, d:
        got: list[bytes] = []
        errors: list[BaseException] = []

        def read_b() -> None:
            try:
                b.recv(1)
            except OSError as e:
                errors.append(e)

        def read_d() -> None:
            got.append(d.recv(5))

        gb, gd = spawn(read_b), spawn(read_d)
        sleep(0)
        b.close()
        with Timeout(SLOW):
            gb.wait()
            c.sendall(b"alive")
            gd.wait()
        assert len(errors) == 1 and got == [b"alive"]


# -- serve ----------------------------------------------------------------------


def test_serve_echo_and_stop_by_closing_listener(hub: Any) -> None:
    listener = net.listen((LOCALHOST, 0))
    addr = listener.getsockname()
    server: GreenThread[None] = spawn(net.serve, listener, echo_handler)
    with Timeout(SLOW):
        for i in range(3):
            with net.connect(addr) as c:
                c.sendall(b"echo %d" % i)
                c.shutdown(socket.SHUT_WR)
                assert recv_all(c) == b"echo %d" % i
    listener.close()
    with Timeout(SLOW):
        assert server.wait() is None


def test_serve_stopserve(hub: Any) -> None:
    listener = net.listen((LOCALHOST, 0))
    addr = listener.getsockname()
    handled: list[bytes] = []

    def handler(conn: GreenSocket, peer: Any) -> None:
        line = conn.makefile("rb").readline()
        handled.append(line)
        if line == b"stop\n":
            raise StopServe()
        conn.sendall(b"ok\n")

    server: GreenThread[None] = spawn(net.serve, listener, handler)
    with Timeout(SLOW):
        with net.connect(addr) as c:
            c.sendall(b"work\n")
            assert recv_all(c) == b"ok\n"
        with net.connect(addr) as c:
            c.sendall(b"stop\n")
            assert recv_all(c) == b""  # the handler's connection was closed
        assert server.wait() is None
    assert handled == [b"work\n", b"stop\n"]
    assert listener.fileno() == -1  # serve() closed the listener
    with pytest.raises(OSError):
        with Timeout(SLOW):
            net.connect(addr)


def test_serve_handler_error_is_printed_and_server_goes_on(
    hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    listener = net.listen((LOCALHOST, 0))
    addr = listener.getsockname()
    calls: list[int] = []

    def handler(conn: GreenSocket, peer: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise Boom("handler failed")
        conn.sendall(b"second ok")

    server: GreenThread[None] = spawn(net.serve, listener, handler)
    with Timeout(SLOW):
        with net.connect(addr) as c:
            assert recv_all(c) == b""  # closed by serve() after the error
        with net.connect(addr) as c:
            assert recv_all(c) == b"second ok"
    listener.close()
    with Timeout(SLOW):
        server.wait()
    assert "handler failed" in capsys.readouterr().err


def test_serve_rejects_bad_concurrency(hub: Any) -> None:
    with net.listen((LOCALHOST, 0)) as listener:
        with pytest.raises(ValueError):
            net.serve(listener, echo_handler, concurrency=0)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_serve_concurrency_limit(hub: Any, concurrency: int) -> None:
    listener = net.listen((LOCALHOST, 0), backlog=64)
    addr = listener.getsockname()
    active = [0]
    max_active = [0]
    served: list[int] = []

    def handler(conn: GreenSocket, peer: Any) -> None:
        active[0] += 1
        max_active[0] = max(max_active[0], active[0])
        try:
            n = int(recv_all(conn))
            sleep(0.02)  # hold the slot while the other clients wait
            served.append(n)
        finally:
            active[0] -= 1

    server: GreenThread[None] = spawn(net.serve, listener, handler, concurrency=concurrency)

    def client(i: int) -> None:
        with net.connect(addr) as c:
            c.sendall(b"%d" % i)
            c.shutdown(socket.SHUT_WR)
            assert recv_all(c) == b""

    n_clients = concurrency * 4
    clients = [spawn(client, i) for i in range(n_clients)]
    with Timeout(SLOW * 2):
        for c in clients:
            c.wait()
        while len(served) < n_clients:
            sleep(0.005)
    assert sorted(served) == list(range(n_clients))
    assert max_active[0] == concurrency
    listener.close()
    with Timeout(SLOW):
        server.wait()


# -- many connections -------------------------------------------------------------

N_CONNECTIONS = 200
PAYLOAD = 16 * 1024


def test_many_concurrent_connections_echo(hub: Any) -> None:
    """200 loopback connections open at once, each echoing its own bytes."""
    listener = net.listen((LOCALHOST, 0), backlog=1024)
    addr = listener.getsockname()
    server: GreenThread[None] = spawn(net.serve, listener, echo_handler)
    all_connected: Event[None] = Event()
    connected = [0]
    results: dict[int, bool] = {}

    def client(i: int) -> None:
        payload = os.urandom(PAYLOAD - 4) + i.to_bytes(4, "big")
        with net.connect(addr) as c:
            connected[0] += 1
            if connected[0] == N_CONNECTIONS:
                all_connected.send(None)
            all_connected.wait()  # every connection is open before any data flows

            def write() -> None:
                c.sendall(payload)
                c.shutdown(socket.SHUT_WR)

            w = spawn(write)
            echoed = recv_all(c)
            w.wait()
        results[i] = echoed == payload

    clients = [spawn(client, i) for i in range(N_CONNECTIONS)]
    with Timeout(60):
        for c in clients:
            c.wait()
    assert connected[0] == N_CONNECTIONS
    assert len(results) == N_CONNECTIONS
    assert all(results.values()), [i for i, ok in results.items() if not ok]
    listener.close()
    with Timeout(SLOW):
        server.wait()
    assert hub.get_readers() == [] and hub.get_writers() == []


def test_sendall_timeout_when_peer_does_not_read(hub: Any) -> None:
    a, b = net.socketpair()
    with a, b:
        a.settimeout(0.05)
        with Timeout(SLOW):
            with pytest.raises(TimeoutError):
                a.sendall(b"x" * (32 * 1024 * 1024))
        assert hub.get_writers() == []


def test_sendall_accepts_any_buffer(hub: Any) -> None:
    import array

    a, b = net.socketpair()
    with a, b:
        data = array.array("i", range(1000))
        a.sendall(data)
        a.sendall(memoryview(b"tail"))
        with Timeout(SLOW):
            got = recv_exactly(b, data.itemsize * 1000 + 4)
        assert got == data.tobytes() + b"tail"


def test_listen_reuse_port(hub: Any) -> None:
    first = net.listen((LOCALHOST, 0), reuse_port=True)
    with first:
        port = first.getsockname()[1]
        second = net.listen((LOCALHOST, port), reuse_port=True)
        with second:
            assert second.getsockname() == first.getsockname()
        with pytest.raises(OSError):
            net.listen((LOCALHOST, port))  # without SO_REUSEPORT: address in use


def fill_send_buffer(sock: GreenSocket) -> None:
    """Send until the kernel refuses more, so a write wait really blocks."""
    sock.setblocking(False)
    try:
        while True:
            sock.send(b"f" * 65536)
    except BlockingIOError:
        pass
    finally:
        sock.setblocking(True)


def test_failing_greenthread_does_not_disturb_waiters_on_its_fd(
    hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader that dies with an error right after an I/O wake-up must not make
    the hub drop (and spuriously wake) the writer waiting on the same socket."""
    a, b = net.socketpair()
    with a, b:
        fill_send_buffer(a)
        writer_woke: list[bool] = []

        def writer() -> None:
            trampoline(a, write=True)
            writer_woke.append(True)

        def reader() -> None:
            a.recv(1)
            raise Boom("reader failed")

        w = spawn(writer)
        r = spawn(reader)
        sleep(0)
        b.sendall(b"x")  # wakes the reader, which then fails
        with Timeout(SLOW):
            with pytest.raises(Boom):
                r.wait()
        for _ in range(3):
            sleep(0)
        sleep(0.02)
        assert writer_woke == [] and not w.dead  # a's send buffer is still full
        assert len(hub.get_writers()) == 1
        err = capsys.readouterr().err
        assert "reader failed" in err
        assert "Removing descriptor" not in err
        w.kill()


def test_killing_with_custom_exception_does_not_disturb_unrelated_fd(
    hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """kill(exc) of a greenthread, made right after an I/O wake-up of the killer,
    leaves the killer's socket and its other waiters alone."""
    a, b = net.socketpair()
    with a, b:
        fill_send_buffer(a)
        writer_woke: list[bool] = []

        def writer() -> None:
            trampoline(a, write=True)
            writer_woke.append(True)

        def feeder() -> None:
            sleep(0.01)  # after we are parked in recv()
            b.sendall(b"x")

        w = spawn(writer)
        victim = spawn(sleep, 60)
        spawn(feeder)
        sleep(0)
        with Timeout(SLOW):
            assert a.recv(1) == b"x"  # we were resumed by a's readiness
        victim.kill(Boom("custom kill"))
        with pytest.raises(Boom):
            victim.wait()
        for _ in range(3):
            sleep(0)
        sleep(0.02)
        assert writer_woke == [] and not w.dead
        assert "Removing descriptor" not in capsys.readouterr().err
        w.kill()


def test_ioclosed_escaping_a_plain_greenlet_is_printed_and_loop_goes_on(
    hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hub's own guard (not GreenThread's): a plain greenlet parented to the
    hub that lets IOClosed escape must not end the loop or hit main."""
    import greenlet

    from eventhub.hubs import IOClosed, notify_close

    a, b = socket.socketpair()
    try:
        g = greenlet.greenlet(lambda: trampoline(a, read=True), parent=hub.greenlet)
        hub.schedule_call_global(0, g.switch)
        sleep(0)
        assert not g.dead
        notify_close(a.fileno())
        with Timeout(SLOW):
            sleep(0.01)  # no IOClosed here: it belongs to g
        assert g.dead
        assert "IOClosed" in capsys.readouterr().err
        assert issubclass(IOClosed, OSError)
    finally:
        a.close()
        b.close()
