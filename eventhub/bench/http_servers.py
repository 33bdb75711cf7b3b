"""The processes an HTTP benchmark needs: redis-server and gunicorn, on loopback, started and stopped here."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

from eventhub.bench.http_apps import REDIS_KEY, REDIS_VALUE

REDIS_HOW_TO_INSTALL = "redis-server is not installed: apt-get install redis-server (Debian/Ubuntu)"


class ServerError(RuntimeError):
    """A server did not start (its log's tail is in the message)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(condition: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise ServerError(f"{what} did not start within {timeout:g}s (exit {proc.poll()}): {tail}")


def _stop(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL to the process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout)


class RedisServer:
    """A throwaway redis-server on 127.0.0.1 (no persistence) holding the benchmark's key."""

    def __init__(self) -> None:
        self.port = 0
        self._dir = tempfile.TemporaryDirectory(prefix="eventhub-bench-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerError(REDIS_HOW_TO_INSTALL)
        self.port = _free_port()
        log = Path(self._dir.name) / "redis.log"
        cmd = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
               "--dir", self._dir.name, "--logfile", str(log), "--maxclients", "10000"]  # fmt: skip
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait(lambda: self._command(b"SET", REDIS_KEY.encode(), REDIS_VALUE) == b"+OK\r\n", self._proc, 15, "redis-server", log)
        return self

    def _command(self, *words: bytes) -> bytes:
        """Send one command in RESP and return the raw reply (b"" if it cannot connect yet)."""
        request = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(request)
                return s.recv(1024)
        except OSError:
            return b""

    def __exit__(self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None:
            _stop(self._proc)
        self._dir.cleanup()


class GunicornServer:
    """``gunicorn -k WORKER -w 1 APP`` on 127.0.0.1, ready once it answers HTTP."""

    def __init__(self, worker_class: str, app: str, connections: int, env: dict[str, str]) -> None:
        self.worker_class = worker_class
        self.app = app
        self.connections = connections
        self.env = env
        self.port = 0
        self._dir = tempfile.TemporaryDirectory(prefix="eventhub-bench-gunicorn-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> GunicornServer:
        log = Path(self._dir.name) / "gunicorn.log"
        conf = Path(self._dir.name) / "gunicorn_conf.py"
        conf.write_text("control_socket_disable = True\n")  # gunicorn >= 25; older ones ignore it
        self.port = _free_port()
        cmd = [sys.executable, "-m", "gunicorn", "-k", self.worker_class, "-w", "1", "-c", str(conf),
               "--worker-connections", str(self.connections), "-b", f"127.0.0.1:{self.port}",
               "--error-logfile", str(log), self.app]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k not in ("EVENTLET_HUB", "EVENTHUB_HUB", "EVENTHUB_NO_EXTENSIONS")}
        env.update(self.env)
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True, cwd=self._dir.name
        )
        _wait(self._answers, self._proc, 30, f"gunicorn -k {self.worker_class}", log)
        self.log = log
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                return re.match(rb"HTTP/1\.[01] 200", s.recv(100)) is not None
        except OSError:
            return False

    def __exit__(self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None:
            _stop(self._proc)
        self._dir.cleanup()
