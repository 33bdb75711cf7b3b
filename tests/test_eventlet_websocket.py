"""eventhub.eventlet_websocket: eventlet's websocket masking a frame at once, with eventlet's results."""

from __future__ import annotations

import os
import struct
from typing import Any

import eventlet
import eventlet.green.socket
import eventlet.websocket
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventhub import eventlet_websocket
from eventhub.eventlet_websocket import apply_mask

EVENTLETS = vars(eventlet.websocket.RFC6455WebSocket)["_apply_mask"].__func__


def outcome(call: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("returned", call(*args))
    except Exception as e:
        return ("raised", type(e))


@given(
    data=st.binary(max_size=300),
    mask=st.lists(st.integers(0, 255), min_size=4, max_size=4),
    length=st.none() | st.integers(-2, 310),
    offset=st.integers(0, 10),
)
def test_apply_mask_gives_eventlets_bytes(data: bytes, mask: list[int], length: int | None, offset: int) -> None:
    assert outcome(apply_mask, data, mask, length, offset) == outcome(EVENTLETS, data, mask, length, offset)


@pytest.mark.parametrize("args", [
    ("text", (1, 2, 3, 4)),  # not bytes
    (b"abc", (1, 2, 300, 4)),  # a mask value that is not a byte
    (b"abc", (1, 2)),  # a mask too short for the data
    (b"ab", (1, 2)),  # ... long enough for this data
    (bytearray(b"abcdef"), (1, 2, 3, 4)),
    (memoryview(b"abcdef"), struct.unpack("!BBBB", b"\x01\x02\x03\x04")),
])
def test_apply_mask_fails_and_succeeds_where_eventlets_does(args: tuple[Any, Any]) -> None:
    assert outcome(apply_mask, *args) == outcome(EVENTLETS, *args)


def test_a_large_frame_unmasks_and_round_trips() -> None:
    data = os.urandom(1 << 20)
    masked = apply_mask(data, (7, 77, 177, 255))
    assert masked == EVENTLETS(data, (7, 77, 177, 255)) and masked != data
    assert apply_mask(masked, (7, 77, 177, 255)) == data


def test_install_and_uninstall() -> None:
    cls = eventlet.websocket.RFC6455WebSocket
    eventlet_websocket.install()
    try:
        assert eventlet_websocket.installed() and cls._apply_mask is apply_mask
    finally:
        eventlet_websocket.uninstall()
    assert not eventlet_websocket.installed() and cls._apply_mask is EVENTLETS


def test_a_masked_client_frame_reaches_eventlets_websocket_server() -> None:
    """A client's masked frames, read by eventlet's RFC 6455 server-side websocket, with the fast masking."""
    a, b = eventlet.green.socket.socketpair()
    eventlet_websocket.install()
    try:
        server = eventlet.websocket.RFC6455WebSocket(a, {}, client=False)
        client = eventlet.websocket.RFC6455WebSocket(b, {}, client=True)
        message = "ü-" * 5000
        client.send(message)  # masked by the client side
        client.send(b"\x00\x01binary")
        assert server.wait() == message
        assert server.wait() == b"\x00\x01binary"
        server.send("back")  # servers do not mask
        assert client.wait() == "back"
    finally:
        eventlet_websocket.uninstall()
        a.close()
        b.close()
