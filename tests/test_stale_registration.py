"""A registration the poller cannot drop by fd number must not make the loop spin."""

from __future__ import annotations

import os
import socket
import time
from typing import Any, Callable

import pytest

import eventhub
from eventhub import hubs


# On uvloop the spin it expects shows as CPU time only when the process gets a core.
@pytest.mark.timing_sensitive
def test_fd_closed_behind_the_hub_while_a_dup_lives_does_not_spin(hub: Any, request: Any) -> None:
    if "uvloop" in type(getattr(hub, "loop", None)).__module__:
        # libuv keeps such a registration in its epoll set and offers no way
        # to replace that set: a known limit of the asyncio hub on uvloop
        # (docs/asyncio.md); strict, so a uvloop that fixes it fails here.
        request.applymarker(pytest.mark.xfail(strict=True, reason="libuv spins on a registration it cannot drop"))
    a, b = socket.socketpair()
    fd = a.detach()
    keep_open = os.dup(fd)  # the file outlives the fd number the hub knows
    try:
        waiter = eventhub.spawn(hubs.trampoline, fd, read=True, timeout=0.05)
        eventhub.sleep(0.01)  # registered with the poller
        os.close(fd)  # closed without telling the hub (no notify_close)
        b.send(b"x")  # the file is readable now, and stays so: nobody reads it
        try:
            waiter.wait()
        except (TimeoutError, OSError):
            pass
        started = time.process_time()
        eventhub.sleep(0.3)  # an idle hub should sleep, not poll in a loop
        assert time.process_time() - started < 0.15
        assert hub.get_readers() == []
    finally:
        os.close(keep_open)
        b.close()


def test_new_socket_on_a_reused_fd_number_frees_the_old_waiter(hub: Any) -> None:
    """An fd closed behind the hub's back and handed out again to a GreenSocket."""
    from eventhub import net
    from eventhub.hubs import IOClosed

    a, b = socket.socketpair()
    fd = a.detach()
    caught: list[type[BaseException]] = []

    def stale_waiter() -> None:
        try:
            hubs.trampoline(fd, read=True, timeout=5)
        except IOClosed as e:
            caught.append(type(e))

    waiter = eventhub.spawn(stale_waiter)
    eventhub.sleep(0.01)
    os.close(fd)  # behind the hub's back: its listener on fd is stale now
    c, d = net.socketpair()  # the lowest free numbers: fd comes back
    try:
        assert fd in (c.fileno(), d.fileno())
        waiter.wait()
        assert caught == [IOClosed]
        mine = c if c.fileno() == fd else d
        other = d if mine is c else c
        other.sendall(b"hello")
        assert mine.recv(5) == b"hello"  # no "second simultaneous read"
    finally:
        c.close()
        d.close()
        b.close()


def test_readable_with_nobody_waiting_after_a_wait_does_not_spin(hub: Any) -> None:
    """A hub may keep an fd registered after its last waiter (epolls, asyncio):
    once that fd fires with nobody waiting it must drop it, not poll in a loop."""
    a, b = socket.socketpair()
    try:
        with pytest.raises(TimeoutError):
            hubs.trampoline(a.fileno(), read=True, timeout=0.01, timeout_exc=TimeoutError)
        b.send(b"x")  # readable from now on, and nobody reads it
        started = time.process_time()
        eventhub.sleep(0.3)
        assert time.process_time() - started < 0.15
        assert hub.get_readers() == []
    finally:
        a.close()
        b.close()


def _pipe() -> tuple[int, Callable[[], object], Callable[[], object]]:
    r, w = os.pipe()
    return r, lambda: os.write(w, b"x"), lambda: os.close(w)


def _eventfd() -> tuple[int, Callable[[], object], Callable[[], object]]:
    fd = os.eventfd(0)  # eventfds share one inode: only their fd number tells them apart
    other = os.dup(fd)
    return fd, lambda: os.eventfd_write(other, 1), lambda: os.close(other)


def _socket() -> tuple[int, Callable[[], object], Callable[[], object]]:
    a, b = socket.socketpair()
    return a.detach(), lambda: b.send(b"x"), b.close


@pytest.mark.parametrize("make", [_pipe, _eventfd, _socket], ids=["pipe", "eventfd", "socket"])
def test_fd_number_reused_behind_the_hub_between_two_waits_wakes_the_second(
    hub: Any, make: Callable[[], tuple[int, Callable[[], object], Callable[[], object]]]
) -> None:
    """An fd waited on, closed without telling the hub, its number given to
    a new file of the same kind: a hub that kept the old registration must
    notice the new file."""
    number, make_ready, close_other_end = make()
    new_fd, make_new_ready, close_new_other_end = make()
    try:
        make_ready()
        hubs.trampoline(number, read=True, timeout=5)
        close_other_end()
        os.dup2(new_fd, number)  # closes the old file's last fd: that file is gone
        os.close(new_fd)
        eventhub.spawn_after(0.02, make_new_ready)
        hubs.trampoline(number, read=True, timeout=5, timeout_exc=TimeoutError)  # no TimeoutError
    finally:
        os.close(number)
        close_new_other_end()
