"""``--http``: wrk against gunicorn workers serving real applications, in rounds.

Each round starts every selected worker once per application (a fresh
gunicorn, one worker process), measures each load on it with wrk after a
one-second warm-up, and stops it; rounds interleave the workers so load
from elsewhere on the machine hits them alike.  redis-server runs for the
whole benchmark when the redis application is selected.
"""

from __future__ import annotations

import fnmatch
import statistics
from dataclasses import dataclass, field
from typing import TextIO

from eventhub.bench import wrk
from eventhub.bench.http_servers import GunicornServer, RedisServer, ServerError
from eventhub.bench.runner import ERROR, OK, SKIPPED, missing_module


@dataclass(frozen=True)
class HttpWorker:
    """A gunicorn worker class the benchmark compares."""

    name: str
    worker_class: str  # gunicorn's -k
    description: str
    requires: tuple[str, ...]  # modules that must be importable
    env: tuple[tuple[str, str], ...] = ()


WORKERS: tuple[HttpWorker, ...] = (
    HttpWorker("eventhub", "eventhub.gunicorn.EventletWorker", "eventhub.gunicorn.EventletWorker", ("gunicorn", "eventlet")),
    HttpWorker("gevent", "gevent", "gunicorn's gevent worker", ("gunicorn", "gevent")),
    HttpWorker(
        "eventlet",
        "eventlet",
        "gunicorn's eventlet worker on eventlet's epolls hub (gunicorn < 26 only)",
        ("gunicorn.workers.geventlet", "eventlet"),
        (("EVENTLET_HUB", "epolls"),),
    ),
)

#: Application name -> what gunicorn loads.
APPS: dict[str, str] = {
    "hello": "eventhub.bench.http_apps:hello",
    "redis": "eventhub.bench.http_apps:redis_get",
}
APP_DESCRIPTIONS = {
    "hello": "a fixed 13-byte body",
    "redis": "one redis GET per request (redis-py, a pool of 100 connections)",
}
DEFAULT_CONNECTIONS = (100, 1000)
BASELINE = "gevent"
WARM_UP = 1.0


@dataclass(frozen=True)
class HttpSettings:
    rounds: int = 3
    duration: float = 5.0  # seconds of wrk per sample
    threads: int = 1  # wrk threads: one core for wrk, the other for the worker
    connections: tuple[int, ...] = DEFAULT_CONNECTIONS


@dataclass
class HttpCell:
    """One worker on one application at one load: a wrk result per round."""

    worker: str
    app: str
    connections: int
    status: str = OK
    reason: str = ""
    samples: list[wrk.WrkResult] = field(default_factory=list)

    def _median(self, values: list[float]) -> float | None:
        return statistics.median(values) if self.status == OK and values else None

    @property
    def rate(self) -> float | None:
        """Median requests/s over the rounds."""
        return self._median([s.rate for s in self.samples])

    @property
    def p50_ms(self) -> float | None:
        return self._median([s.p50_ms for s in self.samples])

    @property
    def p99_ms(self) -> float | None:
        return self._median([s.p99_ms for s in self.samples])

    @property
    def socket_errors(self) -> int:
        return sum(s.socket_errors for s in self.samples)

    @property
    def error_responses(self) -> int:
        return sum(s.non_2xx for s in self.samples)


def missing(worker: HttpWorker) -> str | None:
    """Why ``worker`` cannot run here, or None."""
    module = missing_module(worker.requires)
    return None if module is None else f"{module} is not installed"


def select(patterns: list[str] | None) -> list[HttpWorker]:
    """The workers matching any shell-style pattern (all if None); ``ValueError`` for a pattern matching none."""
    if not patterns:
        return list(WORKERS)
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(w.name, p) for w in WORKERS)]
    if unmatched:
        names = ", ".join(w.name for w in WORKERS)
        raise ValueError(f"no HTTP worker matches {', '.join(unmatched)} (choose from {names})")
    return [w for w in WORKERS if any(fnmatch.fnmatchcase(w.name, p) for p in patterns)]


def run_all(workers: list[HttpWorker], apps: list[str], settings: HttpSettings, progress: TextIO) -> list[HttpCell]:
    """Every (worker, app, load) for ``settings.rounds`` rounds; raises ``wrk.WrkMissing`` first if wrk is."""
    wrk.find_wrk()
    cells = {
        (w.name, app, c): HttpCell(w.name, app, c) for app in apps for c in settings.connections for w in workers
    }
    for w in workers:
        reason = missing(w)
        if reason:
            for (name, _, _), cell in cells.items():
                if name == w.name:
                    cell.status, cell.reason = SKIPPED, reason
    redis = RedisServer() if "redis" in apps else None
    try:
        env: dict[str, str] = {}
        if redis is not None:
            try:
                redis.__enter__()
                env["EVENTHUB_BENCH_REDIS_PORT"] = str(redis.port)
            except ServerError as e:
                redis = None
                for (_, app, _), cell in cells.items():
                    if app == "redis":
                        cell.status, cell.reason = SKIPPED, str(e)
        for round_ in range(1, settings.rounds + 1):
            for app in apps:
                for w in workers:
                    mine = [cells[(w.name, app, c)] for c in settings.connections]
                    if all(cell.status != OK for cell in mine):
                        continue
                    _sample(w, app, mine, settings, env, round_, progress)
    finally:
        if redis is not None:
            redis.__exit__(None, None, None)
    return list(cells.values())


def _sample(
    worker: HttpWorker,
    app: str,
    cells: list[HttpCell],
    settings: HttpSettings,
    env: dict[str, str],
    round_: int,
    progress: TextIO,
) -> None:
    """One round of ``app`` on ``worker``: a fresh gunicorn, each load measured on it."""
    max_connections = max(settings.connections)
    try:
        with GunicornServer(worker.worker_class, APPS[app], max_connections, {**env, **dict(worker.env)}) as server:
            for cell in cells:
                if cell.status != OK:
                    continue
                progress.write(f"round {round_}: {app} c{cell.connections} on {worker.name}: ")
                progress.flush()
                wrk.run(server.url, cell.connections, WARM_UP, settings.threads)
                result = wrk.run(server.url, cell.connections, settings.duration, settings.threads)
                cell.samples.append(result)
                progress.write(f"{result.rate:,.0f} req/s, p99 {result.p99_ms:.1f} ms, {result.errors} errors\n")
                progress.flush()
    except (ServerError, RuntimeError) as e:
        for cell in cells:
            cell.status, cell.reason = ERROR, str(e)
        progress.write(f"round {round_}: {app} on {worker.name}: error: {e}\n")
