"""eventhub.eventlet_greenio: eventlet's GreenSocket recv/recv_into/send/sendall in C, with eventlet's outcomes.

Every test runs twice, with eventlet's own methods and with the compiled
ones installed (where built), on every hub eventlet can run on here:
eventhub.eventlet's classes, pure twins of its select-family classes when
the compiled ones are in use, and eventlet's own epolls hub (which the
compiled methods wait on through eventlet's trampoline).  Each asserts
what eventlet's methods do, so the compiled ones are held to it.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import Any, Iterator

import eventlet
import eventlet.green.socket
import eventlet.hubs
import pytest
from eventlet.greenio.base import GreenSocket

import eventhub.eventlet as adapter
from eventhub import eventlet_greenio
from eventhub.hubs import epolls, poll, selects
from eventhub.hubs._variant import NO_EXTENSIONS, load_compiled

VARIANT_MARK = pytest.mark.pure if NO_EXTENSIONS else pytest.mark.compiled


def _hub_params(eventlets_own: bool = True) -> list[Any]:
    # AsyncioHub left out, as in test_eventlet_adapter: its greenthreads cannot be the test's main greenlet.
    params = [pytest.param(getattr(adapter, name), id=f"{name}-{'pure' if NO_EXTENSIONS else 'compiled'}",
                           marks=VARIANT_MARK)
              for name in adapter.BACKENDS if name not in adapter.UNAVAILABLE and name != "AsyncioHub"]
    if not NO_EXTENSIONS:  # the pure select-family hubs too, under the same adapter mixin
        for backend in (epolls, poll, selects):
            if backend.PureHub is not None and backend.is_available():
                name = backend.__name__.rsplit(".", 1)[-1]
                cls = type(f"Pure{name}", (adapter.EventletHubMixin, backend.PureHub), {})
                params.append(pytest.param(cls, id=f"{name}-pure", marks=pytest.mark.pure))
    if eventlets_own:
        params.append(pytest.param("eventlet.hubs.epolls", id="eventlets-epolls"))
    return params


IMPLEMENTATIONS = [pytest.param("eventlet", id="eventlets-methods")]
if eventlet_greenio.VARIANT == "compiled":
    IMPLEMENTATIONS.append(pytest.param("compiled", id="compiled-methods", marks=pytest.mark.compiled))


def release_hub(hub: Any) -> None:
    """Give back a dropped hub's fds now (its loop greenlet may still be suspended in it), not at GC."""
    if hasattr(hub, "destroy"):  # eventhub's: closes its poller and waker, running or not
        hub.destroy()
    else:  # eventlet's own epolls hub: its epoll object (a suspended loop ends when collected)
        hub.poll.close()


@pytest.fixture(params=_hub_params())
def hub(request: pytest.FixtureRequest) -> Iterator[Any]:
    eventlet.hubs.use_hub(request.param)
    hub = eventlet.hubs.get_hub()
    try:
        yield hub
    finally:
        eventlet.hubs.use_hub()
        release_hub(hub)


@pytest.fixture(params=IMPLEMENTATIONS)
def methods(request: pytest.FixtureRequest, hub: Any) -> Iterator[str]:
    """Which GreenSocket methods run: eventlet's, or the compiled ones installed for the test."""
    if request.param == "compiled":
        assert eventlet_greenio.install()
    try:
        with eventlet.Timeout(20):  # a hang fails the test
            yield str(request.param)
    finally:
        eventlet_greenio.uninstall()


def outcome(call: Any, *args: Any) -> tuple[Any, ...]:
    """("returned", value) or ("raised", exception type, its args)."""
    try:
        return ("returned", call(*args))
    except Exception as e:
        return ("raised", type(e), e.args)


