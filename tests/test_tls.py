"""TLS over cooperative sockets (net.wrap_tls, connect(tls=), serve(tls=)) on every hub,
against itself and against openssl's s_server and s_client."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from test_net_io import net_path  # noqa: F401  (a fixture: the compiled and the pure recv/send under TLS)

from eventhub import Timeout, hubs, net, sleep, spawn, to_thread
from eventhub.net import GreenSocket, TLSSocket

SLOW = 10.0
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command (CI installs it)")


def make_certificate(directory: Path, name: str, subject_alt_names: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            str(OPENSSL), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={subject_alt_names}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """A server certificate for localhost (and the loopback addresses) and a client one."""
    directory = tmp_path_factory.mktemp("certs")
    return {
        "server": make_certificate(directory, "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1"),
        "client": make_certificate(directory, "client", "DNS:client"),
    }


@pytest.fixture
def server_context(certificates: dict[str, tuple[Path, Path]]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificates["server"])
    return context


@pytest.fixture
def client_context(certificates: dict[str, tuple[Path, Path]]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates["server"][0]))


def echo(conn: GreenSocket, address: Any) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


def recv_exactly(sock: GreenSocket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


@pytest.fixture
def tls_server(
    hub: Any, net_path: str, server_context: ssl.SSLContext
) -> Iterator[Callable[[Callable[[GreenSocket, Any], Any]], int]]:
    """Start ``net.serve(listener, handler, tls=...)``; gives its port."""
    listeners: list[GreenSocket] = []
    servers: list[Any] = []

    def start(handler: Callable[[GreenSocket, Any], Any]) -> int:
        listener = net.listen(("127.0.0.1", 0))
        listeners.append(listener)
        servers.append(spawn(net.serve, listener, handler, tls=server_context))
        port: int = listener.getsockname()[1]
        return port

    yield start
    for listener in listeners:
        listener.close()
    for server in servers:
        server.wait()


@pytest.fixture
def tls_pair(
    hub: Any, net_path: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> Iterator[tuple[TLSSocket, TLSSocket]]:
    """Both ends of one TLS connection over a socketpair, handshaken: (server, client)."""
    a, b = net.socketpair(socket.AF_UNIX)
    with Timeout(SLOW):
        server = spawn(net.wrap_tls, a, server_context, server_side=True)
        client = net.wrap_tls(b, client_context, server_hostname="localhost")
        pair = (server.wait(), client)
    yield pair
    for sock in pair:
        sock.close()


# -- against itself -------------------------------------------------------------------


def test_connect_and_serve_echo(tls_server: Any, client_context: ssl.SSLContext) -> None:
    port = tls_server(echo)
    with Timeout(SLOW):
        with net.connect(("localhost", port), tls=client_context, timeout=SLOW) as conn:
            assert isinstance(conn, TLSSocket) and isinstance(conn, GreenSocket)
            assert conn.gettimeout() is None
            assert conn.version() in ("TLSv1.2", "TLSv1.3")
            assert conn.getpeercert()["subject"] == ((("commonName", "localhost"),),)
            assert conn.server_hostname == "localhost" and not conn.server_side
            conn.sendall(b"hello over TLS")
            assert recv_exactly(conn, 14) == b"hello over TLS"


def test_server_sees_the_client_certificate(
    tls_server: Any, server_context: ssl.SSLContext, client_context: ssl.SSLContext, certificates: Any
) -> None:
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_verify_locations(cafile=str(certificates["client"][0]))
    client_context.load_cert_chain(*certificates["client"])
    seen: list[Any] = []

    def who(conn: GreenSocket, address: Any) -> None:
        assert isinstance(conn, TLSSocket)
        seen.append((conn.getpeercert()["subject"], conn.server_side, hubs.get_hub()))
        conn.sendall(b"ok")

    port = tls_server(who)
    with Timeout(SLOW):
        with net.connect(("127.0.0.1", port), tls=client_context, server_hostname="localhost") as conn:
            assert recv_exactly(conn, 2) == b"ok"
    assert seen == [(((("commonName", "client"),),), True, hubs.get_hub())]


def test_large_transfers_both_ways_at_once(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    """One greenthread writes while another reads the same TLS socket (full duplex)."""
    payload = os.urandom(3 * 1024 * 1024 + 17)
    server, client = tls_pair
    with server, client:
        echoing = spawn(echo, server, None)
        writer = spawn(client.sendall, payload)
        with Timeout(SLOW * 4):
            assert recv_exactly(client, len(payload)) == payload
            writer.wait()
            client.close()  # the echo loop reads b"" and ends
            echoing.wait()


def test_recv_into_send_and_makefile(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    server, client = tls_pair
    with server, client:
        spawn(echo, server, None)
        assert client.send(memoryview(b"abcdef")[2:]) == 4
        buffer = bytearray(10)
        with Timeout(SLOW):
            assert client.recv_into(buffer, 4) == 4
        assert buffer[:4] == b"cdef"
        assert client.send(bytes(200_000)) == 65536  # at most one chunk at a time
        with Timeout(SLOW):
            assert recv_exactly(client, 65536) == bytes(65536)
        with client.makefile("rwb") as f:
            f.write(b"first line\nsecond line\n")
            f.flush()
            with Timeout(SLOW):
                assert f.readline() == b"first line\n"
                assert f.readline() == b"second line\n"


def test_what_tls_holds_already_is_read_without_waiting(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    server, client = tls_pair
    server.sendall(b"0123456789" * 10)
    server.sendall(b"second record")
    with Timeout(SLOW):
        assert client.recv(10) == b"0123456789"  # one read(2) brought both records
    assert client.pending() == 90  # the rest of the first record, decrypted
    client.setblocking(False)  # a wait would raise now
    assert client.recv(1000) == b"0123456789" * 9
    buffer = bytearray(100)
    assert client.recv_into(buffer) == 13 and buffer[:13] == b"second record"  # still encrypted, already here
    with pytest.raises(BlockingIOError):
        client.recv(10)


def test_recv_timeout(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    server, client = tls_pair
    with server, client:
        client.settimeout(0.05)
        with pytest.raises(TimeoutError):
            client.recv(10)
        client.setblocking(False)
        with pytest.raises(BlockingIOError):
            client.recv(10)


def test_peer_closing_reads_as_end_of_file(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    server, client = tls_pair
    with server, client:
        server.sendall(b"last words")
        server.close()  # no close_notify: read as EOF, as the stdlib does by default
        with Timeout(SLOW):
            assert recv_exactly(client, 100) == b"last words"
            assert client.recv(100) == b""
            assert client.recv_into(bytearray(5)) == 0


def test_unwrap_both_ways_then_plaintext(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    server, client = tls_pair
    with server, client:

        def server_side() -> bytes:
            assert server.recv(100) == b""  # the client's close_notify
            plain = server.unwrap()
            plain.sendall(b"in the clear")
            with plain:
                return recv_exactly(plain, 5)

        other = spawn(server_side)
        with Timeout(SLOW):
            plain = client.unwrap()  # waits for the server's close_notify; its plaintext stays behind
            with plain:
                assert type(plain) is GreenSocket
                assert recv_exactly(plain, 12) == b"in the clear"
                plain.sendall(b"reply")
                assert other.wait() == b"reply"
        assert client.fileno() == -1  # the TLS socket let go of the connection


def test_close_wakes_a_reader(tls_pair: tuple[TLSSocket, TLSSocket]) -> None:
    server, client = tls_pair
    with server:
        errors: list[OSError] = []

        def reader() -> None:
            try:
                client.recv(10)
            except OSError as e:
                errors.append(e)

        r = spawn(reader)
        sleep(0.01)
        client.close()
        with Timeout(SLOW):
            r.wait()
        assert [e.errno for e in errors] == [errno.EBADF]


def test_wrong_hostname_fails_the_handshake_and_the_server_goes_on(
    tls_server: Any, client_context: ssl.SSLContext, capsys: pytest.CaptureFixture[str]
) -> None:
    port = tls_server(echo)
    with Timeout(SLOW):
        with pytest.raises(ssl.SSLCertVerificationError):
            net.connect(("127.0.0.1", port), tls=client_context, server_hostname="elsewhere.test")
        sleep(0.05)  # the server's side of the failed handshake ends
        with net.connect(("127.0.0.1", port), tls=client_context, server_hostname="localhost") as conn:
            conn.sendall(b"still serving")
            assert recv_exactly(conn, 13) == b"still serving"
    # The server's failed handshake was printed: the client told it why (an alert).
    assert "ALERT_BAD_CERTIFICATE" in capsys.readouterr().err


def test_connect_timeout_covers_the_handshake(hub: Any, client_context: ssl.SSLContext) -> None:
    """A server that accepts but never answers the ClientHello."""
    with net.listen(("127.0.0.1", 0)) as listener:
        accepted: list[GreenSocket] = []
        spawn(lambda: accepted.append(listener.accept()[0]))
        with pytest.raises(TimeoutError):
            with Timeout(SLOW):
                net.connect(listener.getsockname(), tls=client_context, server_hostname="localhost", timeout=0.2)
        sleep(0.01)
        with accepted[0]:
            assert accepted[0].recv(1000)[:1] == b"\x16"  # it got a handshake record, then the client went
            assert accepted[0].recv(1000) == b""


def test_bad_input(
    tls_pair: tuple[TLSSocket, TLSSocket], server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    a, b = net.socketpair()
    with a, b:
        with pytest.raises(TypeError, match="needs an ssl.SSLContext"):
            net.wrap_tls(a, "context")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="needs a GreenSocket or socket.socket"):
            net.wrap_tls(a.fileno(), client_context)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="server_hostname can only be specified in client mode"):
            net.wrap_tls(a, server_context, server_side=True, server_hostname="localhost")
        a.sendall(b"untouched")  # a refused wrap leaves the socket as it was
        assert b.recv(100) == b"untouched"
    with GreenSocket() as unconnected:
        with pytest.raises(OSError, match="needs a connected socket") as e:
            net.wrap_tls(unconnected, client_context, server_hostname="localhost")
        assert e.value.errno == errno.ENOTCONN
    with GreenSocket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(ValueError, match="stream"):
            net.wrap_tls(udp, client_context, server_hostname="localhost")
    with pytest.raises(TypeError, match="needs an ssl.SSLContext as tls"):
        net.connect(("127.0.0.1", 9), tls=object())  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="server_hostname goes with tls"):
        net.connect(("127.0.0.1", 9), server_hostname="x")  # type: ignore[call-overload]
    with net.listen(("127.0.0.1", 0)) as listener:
        with pytest.raises(TypeError, match="needs an ssl.SSLContext as tls"):
            net.serve(listener, echo, tls="context")  # type: ignore[arg-type]
    server, client = tls_pair
    with server, client:
        with pytest.raises(ValueError, match="non-zero flags"):
            client.recv(10, socket.MSG_PEEK)
        with pytest.raises(ValueError, match="already runs TLS"):
            net.wrap_tls(client, client_context, server_hostname="localhost")
        for method, args in [("recvfrom", (10,)), ("sendto", (b"x", ("127.0.0.1", 9))), ("dup", ())]:
            with pytest.raises(ValueError, match="bypass TLS"):
                getattr(client, method)(*args)
        client.sendall(b"still fine")
        with Timeout(SLOW):
            assert recv_exactly(server, 10) == b"still fine"


# -- against openssl ------------------------------------------------------------------------


def start_openssl(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(OPENSSL), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=SLOW)


@pytest.mark.parametrize("protocol", ["-tls1_2", "-tls1_3"])
def test_client_talks_to_openssl_s_server(
    hub: Any, net_path: str, certificates: Any, client_context: ssl.SSLContext, protocol: str
) -> None:
    cert, key = certificates["server"]
    proc = start_openssl(
        ["s_server", "-accept", "127.0.0.1:0", "-cert", str(cert), "-key", str(key), "-naccept", "1", "-rev", protocol]
    )
    try:
        assert proc.stdout is not None
        with Timeout(SLOW):
            line = b""
            while not line.startswith(b"ACCEPT "):  # it prints its address once listening
                line = to_thread(proc.stdout.readline)
                assert line, "openssl s_server exited before listening"
            port = int(line.rsplit(b":", 1)[1])
            with net.connect(("localhost", port), tls=client_context) as conn:
                assert conn.version() == ("TLSv1.2" if protocol == "-tls1_2" else "TLSv1.3")
                conn.sendall(b"hello openssl\n")
                assert recv_exactly(conn, 14) == b"lssnepo olleh\n"  # s_server -rev reverses each line
    finally:
        stop(proc)


@pytest.mark.parametrize("protocol", ["-tls1_2", "-tls1_3"])
def test_server_talks_to_openssl_s_client(tls_server: Any, certificates: Any, protocol: str) -> None:
    served_by: list[Any] = []

    def greet_then_echo(conn: GreenSocket, address: Any) -> None:
        served_by.append((hubs.get_hub(), conn.version()))
        conn.sendall(b"hello from eventhub\n")
        echo(conn, address)

    port = tls_server(greet_then_echo)
    cert, _ = certificates["server"]
    proc = start_openssl(
        [
            "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", "-CAfile", str(cert),
            "-verify_return_error", "-quiet", protocol,
        ]
    )  # fmt: skip
    try:
        assert proc.stdin is not None and proc.stdout is not None
        with Timeout(SLOW):
            assert to_thread(proc.stdout.readline) == b"hello from eventhub\n"
            proc.stdin.write(b"echo me\n")
            proc.stdin.flush()
            assert to_thread(proc.stdout.readline) == b"echo me\n"
    finally:
        stop(proc)
    assert served_by == [(hubs.get_hub(), "TLSv1.2" if protocol == "-tls1_2" else "TLSv1.3")]
