"""Listener semantics of the hub contract: readiness, readers, bad fds, fd reuse."""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Any, Iterator

import greenlet
import pytest

import eventhub
from eventhub import hubs, net
from eventhub.hubs import IOClosed


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def noop(*args: Any) -> None:
    pass


def test_read_listener_fires_when_data_arrives(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    got: list[bytes] = []

    def reader() -> None:
        hubs.trampoline(a, read=True)
        got.append(a.recv(10))

    r = eventhub.spawn(reader)
    eventhub.sleep(0.01)
    assert got == []  # nothing to read yet: still parked
    b.send(b"ping")
    r.wait()
    assert got == [b"ping"]
    assert hub.get_readers() == []


def test_trampoline_listener_holds_the_waiters_switch_and_throw(
    hub: Any, pair: tuple[socket.socket, socket.socket]
) -> None:
    # The compiled trampoline makes g.switch/g.throw only if someone reads them.
    a, b = pair
    waiting: list[Any] = []

    def reader() -> None:
        waiting.append(greenlet.getcurrent())
        hubs.trampoline(a, read=True)

    g = eventhub.spawn(reader)
    eventhub.sleep(0)
    (listener,) = hub.get_readers()
    assert listener.greenlet is waiting[0] is g
    assert listener.cb == g.switch and listener.tb == g.throw
    assert listener.cb is listener.cb  # made once, like the pure hub's attribute
    b.send(b"x")
    g.wait()
    assert hub.get_readers() == []


def test_replaced_listener_callback_is_the_one_called(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    calls: list[int] = []

    def reader() -> None:
        hubs.trampoline(a, read=True)

    g = eventhub.spawn(reader)
    eventhub.sleep(0)
    (listener,) = hub.get_readers()
    resume = listener.cb

    def traced(fd: int) -> None:
        calls.append(fd)
        resume(fd)

    listener.cb = traced
    b.send(b"x")
    g.wait()
    assert calls == [a.fileno()]


def test_trampoline_resumes_through_a_subclass_switch(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    resumed: list[Any] = []

    class Traced(greenlet.greenlet):
        def switch(self, *args: Any, **kwargs: Any) -> Any:
            resumed.append(args)
            return super().switch(*args, **kwargs)

    def reader() -> None:
        hubs.trampoline(a, read=True)

    g = Traced(reader, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    eventhub.sleep(0)
    b.send(b"x")
    eventhub.sleep(0.01)
    assert g.dead and resumed == [(), (a.fileno(),)]


@pytest.mark.parametrize("method", ["switch", "throw"])
def test_socket_wait_notices_a_method_replaced_on_the_class_later(
    hub: Any, pair: tuple[socket.socket, socket.socket], method: str
) -> None:
    # The compiled hub remembers, per class, that switch() and throw() are
    # greenlet's own; replacing one on the class afterwards must be noticed.
    a, b = pair
    seen: list[str] = []

    class Late(greenlet.greenlet):
        pass

    original = getattr(greenlet.greenlet, method)

    def traced(self: greenlet.greenlet, *args: Any, **kwargs: Any) -> Any:
        seen.append(method)
        return original(self, *args, **kwargs)

    sock = net.GreenSocket(sock=a)  # its waits take the compiled fast path when built
    sock.settimeout(None)  # the fixture's socket is non-blocking

    def reader() -> None:
        sock.recv(1)  # waits with greenlet's own methods
        setattr(Late, method, traced)
        sock.recv(1)

    g = Late(reader, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    eventhub.sleep(0)
    b.send(b"x")
    eventhub.sleep(0.01)
    (listener,) = hub.get_readers()
    callback = listener.cb if method == "switch" else listener.tb
    assert callback == getattr(g, method)
    b.send(b"y")
    eventhub.sleep(0.01)
    assert g.dead and seen == (["switch"] if method == "switch" else [])


@pytest.mark.parametrize("method", ["add", "remove", "switch"])
def test_trampoline_calls_methods_replaced_on_the_hub_instance(
    hub: Any, pair: tuple[socket.socket, socket.socket], method: str
) -> None:
    a, b = pair
    callers: list[Any] = []
    original = getattr(hub, method)

    def traced(*args: Any, **kwargs: Any) -> Any:
        callers.append(greenlet.getcurrent())
        return original(*args, **kwargs)

    setattr(hub, method, traced)
    try:
        reader = net.GreenSocket(sock=a)  # its waits take the compiled fast path when built
        reader.settimeout(None)  # the fixture's socket is non-blocking
        g = eventhub.spawn(reader.recv, 1)
        eventhub.sleep(0)
        b.send(b"x")
        assert g.wait() == b"x"
    finally:
        delattr(hub, method)
    assert g in callers


def test_write_listener_fires_when_writable(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    hubs.trampoline(a, write=True, timeout=5)  # TimeoutError if never woken
    assert hub.get_writers() == []


def test_write_listener_waits_for_buffer_space(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    try:
        while True:
            a.send(b"x" * 65536)
    except BlockingIOError:
        pass
    woke: list[bool] = []

    def writer() -> None:
        hubs.trampoline(a, write=True)
        woke.append(True)

    w = eventhub.spawn(writer)
    eventhub.sleep(0.01)
    assert woke == []  # the buffer is full
    while True:
        try:
            b.recv(1 << 20)
        except BlockingIOError:
            break
    w.wait()
    assert woke == [True]


def test_level_triggered_callback_repeats_until_removed(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    b.send(b"unread")
    calls: list[int] = []
    listener = hub.add(hub.READ, a.fileno(), calls.append, noop, None)
    eventhub.sleep(0.01)
    eventhub.sleep(0.01)
    hub.remove(listener)
    n = len(calls)
    assert n >= 2 and set(calls) == {a.fileno()}
    eventhub.sleep(0.01)
    assert len(calls) == n  # removed: no more calls
    hub.remove(listener)  # removing a spent listener is a no-op


def test_listener_accepts_objects_with_fileno(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    listener = hub.add(hub.WRITE, a, noop, noop, None)
    assert listener.fileno == a.fileno()
    assert hub.get_writers() == [listener]
    hub.remove(listener)
    assert hub.get_writers() == []


def test_second_simultaneous_reader_is_an_error(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    first = hub.add(hub.READ, a.fileno(), noop, noop, None)
    with pytest.raises(RuntimeError, match="Second simultaneous read"):
        hub.add(hub.READ, a.fileno(), noop, noop, None)
    assert hub.get_readers() == [first]
    # The other direction is independent.
    writer = hub.add(hub.WRITE, a.fileno(), noop, noop, None)
    hub.remove(writer)
    hub.remove(first)


def test_multiple_readers_queue_and_promote(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    hub.prevent_multiple_readers = False
    calls: list[str] = []
    first = hub.add(hub.READ, a.fileno(), lambda fd: calls.append("first"), noop, None)
    second = hub.add(hub.READ, a.fileno(), lambda fd: calls.append("second"), noop, None)
    assert hub.get_readers() == [first]
    b.send(b"x")
    eventhub.sleep(0.01)
    assert calls and set(calls) == {"first"}
    hub.remove(first)
    assert hub.get_readers() == [second]
    calls.clear()
    eventhub.sleep(0.01)
    assert calls and set(calls) == {"second"}
    hub.remove(second)
    assert hub.get_readers() == []


def test_removing_a_queued_reader_keeps_the_first(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    hub.prevent_multiple_readers = False
    first = hub.add(hub.READ, a.fileno(), noop, noop, None)
    second = hub.add(hub.READ, a.fileno(), noop, noop, None)
    hub.remove(second)
    hub.remove(first)
    assert hub.get_readers() == []
    again = hub.add(hub.READ, a.fileno(), noop, noop, None)  # no stale queue entry
    assert hub.get_readers() == [again]
    hub.remove(again)


def test_fd_reuse_throws_ioclosed_into_old_waiter(hub: Any) -> None:
    a, b = socket.socketpair()
    caught: list[BaseException] = []
    closed_marks: list[bool] = []

    def waiter() -> None:
        try:
            hubs.trampoline(a, read=True, mark_as_closed=lambda: closed_marks.append(True))
        except IOClosed as e:
            caught.append(e)

    w = eventhub.spawn(waiter)
    eventhub.sleep(0.01)
    fd = a.fileno()
    a.close()
    c, d = socket.socketpair()  # most likely reuses fd; the hub is told either way
    try:
        hubs.notify_opened(fd)
        w.wait()
        assert len(caught) == 1 and isinstance(caught[0], IOClosed)
        assert isinstance(caught[0], OSError)
        assert closed_marks == [True]
        assert hub.get_readers() == []
        # The reused number works normally for its new owner.
        d.send(b"new")
        got: list[bytes] = []

        def new_reader() -> None:
            hubs.trampoline(c, read=True)
            got.append(c.recv(10))

        eventhub.spawn(new_reader).wait()
        assert got == [b"new"]
    finally:
        for s in (b, c, d):
            s.close()


def test_notify_close_wakes_waiter_with_ioclosed(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    caught: list[type[BaseException]] = []

    def waiter() -> None:
        try:
            hubs.trampoline(a, read=True)
        except IOClosed as e:
            caught.append(type(e))

    w = eventhub.spawn(waiter)
    eventhub.sleep(0.01)
    hubs.notify_close(a.fileno())
    w.wait()
    assert caught == [IOClosed]


def test_negative_fd_is_refused(hub: Any) -> None:
    with pytest.raises(ValueError):
        hub.add(hub.READ, -1, noop, noop, None)
    assert hub.get_readers() == []


def test_object_without_fileno_is_refused(hub: Any) -> None:
    with pytest.raises(TypeError):
        hub.add(hub.READ, object(), noop, noop, None)
    with pytest.raises(TypeError):
        hub.add(hub.READ, "3", noop, noop, None)
    assert hub.get_readers() == []


def test_non_callable_callback_is_refused(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    with pytest.raises(TypeError):
        hub.add(hub.READ, a.fileno(), "nope", noop, None)
    with pytest.raises(TypeError):
        hub.add(hub.READ, a.fileno(), noop, None, None)
    assert hub.get_readers() == []


def test_bad_evtype_is_refused(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    with pytest.raises(ValueError):
        hub.add("sideways", a.fileno(), noop, noop, None)


def assert_hub_still_works(hub: Any) -> None:
    a, b = socket.socketpair()
    try:
        b.send(b"ok")
        hubs.trampoline(a, read=True, timeout=5)
        assert a.recv(2) == b"ok"
        assert hub.get_readers() == []
    finally:
        a.close()
        b.close()


def test_closed_fd_is_refused_and_hub_stays_consistent(hub: Any) -> None:
    a, b = socket.socketpair()
    fd = a.fileno()
    a.close()
    b.close()
    with pytest.raises(OSError):
        hub.add(hub.READ, fd, noop, noop, None)
    assert hub.get_readers() == []
    assert_hub_still_works(hub)


def test_regular_file(hub: Any, hub_spec: tuple[str, str, Any]) -> None:
    """epoll (epolls, pyevent on Linux) cannot watch a regular file (EPERM); poll and select say it is always ready."""
    with tempfile.TemporaryFile() as f:
        # pyevent runs on libevent's epoll backend on Linux: it refuses them too.
        if hub_spec[0] == "epolls" or getattr(hub, "method", None) == "epoll":
            with pytest.raises(OSError):
                hub.add(hub.READ, f.fileno(), noop, noop, None)
            assert hub.get_readers() == []
        else:
            hubs.trampoline(f, read=True, timeout=5)
    assert_hub_still_works(hub)


def test_callback_exception_is_printed_and_loop_goes_on(
    hub: Any, pair: tuple[socket.socket, socket.socket], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = pair

    def bad_callback(fd: int) -> None:
        raise ValueError("callback failed")

    hub.add(hub.READ, a.fileno(), bad_callback, noop, None)
    b.send(b"x")
    eventhub.sleep(0.01)
    assert "ValueError: callback failed" in capsys.readouterr().err
    assert hub.get_readers() == []  # the failing descriptor was removed
    assert_hub_still_works(hub)


def test_remove_descriptor_wakes_and_drops_every_listener(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    woken: list[str] = []
    hub.add(hub.READ, a.fileno(), lambda fd: woken.append("r"), noop, None)
    hub.add(hub.WRITE, a.fileno(), lambda fd: woken.append("w"), noop, None)
    hub.remove_descriptor(a.fileno())
    assert sorted(woken) == ["r", "w"]
    assert hub.get_readers() == [] and hub.get_writers() == []


def test_trampoline_timeout(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    with pytest.raises(TimeoutError):
        hubs.trampoline(a, read=True, timeout=0.01)
    assert hub.get_readers() == []

    class Custom(Exception):
        pass

    with pytest.raises(Custom):
        hubs.trampoline(a, read=True, timeout=0.01, timeout_exc=Custom("late"))
    assert hub.get_timers_count() <= 2


def test_trampoline_needs_exactly_one_direction(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    with pytest.raises(ValueError):
        hubs.trampoline(a)
    with pytest.raises(ValueError):
        hubs.trampoline(a, read=True, write=True)


def test_many_fds_wake_the_right_greenthreads(hub: Any, hub_spec: tuple[str, str, Any]) -> None:
    pairs = [socket.socketpair() for _ in range(100)]
    try:
        got: dict[int, bytes] = {}

        def reader(i: int, s: socket.socket) -> None:
            hubs.trampoline(s, read=True, timeout=10)
            got[i] = s.recv(16)

        threads = [eventhub.spawn(reader, i, p[0]) for i, p in enumerate(pairs)]
        eventhub.sleep(0.01)
        for i in range(0, 100, 2):
            pairs[i][1].send(b"%d" % i)
        eventhub.sleep(0.05)
        assert sorted(got) == list(range(0, 100, 2))
        assert all(got[i] == b"%d" % i for i in got)
        for i in range(1, 100, 2):
            pairs[i][1].send(b"%d" % i)
        for t in threads:
            t.wait()
        assert all(got[i] == b"%d" % i for i in range(100))
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_hangup_wakes_reader(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    got: list[bytes] = []

    def reader() -> None:
        hubs.trampoline(a, read=True, timeout=5)
        got.append(a.recv(10))

    r = eventhub.spawn(reader)
    eventhub.sleep(0.01)
    b.close()
    r.wait()
    assert got == [b""]


def test_blocking_call_from_hub_greenlet_is_an_error(hub: Any, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    errors: list[str] = []

    def from_mainloop() -> None:
        try:
            hubs.trampoline(a, read=True)
        except RuntimeError as e:
            errors.append(str(e))
        try:
            eventhub.sleep(0)
        except RuntimeError as e:
            errors.append(str(e))

    hub.schedule_call_global(0, from_mainloop)
    eventhub.sleep(0.01)
    assert len(errors) == 2 and all("hub" in e for e in errors)


def test_fd_numbers_are_not_trusted(hub: Any, hub_spec: tuple[str, str, Any]) -> None:
    huge = 1 << 40
    with pytest.raises(ValueError):
        hub.add(hub.READ, huge, noop, noop, None)
    unused = os.open(os.devnull, os.O_RDONLY)
    os.close(unused)
    with pytest.raises(OSError):
        hub.add(hub.READ, unused, noop, noop, None)
    assert hub.get_readers() == []
    assert_hub_still_works(hub)
