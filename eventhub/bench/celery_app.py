"""The Celery application ``python -m eventhub.bench --apps celery`` measures, and the producer that drives it.

The worker: ``celery -A eventhub.bench.celery_app worker -P eventlet -c 100``
(or ``-P gevent``), with ``EVENTHUB_BENCH_REDIS_PORT`` naming a redis-server
on 127.0.0.1, its broker (no result backend).  Its one I/O-bound task,
``bench.io``, sleeps ``SLEEP`` seconds (green: the worker's pool has
monkey-patched ``time``) and then makes one redis round trip, an ``RPUSH`` of
its send and finish times onto ``DONE_KEY``, through a redis-py client shared
by the worker's greenthreads.  ``bench.hub`` pushes the worker's hub
(``eventhub.bench.app_hub.hub_description``) onto ``HUB_KEY``.

The producer: ``python -m eventhub.bench.celery_app --tasks N --window W``
asks for the worker's hub, sends a warm-up round of tasks, then sends N
tasks keeping at most W of them unfinished (a closed loop: each completion
it reads from ``DONE_KEY`` lets it send another), and prints one JSON line:
the hub, tasks/s (N over the time from the first send to the last finish),
each task's end-to-end milliseconds (sent by the producer to finished by
the worker; ``time.monotonic()`` is the system-wide clock, the same in
both processes), and errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from celery import Celery  # type: ignore[import-untyped,import-not-found,unused-ignore]

from eventhub.bench.app_hub import hub_description
from eventhub.bench.celery_setup import PORT_ENV, SLEEP

DONE_KEY = "eventhub-bench:done"
HUB_KEY = "eventhub-bench:hub"
WARM_UP_TASKS = 500
#: Seconds the producer waits for the next completion before it gives up on the rest.
STALL_TIMEOUT = 60
#: Seconds the worker may take to start and run its first task.
START_TIMEOUT = 180

app = Celery("eventhub_bench", broker=f"redis://127.0.0.1:{os.environ.get(PORT_ENV, '6379')}/0")
app.conf.update(
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    accept_content=["json"],
)

_redis: Any = None


def redis_client() -> Any:
    """The process's redis-py client (made on first use: in the worker, after its monkey-patching)."""
    global _redis
    if _redis is None:
        import redis  # type: ignore[import-not-found,unused-ignore]

        # redis-py's default socket timeout (5 s) would cut the producer's BLPOP short.
        _redis = redis.Redis(host="127.0.0.1", port=int(os.environ[PORT_ENV]), socket_timeout=START_TIMEOUT + 10)
    return _redis


@app.task(name="bench.io")  # type: ignore[untyped-decorator,unused-ignore]
def io_task(sent: float) -> None:
    time.sleep(SLEEP)
    redis_client().rpush(DONE_KEY, f"{sent!r} {time.monotonic()!r}")


@app.task(name="bench.hub")  # type: ignore[untyped-decorator,unused-ignore]
def hub_task() -> None:
    redis_client().rpush(HUB_KEY, json.dumps(hub_description()))


class Producer:
    """Sends ``bench.io`` tasks, keeping at most ``window`` unfinished, and collects their latencies."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.redis = redis_client()
        self.latencies_ms: list[float] = []
        self.last_finish = 0.0
        self.errors: list[str] = []

    def run(self, tasks: int) -> None:
        sent = done = 0
        with app.producer_or_acquire() as producer:
            while done < tasks:
                while sent < tasks and sent - done < self.window:
                    io_task.apply_async((time.monotonic(),), producer=producer)
                    sent += 1
                first = self.redis.blpop(DONE_KEY, timeout=STALL_TIMEOUT)
                if first is None:
                    self.errors.append(f"no task finished for {STALL_TIMEOUT}s ({tasks - done} of {tasks} unfinished)")
                    return
                more = self.redis.lpop(DONE_KEY, self.window) or []
                for item in [first[1], *more]:
                    sent_at, finished = map(float, item.split())
                    self.latencies_ms.append((finished - sent_at) * 1000.0)
                    self.last_finish = max(self.last_finish, finished)
                    done += 1


def worker_hub() -> dict[str, Any]:
    """The hub the worker's tasks run on (``bench.hub``)."""
    client = redis_client()
    hub_task.delay()
    answer = client.blpop(HUB_KEY, timeout=START_TIMEOUT)
    if answer is None:
        raise RuntimeError(f"the worker did not run bench.hub within {START_TIMEOUT}s")
    described: dict[str, Any] = json.loads(answer[1])
    return described


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventhub.bench.celery_app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, required=True, help="tasks measured")
    parser.add_argument("--window", type=int, required=True, help="unfinished tasks at most")
    args = parser.parse_args(argv)
    if args.tasks < 1 or args.window < 1:
        parser.error("--tasks and --window must be at least 1")
    redis_client().delete(DONE_KEY, HUB_KEY)
    hub = worker_hub()
    Producer(args.window).run(min(WARM_UP_TASKS, args.tasks))
    producer = Producer(args.window)
    started = time.monotonic()
    producer.run(args.tasks)
    elapsed = producer.last_finish - started
    rate = len(producer.latencies_ms) / elapsed if producer.latencies_ms and elapsed > 0 else 0.0
    print(json.dumps({"hub": hub, "tasks": len(producer.latencies_ms), "seconds": elapsed, "rate": rate,
                      "latencies_ms": [round(x, 3) for x in producer.latencies_ms], "errors": producer.errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
