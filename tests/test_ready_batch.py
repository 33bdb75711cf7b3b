"""Many fds ready in one pass: every waiter woken once, errors blamed on the right fd.

The compiled epolls hub hands a blocking greenthread straight on to the
next one its ready batch wakes, instead of switching back to the loop
first; these hold every hub to what the loop alone would do.
"""

from __future__ import annotations

import socket
from typing import Any, Iterator

import greenlet
import pytest
from conftest import run_until_dead, wait_until

import eventhub
from eventhub import hubs, net

PAIRS = 40


@pytest.fixture
def pairs(hub: Any) -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    made = [socket.socketpair() for _ in range(PAIRS)]
    for a, b in made:
        a.setblocking(False)
        b.setblocking(False)
    try:
        yield made
    finally:
        for a, b in made:
            a.close()
            b.close()


def test_every_waiter_of_a_batch_is_woken_once(
    hub: Any, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    first: list[int] = []
    second: list[int] = []

    def waiter(i: int, a: socket.socket) -> None:
        hubs.trampoline(a, read=True)
        first.append(i)
        assert a.recv(10) == b"1"
        hubs.trampoline(a, read=True)  # blocks again with the batch half done
        second.append(i)
        assert a.recv(10) == b"2"

    threads = [eventhub.spawn(waiter, i, a) for i, (a, _) in enumerate(pairs)]
    eventhub.sleep(0)  # all of them wait now
    for _, b in pairs:
        b.send(b"1")
    wait_until(lambda: len(first) == PAIRS, eventhub.sleep)
    eventhub.sleep(0.01)
    assert sorted(first) == list(range(PAIRS)) and second == []
    for _, b in pairs:
        b.send(b"2")
    for t in threads:
        t.wait()
    assert sorted(second) == list(range(PAIRS))


def test_callbacks_and_greenthreads_in_one_batch(hub: Any, pairs: list[tuple[socket.socket, socket.socket]]) -> None:
    got: list[tuple[str, int]] = []
    listeners: dict[int, Any] = {}

    def callback(i: int, a: socket.socket) -> Any:
        def on_readable(fd: int) -> None:
            got.append(("callback", i))
            assert a.recv(10) == b"x"
            hub.remove(listeners.pop(i))

        return on_readable

    def waiter(i: int, a: socket.socket) -> None:
        hubs.trampoline(a, read=True)
        got.append(("greenthread", i))
        assert a.recv(10) == b"x"

    threads = []
    for i, (a, _) in enumerate(pairs):
        if i % 3 == 1:  # every third fd has a plain callback, not a greenthread
            listeners[i] = hub.add(hub.READ, a.fileno(), callback(i, a), lambda *args: None, None)
        else:
            threads.append(eventhub.spawn(waiter, i, a))
    eventhub.sleep(0)
    for _, b in pairs:
        b.send(b"x")
    for t in threads:
        t.wait()
    wait_until(lambda: not listeners, eventhub.sleep)
    assert sorted(got) == sorted(
        ("callback" if i % 3 == 1 else "greenthread", i) for i in range(PAIRS)
    )


def test_an_error_that_reaches_the_loop_names_the_fd_that_woke_its_greenlet(
    hub: Any, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    (a1, b1), (a2, b2) = pairs[:2]
    squelched: list[tuple[Any, Any]] = []
    hub.squelch_exception = lambda fileno, exc_info: squelched.append((fileno, exc_info[0]))

    def waits_twice() -> None:  # woken first, then blocks again
        hubs.trampoline(a1, read=True)
        a1.recv(1)
        hubs.trampoline(a1, read=True)

    def fails() -> None:  # a bare greenlet: its error ends up in the loop
        hubs.trampoline(a2, read=True)
        raise ValueError("boom")

    t = eventhub.spawn(waits_twice)
    g = greenlet.greenlet(fails, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    eventhub.sleep(0)
    assert [r.fileno for r in hub.get_readers()] == [a1.fileno(), a2.fileno()]
    b1.send(b"x")  # ready first
    b2.send(b"x")
    wait_until(lambda: squelched, eventhub.sleep)
    assert squelched == [(a2.fileno(), ValueError)]
    assert g.dead and not t.dead  # t still waits on a1, untouched
    assert [r.fileno for r in hub.get_readers()] == [a1.fileno()]
    b1.send(b"x")
    t.wait()


def test_a_callback_goes_on_as_soon_as_the_greenlet_it_switched_to_blocks(
    hub: Any, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    (c, d), (a, b), (never, peer) = pairs[:3]
    order: list[str] = []

    def blocks() -> None:
        order.append("greenlet blocks")
        hubs.trampoline(never, read=True)

    g = greenlet.greenlet(blocks, parent=hub.greenlet)

    def callback(fd: int) -> None:
        hub.remove(listener)
        c.recv(1)
        g.switch()
        order.append("callback goes on")

    def waiter() -> None:
        hubs.trampoline(a, read=True)
        order.append("next waiter")

    w = eventhub.spawn(waiter)
    eventhub.sleep(0)
    listener = hub.add(hub.READ, c.fileno(), callback, lambda *args: None, None)
    d.send(b"x")  # ready first (where the poller keeps readiness order)
    b.send(b"x")
    w.wait()
    wait_until(lambda: len(order) == 3, eventhub.sleep)
    # The callback runs in the loop's greenlet: when g blocks, the loop (the
    # callback) goes on; the batch's next waiter comes after it, not between.
    assert order.index("callback goes on") == order.index("greenlet blocks") + 1
    peer.send(b"x")
    run_until_dead(g, eventhub.sleep)


def test_a_callback_that_polls_again_mid_batch(hub: Any, pairs: list[tuple[socket.socket, socket.socket]]) -> None:
    """A callback calling hub.wait() dispatches a batch of its own inside the
    first; afterwards the first goes on, and nobody misses their data."""
    (c, d), *rest = pairs
    socks = [(net.GreenSocket(sock=a), b) for a, b in rest]
    for a, _ in socks:
        a.settimeout(None)  # blocking, the green way
    got: list[int] = []
    nested: list[int] = []

    def poll_again(fd: int) -> None:
        hub.remove(listener)
        c.recv(10)
        nested.append(1)
        hub.wait(0)

    def reader(i: int, a: net.GreenSocket) -> None:
        for _ in range(2):
            assert a.recv(10) == b"x"
            got.append(i)

    threads = [eventhub.spawn(reader, i, a) for i, (a, _) in enumerate(socks)]
    eventhub.sleep(0)
    listener = hub.add(hub.READ, c.fileno(), poll_again, lambda *args: None, None)
    half = len(socks) // 2
    for _, b in socks[:half]:
        b.send(b"x")
    d.send(b"x")  # the callback's fd is ready mid-batch
    for _, b in socks[half:]:
        b.send(b"x")
    wait_until(lambda: len(got) == len(socks), eventhub.sleep)
    assert nested == [1]
    for _, b in socks:
        b.send(b"x")
    for t in threads:
        t.wait()
    assert sorted(got) == sorted(2 * list(range(len(socks))))
    for a, _ in socks:
        a.detach()  # the fixture closes the sockets


def test_a_greenthread_killed_while_others_are_woken(
    hub: Any, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    got: list[int] = []
    threads: list[Any] = []

    def waiter(i: int, a: socket.socket) -> None:
        hubs.trampoline(a, read=True)
        got.append(i)
        a.recv(10)
        if i == 0:
            threads[1].kill()  # its fd is ready in this very batch
        hubs.trampoline(a, read=True)

    threads.extend(eventhub.spawn(waiter, i, a) for i, (a, _) in enumerate(pairs[:3]))
    eventhub.sleep(0)
    for _, b in pairs[:3]:
        b.send(b"x")
    wait_until(lambda: threads[1].dead and len(got) >= 2, eventhub.sleep)
    eventhub.sleep(0.01)
    assert 1 not in got or got.index(1) < got.index(0)
    assert sorted(set(got) - {1}) == [0, 2]
    for t in (threads[0], threads[2]):
        t.kill()
        run_until_dead(t, eventhub.sleep)
