"""The Socket.IO server and client processes, started and stopped for the benchmark and the tests.

``SioServer`` runs ``eventhub.bench.sio_server`` on one ``HubChoice``;
``SioClients`` runs ``eventhub.bench.sio_clients`` processes and drives
them in step (see there for the commands and answers).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from eventhub.bench.app_procs import HubChoice, stop

START_TIMEOUT = 60.0


class ProcessError(RuntimeError):
    """A server or client process did not start or answer (what it printed is in the message)."""


def _read_line(proc: subprocess.Popen[str], timeout: float, what: str) -> str:
    """The next line ``proc`` prints, or ``ProcessError`` after ``timeout`` seconds or at its exit."""
    assert proc.stdout is not None
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        state = "is silent" if reader.is_alive() else f"exited with status {proc.poll()}"
        raise ProcessError(f"{what} {state} after {timeout:g}s")
    return result[0]


class SioServer:
    """``python -m eventhub.bench.sio_server`` on 127.0.0.1 run on ``hub``; ``url`` once it listens."""

    def __init__(self, hub: HubChoice) -> None:
        self.hub = hub
        self.port = 0
        self._dir = tempfile.TemporaryDirectory(prefix="eventhub-sio-")
        self.hub_report = Path(self._dir.name) / "hubs.txt" if hub.launcher else None
        self.log = Path(self._dir.name) / "server.log"
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> SioServer:
        mode = "gevent" if self.hub.hub_class.startswith("gevent") else "eventlet"
        program = [sys.executable, "-m", "eventhub.bench.sio_server", "--mode", mode]
        with open(self.log, "w") as log:
            self._proc = subprocess.Popen(self.hub.command(program, self.hub_report), env=self.hub.environment(),
                                          stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
        try:
            line = _read_line(self._proc, START_TIMEOUT, f"the Socket.IO server on {self.hub.name}")
            if not line.startswith("listening "):
                raise ProcessError(f"the Socket.IO server on {self.hub.name} said {line!r}")
        except ProcessError as e:
            self.__exit__(None, None, None)
            raise ProcessError(f"{e}; its log: {self.log_tail()}") from None
        self.port = int(line.split()[1])
        return self

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""

    def proof(self, described: dict[str, Any]) -> list[str]:
        """What is wrong with the claim that this server ran on its hub (its ``hub`` event's answer)."""
        return self.hub.proof(described, self.pid, self.hub_report)

    def __exit__(self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None:
            stop(self._proc, timeout=10)
            self._proc = None
        self._dir.cleanup()


class SioClients:
    """``processes`` client processes, ``clients`` Socket.IO clients in all, connected to ``url``."""

    def __init__(self, url: str, clients: int, processes: int, rooms: int, timeout: float) -> None:
        self.url = url
        self.clients = clients
        self.processes = processes
        self.rooms = rooms
        self.timeout = timeout
        self._procs: list[subprocess.Popen[str]] = []

    def __enter__(self) -> SioClients:
        share, extra = divmod(self.clients, self.processes)
        first = 0
        for n in range(self.processes):
            count = share + (1 if n < extra else 0)
            command = [sys.executable, "-m", "eventhub.bench.sio_clients", self.url, "--clients", str(count),
                       "--first", str(first), "--rooms", str(self.rooms)]
            self._procs.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL, text=True, start_new_session=True))
            first += count
        return self

    def ready(self) -> list[dict[str, Any]]:
        """Each process's answer once its clients have connected (and joined their rooms)."""
        return [self._answer(p) for p in self._procs]

    def step(self, command: str) -> list[dict[str, Any]]:
        """Send ``command`` to every process at once; each one's answer."""
        for proc in self._procs:
            assert proc.stdin is not None
            proc.stdin.write(command + "\n")
            proc.stdin.flush()
        return [self._answer(p) for p in self._procs]

    def _answer(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(_read_line(proc, self.timeout, f"client process {proc.pid}"))
        return answer

    def __exit__(self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        for proc in self._procs:
            stop(proc, timeout=5)
        self._procs = []
