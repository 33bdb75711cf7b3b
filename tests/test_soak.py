"""Soak: 1M timers scheduled and cancelled, 100k connections opened and
closed, on every hub; RSS and the open-fd count must end flat.

Flat means: measured after a warm-up tenth of the run, then at the end, the
RSS grew by less than ``RSS_SLACK`` and not one descriptor more is open.
Set ``EVENTHUB_SOAK_SCALE`` (e.g. 0.1) to shorten a local run.

Each run soaks the hubs of its own variant: with the extensions built, the
compiled hubs; in the pure run (``EVENTHUB_NO_EXTENSIONS=1``, tox's
``*-pure`` envs) the pure hubs, with pure net and greenthread around them.
The pure hubs' code is the same in both runs, and soaking it in both
doubled the suite's longest test.

It measures memory and descriptors, never time, so it is not marked
``timing_sensitive``: CI runs it beside other jobs.
"""

from __future__ import annotations

import gc
import os
import socket
import tempfile
from typing import Any, Callable

import pytest
from conftest import HUB_PARAMS

import eventhub
from eventhub import hubs

SCALE = float(os.environ.get("EVENTHUB_SOAK_SCALE", "1"))
TIMERS = int(1_000_000 * SCALE)
CONNECTIONS = int(100_000 * SCALE)
CLIENTS = 20  # greenthreads connecting concurrently
RSS_SLACK = 4 * 1024 * 1024

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc"),
    pytest.mark.timeout(600),
]

#: The hub parameters of this run's own variant (see the module docstring).
OWN_VARIANT = [p for p in HUB_PARAMS if p.values[0][1] == hubs.VARIANT]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def assert_flat(run: Callable[[int], None], total: int) -> None:
    """Run a tenth as warm-up, measure, run the rest, measure again."""
    warm = total // 10
    run(warm)
    gc.collect()
    rss_before, fds_before = rss(), open_fds()
    run(total - warm)
    gc.collect()
    grown = rss() - rss_before
    assert open_fds() == fds_before
    assert grown < RSS_SLACK, f"RSS grew by {grown / 1e6:.1f} MB"


@pytest.mark.parametrize("hub_spec", OWN_VARIANT)
def test_soak_timers_scheduled_and_cancelled(hub: Any) -> None:
    def noop() -> None:
        pass

    def run(n: int) -> None:
        schedule = hub.schedule_call_global
        batch: list[Any] = []
        for i in range(n):
            batch.append(schedule(30.0 + (i % 97), noop))
            if len(batch) == 5000:
                for t in batch:
                    t.cancel()
                batch.clear()
                eventhub.sleep(0)  # a loop pass drops the cancelled timers
        for t in batch:
            t.cancel()
        eventhub.sleep(0)

    assert_flat(run, TIMERS)
    assert hub.get_timers_count() < 20_000  # compacted, not 1M dead entries


@pytest.mark.parametrize("hub_spec", OWN_VARIANT)
def test_soak_connections_opened_and_closed(hub: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "soak.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1024)
        listener.setblocking(False)

        def serve(n: int) -> None:
            for _ in range(n):
                while True:
                    try:
                        conn, _ = listener.accept()
                        break
                    except BlockingIOError:
                        hubs.trampoline(listener, read=True, timeout=30)
                conn.setblocking(False)
                hubs.trampoline(conn, read=True, timeout=30)
                conn.send(conn.recv(16))
                hubs.notify_close(conn.fileno())
                conn.close()

        def client(n: int) -> None:
            for _ in range(n):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(path)  # AF_UNIX: immediate while the backlog has room
                c.setblocking(False)
                c.send(b"ping")
                hubs.trampoline(c, read=True, timeout=30)
                assert c.recv(16) == b"ping"
                hubs.notify_close(c.fileno())
                c.close()

        def run(n: int) -> None:
            per_client = n // CLIENTS
            server = eventhub.spawn(serve, per_client * CLIENTS)
            clients = [eventhub.spawn(client, per_client) for _ in range(CLIENTS)]
            for gt in clients:
                gt.wait()
            server.wait()

        try:
            assert_flat(run, CONNECTIONS)
        finally:
            listener.close()
    assert hub.get_readers() == [] and hub.get_writers() == []
