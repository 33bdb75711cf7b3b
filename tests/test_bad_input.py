"""Bad input leaves every hub consistent: the error comes at the call, and the
next valid add()/timer works (test_listeners/test_timers check the errors
themselves; this adds the cases they lack and the "hub still works" half)."""

from __future__ import annotations

import math
import os
import resource
import socket
import tempfile
from typing import Any, Callable

import pytest

import eventhub
from eventhub import hubs


def noop(*args: Any) -> None:
    pass


class NoFileno:
    pass


class BrokenFileno:
    def fileno(self) -> int:
        raise OSError("this object has no descriptor any more")


class StrFileno:
    def fileno(self) -> str:
        return "3"


def closed_fd() -> int:
    a, b = socket.socketpair()
    fd = a.fileno()
    a.close()
    b.close()
    return fd


BAD_FDS: dict[str, tuple[Callable[[], Any], type[BaseException]]] = {
    "negative": (lambda: -1, ValueError),
    "closed": (closed_fd, OSError),
    "no-fileno": (NoFileno, TypeError),
    "fileno-raises": (BrokenFileno, OSError),
    "fileno-not-int": (StrFileno, TypeError),
    "bool": (lambda: True, TypeError),
    "float": (lambda: 3.0, TypeError),
    "huge": (lambda: 2**40, (OverflowError, ValueError, OSError)),  # type: ignore[dict-item]
}


def assert_consistent(hub: Any) -> None:
    """No listener left behind, and a valid add() and timer still work."""
    assert hub.get_readers() == [] and hub.get_writers() == []
    a, b = socket.socketpair()
    try:
        b.send(b"ok")
        hubs.trampoline(a, read=True, timeout=5)
        assert a.recv(2) == b"ok"
        fired: list[int] = []
        hub.schedule_call_global(0, fired.append, 1)
        eventhub.sleep(0.001)
        assert fired == [1]
        assert hub.get_readers() == []
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("case", sorted(BAD_FDS))
def test_bad_fd_is_refused_at_add_and_hub_stays_consistent(hub: Any, case: str) -> None:
    make, error = BAD_FDS[case]
    for evtype in (hub.READ, hub.WRITE):
        with pytest.raises(error):
            hub.add(evtype, make(), noop, noop, None)
    assert_consistent(hub)


@pytest.mark.parametrize("bad", ["cb", "tb", "mark_as_closed"])
def test_non_callable_is_refused_and_hub_stays_consistent(hub: Any, bad: str) -> None:
    a, b = socket.socketpair()
    try:
        args: dict[str, Any] = {"cb": noop, "tb": noop, "mark_as_closed": None}
        args[bad] = 42
        with pytest.raises(TypeError):
            hub.add(hub.READ, a.fileno(), args["cb"], args["tb"], args["mark_as_closed"])
        # The refused fd itself is usable right away.
        listener = hub.add(hub.READ, a.fileno(), noop, noop, None)
        hub.remove(listener)
    finally:
        a.close()
        b.close()
    assert_consistent(hub)


def test_regular_file_on_epoll_is_refused_and_hub_stays_consistent(hub: Any, hub_spec: tuple[str, str, Any]) -> None:
    # pyevent runs on libevent's epoll backend on Linux: it refuses them too.
    if hub_spec[0] != "epolls" and getattr(hub, "method", None) != "epoll":
        pytest.skip("only epoll refuses regular files (poll/select call them always ready)")
    with tempfile.TemporaryFile() as f:
        for _ in range(3):  # refused every time, never half-registered
            with pytest.raises(OSError):
                hub.add(hub.READ, f, noop, noop, None)
    assert_consistent(hub)


def test_fd_beyond_fd_setsize_on_selects(hub: Any, hub_spec: tuple[str, str, Any]) -> None:
    if hub_spec[0] != "selects":
        pytest.skip("only select() is limited to FD_SETSIZE")
    from eventhub.hubs.selects import FD_SETSIZE

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= FD_SETSIZE + 10:
        pytest.skip("the fd limit does not allow an fd beyond FD_SETSIZE")
    if soft != resource.RLIM_INFINITY and soft <= FD_SETSIZE + 10:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FD_SETSIZE + 100, hard))
    a, b = socket.socketpair()
    big = os.dup2(a.fileno(), FD_SETSIZE + 5)
    try:
        with pytest.raises(ValueError, match="FD_SETSIZE"):
            hub.add(hub.READ, big, noop, noop, None)
        with pytest.raises(ValueError, match="FD_SETSIZE"):
            hubs.trampoline(big, read=True, timeout=1)
    finally:
        os.close(big)
        a.close()
        b.close()
        if soft != resource.RLIM_INFINITY and soft <= FD_SETSIZE + 10:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert_consistent(hub)


@pytest.mark.parametrize(
    ("delay", "error"),
    [
        (math.nan, ValueError),
        (math.inf, ValueError),
        (-math.inf, ValueError),
        (True, TypeError),
        (1j, TypeError),
        ("0", TypeError),
        (None, TypeError),
    ],
)
def test_bad_delay_is_refused_everywhere_and_hub_stays_consistent(hub: Any, delay: Any, error: type) -> None:
    with pytest.raises(error):
        hub.schedule_call_global(delay, noop)
    with pytest.raises(error):
        hub.schedule_call_local(delay, noop)
    with pytest.raises(error):
        eventhub.sleep(delay)
    assert hub.get_timers_count() == 0
    assert_consistent(hub)


def test_delay_rules(hub: Any) -> None:
    """Documented rules: any finite real number; negative means now."""
    import fractions

    fired: list[str] = []
    hub.schedule_call_global(fractions.Fraction(1, 20), fired.append, "fraction")
    hub.schedule_call_global(-1e300, fired.append, "very negative")
    hub.schedule_call_global(0, fired.append, "zero")
    eventhub.sleep(0.2)
    assert fired == ["very negative", "zero", "fraction"]
