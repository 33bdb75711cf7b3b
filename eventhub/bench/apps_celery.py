"""``--apps celery``: a Celery worker's I/O-bound tasks on eventhub's hub, eventlet's hub and gevent, same run.

Each sample starts a fresh redis-server (the broker) and a fresh worker,
``celery -A eventhub.bench.celery_app worker -P eventlet -c 100`` under
``eventhub-run`` (eventhub's hub) or plainly (eventlet's epolls hub), or
``-P gevent -c 100``, then runs the producer of ``eventhub.bench.celery_app``
in its own process: ``TASKS`` tasks, each a short sleep and one redis round
trip, at most ``WINDOW`` unfinished at a time.  The worker says which hub
runs its tasks (and under the launcher its hub report must agree); a
sample on another hub is an error, never a number.  Rounds interleave the
hubs so load from elsewhere on the machine hits them alike.  The sample's
own timing (``--duration``, ``--warm-up``) does not apply: a sample is a
fixed number of tasks after a fixed warm-up.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from eventhub.bench import app_cells
from eventhub.bench.app_cells import Cell, Sample, Target
from eventhub.bench.app_procs import EVENTHUB, EVENTLET, GEVENT, HubChoice, stop
from eventhub.bench.apps import AppReport, AppSettings
from eventhub.bench.celery_setup import PORT_ENV, SLEEP
from eventhub.bench.http_servers import RedisServer
from eventhub.bench.runner import SKIPPED, missing_module

DESCRIPTION = "Celery worker: 10,000 I/O-bound tasks (a sleep, a redis round trip), -c 100: tasks/s, end-to-end latency"

TASKS = 10_000
CONCURRENCY = 100
#: Unfinished tasks at most: the worker's slots, and as many waiting in its prefetch.
WINDOW = 2 * CONCURRENCY
#: (hub, pool) in the order shown; the first is the subject.
HUBS: tuple[tuple[HubChoice, str], ...] = ((EVENTHUB, "eventlet"), (EVENTLET, "eventlet"), (GEVENT, "gevent"))
TARGETS = (Target("eventhub", "eventlet", 1.15), Target("eventhub", "gevent", 1.3))
WORKER_OPTIONS = ("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning")


def missing(pool: str) -> str | None:
    """Why a worker with this pool cannot run here, or None."""
    module = missing_module(("celery", "redis", pool))
    return f"{module} is not installed (pip install 'celery[redis]' {pool})" if module else None


def worker_command(pool: str) -> list[str]:
    celery = str(Path(sys.executable).parent / "celery")
    return [celery, "-A", "eventhub.bench.celery_app", "worker", "-P", pool, "-c", str(CONCURRENCY), *WORKER_OPTIONS]


def take_sample(hub: HubChoice, pool: str, tasks: int, time_limit: float) -> Sample:
    """One fresh redis-server, worker and producer; the producer's measurements.  ``RuntimeError`` says why none."""
    with RedisServer() as redis, tempfile.TemporaryDirectory(prefix="eventhub-bench-celery-") as workdir:
        hub_report = Path(workdir) / "hubs.txt"
        env = hub.environment({PORT_ENV: str(redis.port)})
        worker = subprocess.Popen(hub.command(worker_command(pool), hub_report), env=env, cwd=workdir,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            producer_env = EVENTLET.environment({PORT_ENV: str(redis.port)})  # a plain client process
            try:
                done = subprocess.run([sys.executable, "-m", "eventhub.bench.celery_app", "--tasks", str(tasks),
                                       "--window", str(WINDOW)], env=producer_env, cwd=workdir, capture_output=True,
                                      text=True, timeout=time_limit)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"the sample ran over {time_limit:g}s") from None
        finally:
            stop(worker)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"the producer exited with status {done.returncode}: {tail}")
        result = json.loads(lines[-1])
        problems = hub.proof(result["hub"], worker.pid, hub_report)
        if problems:
            raise RuntimeError("; ".join(problems))
    try:
        return Sample.of(result["tasks"], result["seconds"], result["latencies_ms"],
                         len(result["errors"]) + tasks - result["tasks"], result["hub"])
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def run(settings: AppSettings, progress: TextIO) -> AppReport:
    """``settings.rounds`` samples on each hub, interleaved; the table, JSON and verdict."""
    cells = {hub.name: Cell(hub.name) for hub, _ in HUBS}
    for hub, pool in HUBS:
        reason = missing(pool)
        if reason:
            cells[hub.name].status, cells[hub.name].reason = SKIPPED, reason
    pools = {hub.name: (hub, pool) for hub, pool in HUBS}

    # ServerError (redis-server did not start) is a RuntimeError too.
    app_cells.measure(cells, settings.rounds, lambda name: take_sample(*pools[name], TASKS, settings.time_limit),
                      lambda name: f"celery -P {pools[name][1]} on {name}", "tasks/s",
                      progress)
    checks = app_cells.check("celery", cells, TARGETS)
    descriptions = {hub.name: f"-P {pool}, {hub.description}" for hub, pool in HUBS}
    title = (f"Celery worker, -c {CONCURRENCY}: {TASKS:,} tasks (a {SLEEP * 1000:g} ms sleep and one redis RPUSH each), "
             f"at most {WINDOW} unfinished; latency: sent to finished; medians of {settings.rounds} rounds")
    return AppReport(
        app="celery",
        text=app_cells.table(title, "tasks/s", cells, "eventlet", descriptions, checks),
        data={"app": "celery", "description": DESCRIPTION, "tasks": TASKS, "concurrency": CONCURRENCY,
              "window": WINDOW, "sleep": SLEEP, "rounds": settings.rounds, "hubs": descriptions,
              "results": {name: cell.as_json(cells["eventlet"]) for name, cell in cells.items()}, "targets": checks},
        failed=app_cells.failed(cells),
    )
