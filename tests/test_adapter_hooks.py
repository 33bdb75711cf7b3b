"""The hooks an adapter (``eventhub.eventlet``) overrides, on every hub variant.

Both must work on compiled hubs too: a Python subclass of the hub class
overrides them and the core must honour the override.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest

import eventhub
from eventhub import hubs


class ForeignIOClosed(OSError):
    """Stands in for another framework's IOClosed class."""


def subclass(hub_class: Any, **attrs: Any) -> Any:
    return type(f"Adapted{hub_class.__name__}", (hub_class,), attrs)


def test_io_closed_class_is_overridable(hub_class: Any) -> None:
    hubs.use_hub(subclass(hub_class, IOClosed=ForeignIOClosed))
    try:
        hub = hubs.get_hub()
        a, b = socket.socketpair()
        caught: list[BaseException] = []

        def reader() -> None:
            try:
                hubs.trampoline(a, read=True)
            except BaseException as e:
                caught.append(e)

        eventhub.spawn(reader)
        eventhub.sleep(0)  # the reader parks on the fd
        hub.mark_as_reopened(a.fileno())
        eventhub.sleep(0)  # the loop throws into it
        assert len(caught) == 1
        assert type(caught[0]) is ForeignIOClosed
        assert caught[0].args == (errno.ENOTCONN, "Operation on closed file")
        a.close()
        b.close()
    finally:
        hubs.use_hub(hub_class)


@pytest.mark.parametrize("prevented", [True, False])
def test_multiple_readers_decision_is_overridable(hub_class: Any, prevented: bool) -> None:
    hubs.use_hub(subclass(hub_class, multiple_readers_prevented=lambda self: prevented))
    try:
        hub = hubs.get_hub()
        a, b = socket.socketpair()
        assert hub.prevent_multiple_readers  # the attribute says prevent; the hook decides
        first = hub.add(hub.READ, a.fileno(), lambda fd: None, lambda exc: None, None)
        if prevented:
            with pytest.raises(RuntimeError, match="Second simultaneous read"):
                hub.add(hub.READ, a.fileno(), lambda fd: None, lambda exc: None, None)
        else:
            second = hub.add(hub.READ, a.fileno(), lambda fd: None, lambda exc: None, None)
            hub.remove(first)
            assert hub.get_readers() == [second]
            hub.remove(second)
        hub.remove(first)
        a.close()
        b.close()
    finally:
        hubs.use_hub(hub_class)


def test_default_decision_follows_the_attribute(hub: Any) -> None:
    assert hub.multiple_readers_prevented() is True
    hub.prevent_multiple_readers = False
    assert hub.multiple_readers_prevented() is False
