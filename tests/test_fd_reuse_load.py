"""fd numbers coming back under load: never the wrong wake-up, a hang, or a
spurious "second simultaneous read"."""

from __future__ import annotations

import random
import socket
from typing import Any

import pytest

import eventhub
from eventhub import hubs
from eventhub.hubs import IOClosed
from eventhub.timeout import Timeout

pytestmark = pytest.mark.timing_sensitive

GREENTHREADS = 1000
ROUNDS = 4
#: At most this many socket pairs open at once, so select() (fds < 1024) copes.
MAX_OPEN_PAIRS = 200


def test_churning_sockets_never_wake_the_wrong_greenthread(hub: Any) -> None:
    rng = random.Random(7)
    open_pairs: list[tuple[socket.socket, socket.socket]] = []
    owners: dict[int, int] = {}  # fd -> greenthread id using it now
    problems: list[str] = []
    closed_under = [0]
    finished = [0]

    def churn(me: int) -> None:
        for round_ in range(ROUNDS):
            while len(open_pairs) >= MAX_OPEN_PAIRS:
                eventhub.sleep(0.001)
            a, b = socket.socketpair()
            pair = (a, b)
            open_pairs.append(pair)
            fd = a.fileno()
            hubs.notify_opened(fd)  # the number may have just been freed
            if owners.get(fd) is not None:
                problems.append(f"fd {fd} handed out while still owned by {owners[fd]}")
            owners[fd] = me
            token = b"%d:%d" % (me, round_)
            try:
                if rng.random() < 0.5:
                    eventhub.sleep(0)  # let others reuse fds meanwhile
                # Someone else sends our token later (or we're closed under us).
                hub.schedule_call_global(rng.random() * 0.002, send_or_close, pair, token)
                try:
                    hubs.trampoline(a, read=True, timeout=30)
                except IOClosed:
                    closed_under[0] += 1
                    continue
                data = a.recv(64)
                if data != token:
                    problems.append(f"greenthread {me} woke for {data!r}, expected {token!r}")
            except RuntimeError as e:  # "second simultaneous read" would land here
                problems.append(f"greenthread {me}: {e}")
            finally:
                if pair in open_pairs:
                    del owners[fd]
                    open_pairs.remove(pair)
                    hubs.notify_close(a.fileno())
                    a.close()
                    b.close()
        finished[0] += 1

    def send_or_close(pair: tuple[socket.socket, socket.socket], token: bytes) -> None:
        a, b = pair
        if pair not in open_pairs:
            return
        if rng.random() < 0.1:  # closed under its waiter: IOClosed, never a hang
            open_pairs.remove(pair)
            owners.pop(a.fileno(), None)  # the number is free again from now on
            hubs.notify_close(a.fileno())
            a.close()
            b.close()
        else:
            b.send(token)

    threads = [eventhub.spawn(churn, i) for i in range(GREENTHREADS)]
    with Timeout(120):
        for gt in threads:
            gt.wait()
    assert problems == []
    assert finished[0] == GREENTHREADS
    assert closed_under[0] > 0  # the close-under-waiter path really ran
    assert hub.get_readers() == [] and hub.get_writers() == []


def test_fd_closed_behind_the_hubs_back_then_reused(hub: Any) -> None:
    """No notify_close: the new owner's notify_opened defangs the stale waiter."""
    victims: list[str] = []
    for _ in range(50):
        a, b = socket.socketpair()

        def stale_waiter(sock: socket.socket = a) -> None:
            try:
                hubs.trampoline(sock.fileno(), read=True, timeout=30)
                victims.append("woke")
            except IOClosed:
                victims.append("ioclosed")

        gt = eventhub.spawn(stale_waiter)
        eventhub.sleep(0)
        fd = a.fileno()
        a.close()  # behind the hub's back
        b.close()
        c, d = socket.socketpair()
        try:
            if c.fileno() == fd or d.fileno() == fd:
                hubs.notify_opened(fd)
            else:  # the OS chose another number: tell the hub as close() should have
                hubs.notify_close(fd)
            d.send(b"x")
            hubs.trampoline(c, read=True, timeout=5)  # never "second simultaneous read"
            assert c.recv(1) == b"x"
            with Timeout(10):
                gt.wait()
        finally:
            c.close()
            d.close()
    assert victims == ["ioclosed"] * 50
