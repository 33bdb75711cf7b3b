"""Name resolution off the hub: net.getaddrinfo, net.connect, GreenSocket.connect, on every hub."""

from __future__ import annotations

import errno
import select
import socket
import threading
import time
from typing import Any, Callable, Iterator

import pytest

from eventhub import Timeout, net, sleep, spawn
from eventhub.net import GreenSocket

SLOW = 10.0
STREAM = socket.SOCK_STREAM
REAL_GETADDRINFO = socket.getaddrinfo


def info(family: socket.AddressFamily, sockaddr: tuple[Any, ...]) -> net.AddrInfo:
    return (family, socket.SocketKind.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


class FakeResolver:
    """Stands in for the stdlib resolver the thread pool calls: names in ``names``
    resolve to their entries after ``delay`` seconds; others go to the real one."""

    def __init__(self, names: dict[str, list[net.AddrInfo]], delay: float = 0.0) -> None:
        self.names = names
        self.delay = delay
        self.threads: list[int] = []

    def __call__(self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        if host not in self.names:
            return REAL_GETADDRINFO(host, port, family, type, proto, flags)
        if flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")  # a name, not a number
        self.threads.append(threading.get_ident())
        time.sleep(self.delay)  # a blocking resolver: only its worker thread waits
        return [i for i in self.names[host] if family in (0, i[0])]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeResolver]:
    def install(names: dict[str, list[net.AddrInfo]], delay: float = 0.0) -> FakeResolver:
        fake = FakeResolver(names, delay)
        monkeypatch.setattr(net, "_blocking_getaddrinfo", fake)
        return fake

    return install


@pytest.fixture
def listener_v6(hub: Any) -> Iterator[GreenSocket]:
    with net.listen(("::1", 0)) as listener:
        yield listener


@pytest.fixture
def refused_address() -> Iterator[tuple[str, int]]:
    """Bound, not listening: connecting is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    try:
        yield s.getsockname()
    finally:
        s.close()


@pytest.fixture
def unanswered_address() -> Iterator[tuple[str, int]]:
    """A listener whose accept queue is full: the kernel drops further SYNs, so a connect waits."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers: list[socket.socket] = []
    try:
        for _ in range(16):
            probe = socket.socket()
            probe.setblocking(False)
            probe.connect_ex(address)
            fillers.append(probe)
            _, writable, _ = select.select([], [probe], [], 0.3)
            if not writable:
                break  # this one is left waiting: the queue is full
        else:
            raise AssertionError("the kernel answered every connect: no way to make one wait here")
        yield address
    finally:
        for s in fillers:
            s.close()
        listener.close()


def accept_in_background(listener: GreenSocket) -> list[Any]:
    accepted: list[Any] = []

    def accept() -> None:
        conn, _ = listener.accept()
        accepted.append(conn.getsockname())
        conn.close()

    spawn(accept)
    return accepted


# -- getaddrinfo ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("127.0.0.1", 80),
        ("::1", "443", socket.AF_INET6),
        (None, 0, 0, STREAM, 0, socket.AI_PASSIVE),
        ("127.0.0.1", None, socket.AF_INET, socket.SOCK_DGRAM),
    ],
)
def test_numeric_hosts_are_answered_without_the_pool(
    hub: Any, monkeypatch: pytest.MonkeyPatch, args: tuple[Any, ...]
) -> None:
    def no_pool(*a: Any, **kw: Any) -> Any:
        raise AssertionError("a numeric address went to the thread pool")

    monkeypatch.setattr(net, "to_thread", no_pool)
    assert net.getaddrinfo(*args) == REAL_GETADDRINFO(*args)


def test_names_resolve_in_a_worker_thread_like_the_stdlib(hub: Any) -> None:
    # localhost comes from /etc/hosts: the real resolver, with no network.
    assert net.getaddrinfo("localhost", 80, type=STREAM) == REAL_GETADDRINFO("localhost", 80, type=STREAM)
    assert net.getaddrinfo("localhost", "80") == REAL_GETADDRINFO("localhost", "80")


