"""Signals interrupting wait(): nothing lost, Ctrl-C reaches the main greenlet."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Iterator

import pytest

import eventhub
from eventhub import hubs

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals"),
    pytest.mark.timing_sensitive,
]


@pytest.fixture
def interrupting_signal() -> Iterator[list[int]]:
    """SIGUSR1 to this thread every 5 ms with a Python handler: blocking waits get EINTR.

    Sent by a helper thread (not setitimer/SIGALRM, which pytest-timeout uses).
    """
    caught: list[int] = []
    old = signal.signal(signal.SIGUSR1, lambda signum, frame: caught.append(signum))
    target = threading.get_ident()
    stop = threading.Event()

    def pester() -> None:
        while not stop.wait(0.005):
            signal.pthread_kill(target, signal.SIGUSR1)

    t = threading.Thread(target=pester, daemon=True)
    t.start()
    try:
        yield caught
    finally:
        stop.set()
        t.join()
        signal.signal(signal.SIGUSR1, old)


def test_eintr_loses_no_timers_and_no_events(hub: Any, interrupting_signal: list[int]) -> None:
    fired: list[int] = []
    for i in range(20):
        hub.schedule_call_global(0.01 * i, fired.append, i)
    pairs = [socket.socketpair() for _ in range(10)]
    got: list[bytes] = []

    def reader(a: socket.socket) -> None:
        hubs.trampoline(a, read=True)
        got.append(a.recv(10))

    try:
        readers = [eventhub.spawn(reader, a) for a, _ in pairs]
        for i, (_, b) in enumerate(pairs):
            eventhub.sleep(0.02)  # blocking waits, interrupted by the signal
            b.send(b"%d" % i)
        for gt in readers:
            gt.wait()
        eventhub.sleep(0.25)
    finally:
        for a, b in pairs:
            a.close()
            b.close()
    assert len(interrupting_signal) > 0  # the waits really were interrupted
    assert fired == list(range(20))
    assert sorted(got) == sorted(b"%d" % i for i in range(10))


SIGINT_CHILD = r"""
import signal, sys, time
# A job started in the background by a non-interactive shell inherits
# SIGINT ignored, and Python then leaves it so: restore Python's own handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
import eventhub
from eventhub import hubs
import importlib
module = importlib.import_module("eventhub.hubs." + sys.argv[1])
hubs.use_hub(getattr(module, sys.argv[2]))
hub = hubs.get_hub()
hub.default_sleep = lambda: 120.0
eventhub.spawn(lambda: None)
print("ready", flush=True)
start = time.monotonic()
try:
    eventhub.sleep(120)
except KeyboardInterrupt:
    print("KeyboardInterrupt after %.2f" % (time.monotonic() - start), flush=True)
    sys.exit(0)
sys.exit(3)
"""


def test_sigint_during_long_wait_raises_keyboard_interrupt(hub_spec: tuple[str, str, Any]) -> None:
    name, variant, _ = hub_spec
    env = dict(os.environ)
    if variant == "pure":
        env.pop("EVENTHUB_NO_EXTENSIONS", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGINT_CHILD, name, "CompiledHub" if variant == "compiled" else "PureHub"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # let it block in the poller
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (out, err)
    assert "KeyboardInterrupt" in out
    assert elapsed < 20  # promptly: not after the 120 s poll timeout
