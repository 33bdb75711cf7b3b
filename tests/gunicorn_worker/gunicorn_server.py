"""Real gunicorn processes (for the tests of this folder) running ``eventhub.gunicorn.EventletWorker``, and HTTP clients for them.

Each test starts its own gunicorn on 127.0.0.1 (an ephemeral port), in its
own process group, and the fixture stops it (SIGKILL to the group if it
does not stop by itself).  Every wait is bounded.  The tox envs
``gunicorn23`` and ``gunicorn27`` run these on the oldest and newest
supported gunicorn.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import eventhub

PACKAGE_ROOT = str(Path(eventhub.__file__).resolve().parent.parent)

#: The WSGI application the tests serve; each path exercises one thing.
APP = '''
import json, os, queue, sys, time
import eventlet, eventlet.patcher
import eventhub.hubs

_real_sleep = eventlet.patcher.original("time").sleep


def app(environ, start_response):
    path = environ["PATH_INFO"]
    arg = environ.get("QUERY_STRING", "")
    headers = [("Content-Type", "text/plain")]
    if path == "/info":
        hub = eventlet.hubs.get_hub()
        body = json.dumps({
            "pid": os.getpid(),
            "socket_patched": eventlet.patcher.is_monkey_patched("socket"),
            "eventlet_hub": type(hub).__module__ + "." + type(hub).__qualname__,
            "shared_hub": hub is eventhub.hubs.get_hub(),
            "variant": eventhub.hubs.hub_variant(hub),
            "remote_port": environ["REMOTE_PORT"],
            "open_fds": len(os.listdir("/proc/self/fd")),
            # A pool's queue made by the app: eventlet's, with its waiters in a fair line.
            "fair_queues": type(queue.LifoQueue().getters).__name__ == "WaitingLine",
        }).encode()
    elif path == "/sleep":  # a request that waits cooperatively
        eventlet.sleep(float(arg))
        body = b"slept"
    elif path == "/block":  # blocks the whole worker (no heartbeat meanwhile)
        _real_sleep(float(arg))
        body = b"blocked"
    elif path == "/big":  # a long response, written in pieces
        start_response("200 OK", headers)
        return (b"x" * 65536 for _ in range(int(arg)))
    elif path == "/file":
        start_response("200 OK", headers)
        return environ["wsgi.file_wrapper"](open(__file__, "rb"))
    else:
        body = b"hello"
    start_response("200 OK", headers + [("Content-Length", str(len(body)))])
    return [body]
'''

#: Settings every test's gunicorn gets (a config file: gunicorn ignores the
#: names an older release does not know, unlike unknown command-line flags).
BASE_CONFIG = """
control_socket_disable = True
"""

WORKER = "eventhub.gunicorn.EventletWorker"


class Gunicorn:
    """One gunicorn master with its workers, started by ``start()``."""

    def __init__(self, workdir: Path, args: list[str], env: dict[str, str], config: str, scheme: str = "http") -> None:
        self.workdir = workdir
        self.scheme = scheme
        self.args = args
        self.env = env
        self.config = config
        self.log_path = workdir / "gunicorn.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 30.0) -> Gunicorn:
        (self.workdir / "app.py").write_text(APP)
        (self.workdir / "gunicorn_conf.py").write_text(BASE_CONFIG + self.config)
        cmd = [
            sys.executable, "-m", "gunicorn",
            "-k", WORKER,
            "-c", str(self.workdir / "gunicorn_conf.py"),
            "-b", "127.0.0.1:0",
            "--error-logfile", str(self.log_path),
            "--chdir", str(self.workdir),
            *self.args,
            "app:app",
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, **self.env)
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        listening = rf"Listening at: {self.scheme}://127\.0\.0\.1:(\d+)"
        self.wait_for(lambda: re.search(listening, self.log()), timeout, "listening")
        match = re.search(listening, self.log())
        assert match is not None
        self.port = int(match.group(1))
        if self.scheme == "http":
            self.wait_for(self._answers, timeout, "answering HTTP")
        return self

    def _answers(self) -> bool:
        try:
            return self.get("/")[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``condition()`` until it is true (returned) or ``timeout``; fail if gunicorn exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited ({self.proc.returncode}) waiting for {what}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"gunicorn: no {what} within {timeout}s:\n{self.log()[-3000:]}")

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        conn = self.connection(timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def info(self) -> dict[str, Any]:
        status, body = self.get("/info")
        assert status == 200, body
        result: dict[str, Any] = json.loads(body)
        return result

    def worker_pid(self) -> int:
        pid: int = self.info()["pid"]
        return pid

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def tracebacks(self) -> list[str]:
        """Each traceback (and 'Error'/'Exception' log line) in the log."""
        return [line for line in self.log().splitlines() if "Traceback" in line or "[ERROR]" in line]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stray workers of ours, if any
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(10)


StartGunicorn = Callable[..., Gunicorn]
