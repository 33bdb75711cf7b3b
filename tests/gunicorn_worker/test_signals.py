"""SIGQUIT, SIGTERM, SIGHUP and SIGUSR1 to the master, and --reload, as gunicorn documents them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from gunicorn_worker.gunicorn_server import Gunicorn, StartGunicorn


def test_sigquit_is_a_quick_shutdown(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--graceful-timeout", "30")
    conn = server.connection(timeout=30)
    conn.request("GET", "/sleep?20")  # would hold a graceful shutdown for 20 s
    time.sleep(0.3)
    started = time.monotonic()
    server.signal(signal.SIGQUIT)
    assert server.wait_exit(20) == 0
    assert time.monotonic() - started < 10
    assert server.tracebacks() == []
    conn.close()


def test_sighup_replaces_the_workers_and_keeps_serving(gunicorn: StartGunicorn) -> None:
    server = gunicorn()
    old = server.worker_pid()
    server.signal(signal.SIGHUP)
    server.wait_for(lambda: server.worker_pid() != old, 30, "a new worker after SIGHUP")
    assert server.get("/") == (200, b"hello")
    server.wait_for(lambda: not _alive(old), 30, "the old worker to exit")
    assert server.tracebacks() == []


def test_sigusr1_reopens_the_log_files(gunicorn: StartGunicorn, tmp_path: Path) -> None:
    access = tmp_path / "access.log"
    server = gunicorn("--access-logfile", str(access))
    server.get("/")
    server.wait_for(lambda: access.exists() and access.stat().st_size > 0, 10, "an access log line")
    rotated = access.with_suffix(".1")
    access.rename(rotated)  # as logrotate does
    server.signal(signal.SIGUSR1)  # the master passes it on to its workers
    server.wait_for(access.exists, 10, "the access log reopened")
    server.wait_for(lambda: _logs_after_request(server, access), 10, "a request logged to the new file")
    assert server.tracebacks() == []


def _logs_after_request(server: Gunicorn, path: Path) -> bool:
    server.get("/")
    return path.stat().st_size > 0


def test_reload_restarts_the_worker_when_the_app_changes(gunicorn: StartGunicorn) -> None:
    server = gunicorn("--reload", "--reload-engine", "poll")
    old = server.worker_pid()
    app = server.workdir / "app.py"
    time.sleep(1.1)  # the poll reloader compares modification times
    app.write_text(app.read_text() + "\n# changed\n")
    server.wait_for(lambda: _pid_changed(server, old), 30, "a reloaded worker")
    assert server.get("/") == (200, b"hello")


def _pid_changed(server: Gunicorn, old: int) -> bool:
    try:
        return server.worker_pid() != old
    except OSError:
        return False  # between the old worker and the new one


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