def test_the_compiled_methods_are_in_place_only_when_installed(methods: str) -> None:
    installed = {name: vars(GreenSocket)[name] for name in eventlet_greenio.METHODS}
    if methods == "compiled":
        assert eventlet_greenio.installed()
        assert all(type(method).__name__ == "cython_function_or_method" for method in installed.values())
    else:
        assert not eventlet_greenio.installed()
        assert all(method.__module__ == "eventlet.greenio.base" for method in installed.values())


def test_recv_waits_for_data_while_others_run(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()
    ran: list[str] = []

    def other() -> None:
        ran.append("other")
        eventlet.sleep(0.01)
        b.sendall(b"hello")

    eventlet.spawn(other)
    assert a.recv(100) == b"hello"
    assert ran == ["other"]
    buffer = bytearray(10)
    b.sendall(b"0123456789abc")
    assert a.recv_into(buffer, 4) == 4 and buffer[:4] == b"0123"
    assert a.recv_into(buffer) == 9 and buffer[:9] == b"456789abc"
    a.close()
    b.close()


def test_reading_nothing_still_waits_for_readiness(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()
    sent: list[bool] = []

    def send_later() -> None:
        eventlet.sleep(0.01)
        sent.append(True)
        b.sendall(b"x")

    eventlet.spawn(send_later)
    assert a.recv(0) == b"" and sent == [True]
    assert a.recv_into(bytearray(0)) == 0
    assert a.recv(10) == b"x"
    a.settimeout(0.02)
    assert outcome(a.recv, 0) == ("raised", TimeoutError, ("timed out",))
    a.close()
    b.close()


def test_timeouts_raise_eventlets_timeout(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()
    a.settimeout(0.02)
    assert outcome(a.recv, 10) == ("raised", TimeoutError, ("timed out",))
    assert outcome(a.recv_into, bytearray(4)) == ("raised", TimeoutError, ("timed out",))
    # Nobody reads b: a's sends fill the buffers, then time out.
    assert outcome(a.sendall, b"x" * (8 << 20)) == ("raised", TimeoutError, ("timed out",))
    assert outcome(a.send, b"x" * 65536) == ("raised", TimeoutError, ("timed out",))
    a.close()
    b.close()


def test_non_blocking_sockets_raise_instead_of_waiting(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()
    a.setblocking(False)
    assert outcome(a.recv, 10)[:2] == ("raised", BlockingIOError)
    assert outcome(a.recv_into, bytearray(4))[:2] == ("raised", BlockingIOError)
    while outcome(a.send, b"x" * 65536)[0] == "returned":
        pass
    assert outcome(a.send, b"x")[:2] == ("raised", BlockingIOError)
    a.close()
    b.close()


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_sendall_sends_everything_in_order_to_a_slow_reader(methods: str, kind: Any) -> None:
    a, b = eventlet.green.socket.socketpair()
    data = os.urandom(3 << 20)
    received = bytearray()

    def read_slowly() -> None:
        while len(received) < len(data):
            chunk = b.recv(1 << 16)
            assert chunk
            received.extend(chunk)
            eventlet.sleep(0)

    reader = eventlet.spawn(read_slowly)
    assert a.sendall(kind(data)) is None
    reader.wait()
    assert bytes(received) == data
    a.close()
    b.close()


def test_a_reset_connection_reads_empty_and_fails_sends(methods: str) -> None:
    server = eventlet.listen(("127.0.0.1", 0))
    client = eventlet.connect(server.getsockname())
    conn, _ = server.accept()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # an RST: the client's reads fail with ECONNRESET, which eventlet reads as the end
    eventlet.sleep(0.01)
    assert client.recv(10) == b""
    result = outcome(client.send, b"x")
    assert result[:2] == ("raised", BrokenPipeError) and result[2][0] == errno.EPIPE
    client.close()
    server.close()


def test_a_socket_marked_closed_ends_reads_and_sends(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()
    a._mark_as_closed()  # what a hub's IOClosed leaves: the next wait refuses
    assert outcome(a.recv, 10) == ("raised", EOFError, ())
    a.setblocking(False)
    while outcome(a.send, b"x" * 65536)[0] == "returned":
        pass
    a.setblocking(True)
    assert outcome(a.send, b"x") == ("raised", ConnectionResetError,
                                     (errno.ECONNRESET, "Connection closed by another thread"))
    a.close()
    b.close()


# eventhub's hubs only: eventlet's own epolls hub does not wake such a reader (with either methods).
@pytest.mark.parametrize("hub", _hub_params(eventlets_own=False), indirect=True)
def test_a_reader_whose_fd_is_reused_gets_eof(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()

    def reader() -> tuple[Any, ...]:
        return outcome(a.recv, 10)

    waiting = eventlet.spawn(reader)
    eventlet.sleep(0)
    fileno = a.fileno()
    a.fd.close()  # behind eventlet's back: the waiter is not told ...
    stand_in = socket.socket()  # ... until its fd number is reused, which eventlet announces
    try:
        if stand_in.fileno() != fileno:  # the kernel chose another free number: take a's
            os.dup2(stand_in.fileno(), fileno)
        eventlet.hubs.notify_opened(fileno)
        assert waiting.wait() == ("raised", EOFError, ())
        assert a._closed
    finally:
        if stand_in.fileno() != fileno:
            os.close(fileno)
        stand_in.close()
        b.close()


def test_closed_sockets_and_bad_arguments_raise_as_the_socket_module(methods: str) -> None:
    a, b = eventlet.green.socket.socketpair()
    assert outcome(a.recv, -1) == ("raised", ValueError, ("negative buffersize in recv",))
    assert outcome(a.recv, "ten")[:2] == ("raised", TypeError)
    assert outcome(a.recv_into, b"immutable")[:2] == ("raised", TypeError)
    assert outcome(a.send, "text")[:2] == ("raised", TypeError)
    assert outcome(a.sendall, "text")[:2] == ("raised", TypeError)
    a.close()
    for call, args in ((a.recv, (1,)), (a.recv_into, (bytearray(1),)), (a.send, (b"x",)), (a.sendall, (b"x",))):
        result = outcome(call, *args)
        assert result[:2] == ("raised", OSError) and result[2][0] == errno.EBADF
    b.close()


def test_a_subclass_keeps_eventlets_methods(methods: str) -> None:
    class Counting(GreenSocket):  # type: ignore[misc]
        loops = 0

        def _recv_loop(self, *args: Any) -> Any:
            Counting.loops += 1
            return super()._recv_loop(*args)

    a, b = eventlet.green.socket.socketpair()
    counted = Counting(a.fd, set_nonblocking=False)
    b.sendall(b"hi")
    assert counted.recv(10) == b"hi" and Counting.loops == 1
    a.close()
    b.close()


def test_install_needs_the_compiled_twin() -> None:
    try:
        assert eventlet_greenio.install() is (eventlet_greenio.VARIANT == "compiled")
        assert eventlet_greenio.installed() is (eventlet_greenio.VARIANT == "compiled")
    finally:
        eventlet_greenio.uninstall()
    assert not eventlet_greenio.installed()
    assert all(vars(GreenSocket)[name].__module__ == "eventlet.greenio.base" for name in eventlet_greenio.METHODS)


def test_on_eventhubs_compiled_hubs_the_compiled_methods_wait_without_eventlets_trampoline(
        methods: str, hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    eventlets_trampoline = eventlet.greenio.base.trampoline

    def counting_trampoline(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return eventlets_trampoline(*args, **kwargs)

    monkeypatch.setattr(eventlet.greenio.base, "trampoline", counting_trampoline)
    a, b = eventlet.green.socket.socketpair()
    eventlet.spawn_after(0.01, b.sendall, b"late")
    assert a.recv(10) == b"late"
    core = load_compiled("_core")
    in_c = methods == "compiled" and core is not None and isinstance(hub, core.BaseHub)
    assert len(calls) == (0 if in_c else 1)
    a.close()
    b.close()