def test_a_slow_resolver_does_not_stop_other_greenthreads(hub: Any, resolver: Any) -> None:
    fake = resolver({"slow.test": [info(socket.AF_INET, ("127.0.0.1", 80))]}, delay=0.3)
    ticks: list[float] = []

    def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            sleep(0.01)

    t = spawn(ticker)
    sleep(0)
    start = time.monotonic()
    try:
        result = net.getaddrinfo("slow.test", 80)
    finally:
        t.kill()
    assert result == [info(socket.AF_INET, ("127.0.0.1", 80))]
    assert fake.threads and fake.threads[0] != threading.get_ident()
    during = [tick for tick in ticks if tick > start]
    assert len(during) >= 5  # the hub ran the ticker all the while (0.3 s / 0.01 s)


def test_resolver_errors_propagate(hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(net, "_blocking_getaddrinfo", fail)
    with pytest.raises(socket.gaierror) as e:
        net.getaddrinfo("nowhere.test", 80)
    assert e.value.errno == socket.EAI_NONAME
    with pytest.raises(socket.gaierror):
        net.connect(("nowhere.test", 80))


def test_resolving_with_a_timeout_abandons_the_wait(hub: Any, resolver: Any) -> None:
    resolver({"slow.test": [info(socket.AF_INET, ("127.0.0.1", 80))]}, delay=0.5)
    start = time.monotonic()
    with pytest.raises(Timeout):
        with Timeout(0.05):
            net.getaddrinfo("slow.test", 80)
    assert time.monotonic() - start < 0.4


# -- net.connect ---------------------------------------------------------------------


def test_connect_to_a_name_with_only_an_ipv6_address(hub: Any, resolver: Any, listener_v6: GreenSocket) -> None:
    port = listener_v6.getsockname()[1]
    resolver({"v6only.test": [info(socket.AF_INET6, ("::1", port, 0, 0))]})
    accepted = accept_in_background(listener_v6)
    with Timeout(SLOW):
        with net.connect(("v6only.test", port)) as sock:
            assert sock.family == socket.AF_INET6
            assert sock.getpeername()[:2] == ("::1", port)
            sleep(0.01)
    assert accepted


def test_connect_to_numeric_ipv6_without_guessing_the_family(hub: Any, listener_v6: GreenSocket) -> None:
    port = listener_v6.getsockname()[1]
    accept_in_background(listener_v6)
    with Timeout(SLOW):
        with net.connect(("::1", port, 0, 0)) as sock:
            assert sock.family == socket.AF_INET6


def test_first_address_refused_the_next_is_tried(
    hub: Any, resolver: Any, refused_address: tuple[str, int], listener_v6: GreenSocket
) -> None:
    port = listener_v6.getsockname()[1]
    resolver(
        {
            "two.test": [
                info(socket.AF_INET, refused_address),
                info(socket.AF_INET6, ("::1", port, 0, 0)),
            ]
        }
    )
    accept_in_background(listener_v6)
    with Timeout(SLOW):
        with net.connect(("two.test", port), timeout=SLOW) as sock:
            assert sock.getpeername()[:2] == ("::1", port)
            assert sock.gettimeout() is None


def test_an_address_of_a_family_without_sockets_here_is_passed_over(
    hub: Any, resolver: Any, listener_v6: GreenSocket
) -> None:
    with pytest.raises(OSError) as e:  # the premise: this kernel has no IPX sockets (Linux dropped IPX)
        socket.socket(socket.AF_IPX, socket.SOCK_STREAM)
    assert e.value.errno == errno.EAFNOSUPPORT
    port = listener_v6.getsockname()[1]
    resolver({"odd.test": [info(socket.AF_IPX, ("ipx-node", 1)), info(socket.AF_INET6, ("::1", port, 0, 0))]})
    accept_in_background(listener_v6)
    with Timeout(SLOW):
        with net.connect(("odd.test", port)) as sock:
            assert sock.family == socket.AF_INET6


def test_every_address_refused_raises_the_first_error(hub: Any, resolver: Any, refused_address: tuple[str, int]) -> None:
    other = socket.socket(socket.AF_INET6)
    other.bind(("::1", 0))
    try:
        resolver(
            {
                "none.test": [
                    info(socket.AF_INET, refused_address),
                    info(socket.AF_INET6, other.getsockname()),
                ]
            }
        )
        with Timeout(SLOW):
            with pytest.raises(ConnectionRefusedError):
                net.connect(("none.test", 80))
    finally:
        other.close()


def test_connect_timeout_covers_resolving_and_connecting(
    hub: Any, resolver: Any, unanswered_address: tuple[str, int], listener_v6: GreenSocket
) -> None:
    port = listener_v6.getsockname()[1]
    resolver(
        {
            "slow.test": [
                info(socket.AF_INET, unanswered_address),
                info(socket.AF_INET6, ("::1", port, 0, 0)),
            ]
        },
        delay=1.0,
    )
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        net.connect(("slow.test", port), timeout=1.2)
    elapsed = time.monotonic() - start
    # 1.0 s resolving, then the 0.2 s left on the first address: not 1.2 s
    # more for it (nor any for the next address).
    assert 1.1 < elapsed < 2.0


def test_connect_timeout_while_resolving(hub: Any, resolver: Any) -> None:
    resolver({"slow.test": [info(socket.AF_INET, ("127.0.0.1", 80))]}, delay=1.0)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        net.connect(("slow.test", 80), timeout=0.1)
    assert time.monotonic() - start < 0.8


def test_connect_bad_input(hub: Any) -> None:
    with pytest.raises(TypeError, match=r"\(host, port\) tuple"):
        net.connect("127.0.0.1:80")
    with pytest.raises(TypeError, match=r"\(host, port\) tuple"):
        net.connect(("127.0.0.1",))


# -- GreenSocket.connect -----------------------------------------------------------------


def test_socket_connect_resolves_off_the_hub(hub: Any, resolver: Any, listener_v6: GreenSocket) -> None:
    port = listener_v6.getsockname()[1]
    fake = resolver({"v6only.test": [info(socket.AF_INET6, ("::1", port, 0, 0))]}, delay=0.1)
    accept_in_background(listener_v6)
    ticks: list[int] = []

    def tick() -> None:
        for i in range(5):
            ticks.append(i)
            sleep(0.01)

    ticker = spawn(tick)
    with GreenSocket(socket.AF_INET6) as sock:
        with Timeout(SLOW):
            sock.connect(("v6only.test", port))
        assert ticks == [0, 1, 2, 3, 4]  # all while resolving (0.1 s): the hub ran meanwhile
        assert sock.getpeername()[:2] == ("::1", port)
    ticker.wait()
    assert fake.threads


def test_socket_connect_uses_the_first_address_of_its_family(
    hub: Any, resolver: Any, refused_address: tuple[str, int], listener_v6: GreenSocket
) -> None:
    port = listener_v6.getsockname()[1]
    resolver({"two.test": [info(socket.AF_INET6, ("::1", port, 0, 0)), info(socket.AF_INET, refused_address)]})
    with GreenSocket(socket.AF_INET) as sock:  # the IPv4 address: refused
        with Timeout(SLOW):
            assert sock.connect_ex(("two.test", port)) == errno.ECONNREFUSED


def test_socket_timeout_covers_resolving(hub: Any, resolver: Any) -> None:
    resolver({"slow.test": [info(socket.AF_INET, ("127.0.0.1", 80))]}, delay=1.0)
    with GreenSocket() as sock:
        sock.settimeout(0.1)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            sock.connect(("slow.test", 80))
        assert sock.connect_ex(("slow.test", 80)) == errno.ETIMEDOUT
        assert time.monotonic() - start < 1.5
        assert sock.gettimeout() == 0.1  # as it was


def test_nonblocking_socket_resolves_then_connects_without_waiting(
    hub: Any, resolver: Any, listener_v6: GreenSocket
) -> None:
    port = listener_v6.getsockname()[1]
    resolver({"v6only.test": [info(socket.AF_INET6, ("::1", port, 0, 0))]}, delay=0.05)
    with GreenSocket(socket.AF_INET6) as sock:
        sock.setblocking(False)
        assert sock.connect_ex(("v6only.test", port)) in (0, errno.EINPROGRESS)
