"""Every hub offers the contract typed in ``eventhub.hubs.protocol``.

Statically, mypy checks that each pure hub class is a ``HubAPI`` (the
assignments below fail ``tox -e mypy`` otherwise), and every caller of
``get_hub()`` in the package against it.  At run time, each hub of each
variant (the compiled ones are opaque to mypy) has every member the
protocol names, as a callable where it names a method.
"""

from __future__ import annotations

import inspect
import socket
from typing import Any

from eventhub.hubs import asyncio as asyncio_hub
from eventhub.hubs import epolls, poll, selects
from eventhub.hubs.protocol import HubAPI, ListenerAPI, TimerAPI


def _members(protocol: type) -> tuple[set[str], set[str]]:
    """(methods, attributes) a protocol declares, without typing's own."""
    methods, attributes = set(), set(protocol.__annotations__)
    for name, value in vars(protocol).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            attributes.add(name)
        elif inspect.isfunction(value):
            methods.add(name)
    return methods, attributes


def test_pure_hubs_are_hub_api() -> None:
    # The assignments are the check (mypy); the run proves the classes build.
    checked: list[HubAPI] = [epolls.PureHub(), poll.PureHub(), selects.PureHub(), asyncio_hub.PureHub()]
    for hub in checked:
        hub.destroy()
    assert len(checked) == 4


def test_protocol_declares_the_contract() -> None:
    methods, attributes = _members(HubAPI)
    assert {"add", "remove", "schedule_call_global", "switch", "abort", "call_threadsafe"} <= methods
    assert {"READ", "WRITE", "greenlet", "running", "SYSTEM_EXCEPTIONS"} <= attributes


def test_hub_has_every_member(hub: Any) -> None:
    methods, attributes = _members(HubAPI)
    missing = sorted(name for name in methods | attributes if not hasattr(hub, name))
    assert not missing, f"{type(hub).__name__} lacks {missing}"
    not_callable = sorted(name for name in methods if not callable(getattr(hub, name)))
    assert not not_callable, f"{type(hub).__name__}: not methods: {not_callable}"
    assert (hub.READ, hub.WRITE) == ("read", "write")


def test_timer_and_listener_have_every_member(hub: Any) -> None:
    timer = hub.schedule_call_global(60, lambda: None)
    try:
        methods, attributes = _members(TimerAPI)
        assert all(hasattr(timer, name) for name in methods | attributes)
        assert timer.pending and not timer.called
    finally:
        timer.cancel()
    assert not timer.pending
    a, b = socket.socketpair()
    try:
        listener = hub.add(hub.READ, a.fileno(), lambda fd: None, lambda exc: None, None)
        methods, attributes = _members(ListenerAPI)
        assert all(hasattr(listener, name) for name in methods | attributes)
        assert (listener.evtype, listener.fileno) == ("read", a.fileno())
        hub.remove(listener)
    finally:
        a.close()
        b.close()
