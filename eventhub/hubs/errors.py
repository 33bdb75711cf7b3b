"""Exceptions raised by the hub layer."""

from __future__ import annotations

import errno


class HubError(Exception):
    """A hub cannot be chosen: unknown name, import failure, or unavailable."""


class HubDestroyed(HubError, RuntimeError):
    """The hub was released by ``destroy()`` (or its thread ended) and cannot be used."""


class IOClosed(OSError):
    """The file descriptor a greenthread waited on was closed or reused.

    Thrown into the waiting greenthread on the hub's next loop pass after
    ``notify_close(fd)``/``notify_opened(fd)`` (``mark_as_reopened``).
    """

    def __init__(self, *args: object) -> None:
        if not args:
            args = (errno.ENOTCONN, "Operation on closed file")
        super().__init__(*args)
