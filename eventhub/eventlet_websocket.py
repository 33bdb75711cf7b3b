"""eventlet's websocket unmasking, a frame at a time instead of a byte at a time.

A websocket client masks every frame it sends (RFC 6455, 5.3): the server
XORs the payload with a 4-byte key.  ``eventlet.websocket`` does it in
``RFC6455WebSocket._apply_mask`` with a Python generator that builds one
1-byte ``bytes`` per payload byte: about a quarter of a microsecond per
byte, which in a Socket.IO server on eventhub's hub was a tenth of its
time.  ``apply_mask`` gives the same bytes with one big-integer XOR over
the whole payload.

``install()`` puts it in place of eventlet's (a ``staticmethod``, as
eventlet's is), for every websocket eventlet serves or opens;
``uninstall()`` puts eventlet's back.  ``eventhub-run`` installs it as soon
as the program imports ``eventlet.websocket``, unless told not to
(``--no-fast-io``, ``EVENTHUB_RUN_FAST_IO=0``).  It is pure Python, the
same in both of eventhub's variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# (from-import: under eventhub-run this module loads while eventlet.websocket's
# import ends, before eventlet's package has it as an attribute.)
from eventlet.websocket import RFC6455WebSocket

__all__ = ["apply_mask", "install", "installed", "uninstall"]

_RFC6455WebSocket: Any = RFC6455WebSocket
_eventlets_apply_mask: Any = vars(_RFC6455WebSocket)["_apply_mask"]


def apply_mask(data: Any, mask: Sequence[int], length: int | None = None, offset: int = 0) -> bytes:
    """``data``'s first ``length`` bytes (all by default), each XORed with ``mask[(offset + i) % 4]``.

    What eventlet's ``_apply_mask`` returns for the same arguments, errors
    included: ``IndexError`` when ``data`` is shorter than ``length``,
    ``ValueError`` for a mask value outside 0-255, ``TypeError`` for data
    that is not bytes-like.
    """
    if length is None:
        length = len(data)
    if length <= 0:
        return b""
    if len(data) < length:
        raise IndexError("index out of range")
    # The key bytes in the order they meet the data; only those the data reaches.
    key = bytes([mask[(offset + i) % 4] for i in range(min(length, 4))])
    payload = bytes(data[:length])  # a bytes-like object's bytes, as eventlet indexes them
    keystream = key * (length // len(key) + 1)
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(keystream[:length], "little")
    return masked.to_bytes(length, "little")


def install() -> None:
    """Unmask (and mask) eventlet's websocket frames with ``apply_mask``."""
    _RFC6455WebSocket._apply_mask = staticmethod(apply_mask)


def uninstall() -> None:
    """eventlet's own ``_apply_mask`` again."""
    _RFC6455WebSocket._apply_mask = _eventlets_apply_mask


def installed() -> bool:
    """Whether ``install()`` is in effect."""
    return _RFC6455WebSocket._apply_mask is apply_mask
