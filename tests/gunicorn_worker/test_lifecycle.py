"""The worker boots, serves, keeps connections alive, recycles and stops as gunicorn documents."""

from __future__ import annotations

import http.client
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from gunicorn_worker.gunicorn_server import StartGunicorn


def test_serves_an_eventlet_app_patched_on_eventhubs_shared_hub(gunicorn: StartGunicorn) -> None:
    server = gunicorn()
    assert server.get("/") == (200, b"hello")
    info = server.info()
    assert info["socket_patched"] is True  # monkey-patched before the app loaded
    assert info["eventlet_hub"].startswith("eventhub.eventlet.")
    assert info["shared_hub"] is True  # eventlet's hub is eventhub's hub
    assert info["fair_queues"] is True  # what pools build on: eventlet.queue.LightQueue, made fair
    server.signal(signal.SIGTERM)
    assert server.wait_exit(20) == 0
    assert server.tracebacks() == []


def test_cooperative_requests_run_concurrently(gunicorn: StartGunicorn) -> None:
    """Ten requests sleeping 1 s each, on one worker, finish in about 1 s, not 10."""
    server = gunicorn()
    conns = [server.connection() for _ in range(10)]
    started = time.monotonic()
    for conn in conns:
        conn.request("GET", "/sleep?1")
    for conn in conns:
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"slept")
        conn.close()
    assert time.monotonic() - started < 6


def test_keep_alive_reuses_the_connection_then_closes_it_when_idle(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--keep-alive", "1")
    conn = server.connection()
    ports = set()
    for _ in range(3):
        conn.request("GET", "/info")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Connection", "keep-alive").lower() == "keep-alive"
        ports.add(__import__("json").loads(resp.read())["remote_port"])
    assert len(ports) == 1  # one TCP connection served all three
    sock = conn.sock
    assert sock is not None
    sock.settimeout(10)
    started = time.monotonic()
    assert sock.recv(1) == b""  # the server closed the idle connection...
    assert 0.5 < time.monotonic() - started < 8  # ...after about the keep-alive timeout
    conn.close()


def test_max_requests_recycles_the_worker(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--max-requests", "5")
    first = server.worker_pid()
    for _ in range(5):
        server.get("/")
    # The old worker finishes gracefully; the arbiter starts a new one.
    server.wait_for(lambda: server.worker_pid() != first, 20, "a new worker after max_requests")
    assert "Autorestarting worker after current request" in server.log()
    assert server.get("/") == (200, b"hello")
    assert server.tracebacks() == []


def test_heartbeat_keeps_an_idle_worker_alive_and_a_blocked_one_is_replaced(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--timeout", "2")
    pid = server.worker_pid()
    time.sleep(5)  # 2.5 timeouts of idleness: the heartbeat runs anyway
    assert server.worker_pid() == pid
    blocked = server.connection(timeout=30)
    blocked.request("GET", "/block?30")  # the worker cannot notify the arbiter now
    server.wait_for(lambda: "WORKER TIMEOUT" in server.log(), 30, "the arbiter's worker timeout")
    server.wait_for(lambda: server.worker_pid() != pid, 30, "a replacement worker")
    blocked.close()


def test_graceful_shutdown_finishes_requests_in_flight(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--graceful-timeout", "10")
    conn = server.connection(timeout=20)
    conn.request("GET", "/sleep?1.5")
    time.sleep(0.3)
    server.signal(signal.SIGTERM)
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"slept")
    assert server.wait_exit(20) == 0
    assert server.tracebacks() == []


def test_graceful_timeout_cuts_requests_that_outlast_it(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--graceful-timeout", "1")
    conn = server.connection(timeout=30)
    conn.request("GET", "/sleep?60")
    time.sleep(0.3)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait_exit(20) == 0
    assert time.monotonic() - started < 10
    assert "graceful timeout" in server.log().lower()  # the worker cut it...
    assert "SIGKILL" not in server.log()  # ...before the arbiter had to
    conn.close()


def test_sendfile_sends_a_file_wrapper_response(gunicorn: StartGunicorn) -> None:
    server = gunicorn()
    status, body = server.get("/file")
    assert status == 200
    assert body == (server.workdir / "app.py").read_bytes()


def test_pure_variant_serves_too(gunicorn: StartGunicorn) -> None:
    server = gunicorn(env={"EVENTHUB_NO_EXTENSIONS": "1"})
    info = server.info()
    assert info["variant"] == "pure"
    assert info["shared_hub"] is True
    assert server.get("/") == (200, b"hello")


def test_compiled_variant_is_used_when_built(gunicorn: StartGunicorn) -> None:
    from eventhub.hubs import epolls

    server = gunicorn(env={"EVENTHUB_NO_EXTENSIONS": ""})
    expected = "compiled" if epolls.CompiledHub is not None else "pure"
    assert server.info()["variant"] == expected


def test_a_connection_that_never_sends_does_not_block_the_listener(gunicorn: StartGunicorn) -> None:
    server = gunicorn()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    try:
        assert server.get("/", timeout=5) == (200, b"hello")
    finally:
        for s in idle:
            s.close()


@pytest.mark.needs_system("openssl")
def test_serves_tls_through_eventlets_green_ssl(gunicorn: StartGunicorn, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = gunicorn("--certfile", str(cert), "--keyfile", str(key), scheme="https")
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    for _ in range(3):  # a fresh TLS connection each time
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=10, context=context)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"hello")
        conn.close()
    assert server.tracebacks() == []
