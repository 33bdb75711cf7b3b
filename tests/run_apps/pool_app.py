"""A pool of connections shared by many more greenthreads, as redis-py's ``BlockingConnectionPool`` shares its.

Run under ``eventhub-run`` (``tests/test_fair_queue.py``; by hand for the
figures in ``docs/apps.md``)::

    eventhub-run python tests/run_apps/pool_app.py [--connections N] [--workers M] [--rounds K]

After ``eventlet.monkey_patch()``, the pool is a ``queue.LifoQueue`` holding
N connections to an echo server in the same process; M greenthreads each make
K requests: take a connection (waiting for one if none is free), one round
trip, give it back, and at once ask again.  Prints one JSON object: the
queue and hub classes, request latency (wait plus round trip, seconds) at
p50/p99/max, and ``max_overtaken``: the most requests that took a
connection while one request waited for its own.  A first come, first
served queue keeps that below M (only those already waiting can go first).
"""

from __future__ import annotations

import argparse
import json
import queue
import socket
import time
from typing import Any

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]

eventlet.monkey_patch()

import eventlet.hubs  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: E402


def class_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(64):
            conn.sendall(data)


def serve(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        eventlet.spawn(echo, conn)


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--connections", type=int, default=10)
    cli.add_argument("--workers", type=int, default=500)
    cli.add_argument("--rounds", type=int, default=20)
    args = cli.parse_args()

    listener = eventlet.listen(("127.0.0.1", 0))
    eventlet.spawn(serve, listener)
    pool: queue.LifoQueue[socket.socket] = queue.LifoQueue(args.connections)
    for _ in range(args.connections):
        pool.put_nowait(socket.create_connection(listener.getsockname()))

    taken = 0  # connections taken from the pool so far
    latencies: list[float] = []
    most_overtaken = 0

    def worker() -> None:
        nonlocal taken, most_overtaken
        for _ in range(args.rounds):
            started, taken_before = time.perf_counter(), taken
            conn = pool.get(timeout=120)
            most_overtaken = max(most_overtaken, taken - taken_before)
            taken += 1
            conn.sendall(b"x")
            if conn.recv(1) != b"x":
                raise RuntimeError("the echo server lost a byte")
            pool.put_nowait(conn)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    workers = [eventlet.spawn(worker) for _ in range(args.workers)]
    for gt in workers:
        gt.wait()
    elapsed = time.perf_counter() - started
    latencies.sort()
    print(json.dumps({
        "queue": class_name(pool),
        "hub": class_name(eventlet.hubs.get_hub()),
        "requests": len(latencies),
        "workers": args.workers,
        "connections": args.connections,
        "requests_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "max_overtaken": most_overtaken,
    }))


if __name__ == "__main__":
    main()
