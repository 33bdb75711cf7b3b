"""Under load and misbehaving clients: fd exhaustion, slow, half-open and vanishing clients, shutdown.

The load comes from wrk (``apt-get install wrk``; its tests are skipped without it), on
loopback, for a few seconds.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest
from gunicorn_worker.gunicorn_server import Gunicorn, StartGunicorn

from eventhub.bench import wrk

#: A descriptor limit far below the load, set in the worker right after the fork.
LOW_NOFILE = """
def post_fork(server, worker):
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
"""


@pytest.mark.needs_system("wrk")
def test_zero_errors_at_1000_connections(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--worker-connections", "1000")
    result = wrk.run(f"http://127.0.0.1:{server.port}/", connections=1000, seconds=4, request_timeout=10)
    assert result.requests > 1000
    assert (result.socket_errors, result.non_2xx) == (0, 0), result
    assert server.tracebacks() == []


@pytest.mark.needs_system("wrk")
def test_fd_exhaustion_pauses_accepting_and_recovers(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--keep-alive", "1", config=LOW_NOFILE)
    pid = server.worker_pid()
    result = wrk.run(f"http://127.0.0.1:{server.port}/", connections=200, seconds=3, request_timeout=2)
    assert result.requests > 0  # it served what its descriptors allowed meanwhile
    assert "accept() failed: Too many open files" in server.log()
    # Once wrk's connections are gone, the same worker serves again.
    server.wait_for(lambda: "Accepting connections again" in server.log(), 20, "accepting again")
    assert server.get("/", timeout=10) == (200, b"hello")
    assert server.worker_pid() == pid
    assert server.tracebacks() == []


@pytest.mark.needs_system("wrk")
def test_slow_and_half_open_clients_do_not_stall_others(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--keep-alive", "30")
    stalled = []
    for i in range(100):
        s = socket.create_connection(("127.0.0.1", server.port))
        if i % 2:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        else:
            s.shutdown(socket.SHUT_WR)  # half-open: nothing sent, never reads
        stalled.append(s)
    try:
        result = wrk.run(f"http://127.0.0.1:{server.port}/", connections=50, seconds=2)
        assert result.requests > 100
        assert (result.socket_errors, result.non_2xx) == (0, 0), result
    finally:
        for s in stalled:
            s.close()
    assert server.tracebacks() == []


def test_clients_vanishing_mid_response_cost_only_their_connection(gunicorn: StartGunicorn) -> None:
    server = gunicorn()
    baseline = server.info()["open_fds"]
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"GET /big?200 HTTP/1.1\r\nHost: x\r\n\r\n")  # 13 MB, far more than buffers hold
        assert s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # a reset, with the response half written
    server.wait_for(lambda: server.info()["open_fds"] <= baseline, 20, "the vanished clients' descriptors closed")
    assert server.get("/") == (200, b"hello")
    assert server.tracebacks() == []


@pytest.mark.needs_system("wrk")
def test_sigterm_under_load_exits_cleanly(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--graceful-timeout", "10")
    load = subprocess.Popen(
        [wrk.find_wrk(), "-t1", "-c300", "-d6s", "-H", "Connection: close", f"http://127.0.0.1:{server.port}/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        server.signal(signal.SIGTERM)
        assert server.wait_exit(20) == 0
    finally:
        load.kill()
        load.wait()
    assert _no_errors_logged(server)


def _no_errors_logged(server: Gunicorn) -> bool:
    log = server.log()
    assert "Bad file descriptor" not in log, log
    assert server.tracebacks() == [], log
    return True
