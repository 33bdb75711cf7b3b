"""Every hub: a signal interrupts a blocking wait at once, and hubs of several
OS threads run at the same time, each in its own thread."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

import eventhub
from eventhub import hubs, net

pytestmark = pytest.mark.timing_sensitive


def test_sigint_interrupts_a_long_wait(hub: Any) -> None:
    """KeyboardInterrupt reaches the main greenlet promptly, not when the wait times out."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers run in the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    killer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    try:
        killer.start()
        with pytest.raises(KeyboardInterrupt):
            eventhub.sleep(10)
    finally:
        killer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 3


def test_a_python_signal_handler_runs_during_the_wait(hub: Any) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers run in the main thread only")
    seen: list[float] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(time.monotonic()))
    killer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        killer.start()
        started = time.monotonic()
        eventhub.sleep(0.6)
    finally:
        killer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    assert len(seen) == 1 and seen[0] - started < 0.5
    assert time.monotonic() - started >= 0.55  # the sleep itself went on


def test_hubs_in_several_threads_at_once(hub_class: Any) -> None:
    """Each thread runs its own hub of this class; ping-pongs overlap in time."""
    rounds = 200
    errors: list[BaseException] = []
    done: list[int] = []

    def pingpong() -> None:
        try:
            hubs.use_hub(hub_class)
            a, b = net.socketpair()

            def echo() -> None:
                for _ in range(rounds):
                    b.sendall(b.recv(1))

            server = eventhub.spawn(echo)
            for _ in range(rounds):
                a.sendall(b"x")
                assert a.recv(1) == b"x"
            server.wait()
            a.close()
            b.close()
            done.append(rounds)
            hubs.use_hub(hub_class)  # drop (and destroy) this thread's hub
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=pingpong) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert done == [rounds] * 4
