"""The poll hub: POSIX ``poll()``.

``Hub`` is the compiled variant when built, else ``PureHub``.
"""

from __future__ import annotations

import errno
import fcntl
import math
import select
import sys
from typing import Callable

from eventhub.hubs._variant import choose_hub
from eventhub.hubs.hub import READ, WRITE, BaseHub

_POLL = getattr(select, "poll", None)
READ_MASK = getattr(select, "POLLIN", 1) | getattr(select, "POLLPRI", 2)
WRITE_MASK = getattr(select, "POLLOUT", 4)
ERROR_MASK = getattr(select, "POLLERR", 8) | getattr(select, "POLLHUP", 16)
INVALID_MASK = getattr(select, "POLLNVAL", 32)


def is_available() -> bool:
    """True where ``poll()`` exists (every POSIX system but old macOS builds)."""
    return _POLL is not None


def _why_unavailable() -> str:
    return f"poll() is not offered by Python's select module on {sys.platform}"


def check_open(fileno: int) -> None:
    """Raise ``OSError(EBADF)`` unless ``fileno`` is an open descriptor.

    poll() and select() accept closed fds silently (POLLNVAL / EBADF later),
    so these hubs check at ``add()`` time instead.
    """
    fcntl.fcntl(fileno, fcntl.F_GETFD)


def poll_timeout_ms(seconds: float) -> int:
    """poll()'s timeout: milliseconds rounded up, so the loop never spins early."""
    return math.ceil(seconds * 1000.0) if seconds > 0 else 0


class PureHub(BaseHub):
    """poll through Python's ``select.poll``: the reference implementation."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        if _POLL is None:
            raise OSError(errno.ENOSYS, _why_unavailable())
        self.poll = _POLL()
        self._registered: dict[int, int] = {}

    def _update_interest(self, fileno: int) -> None:
        mask = self._interest_mask(fileno, READ_MASK, WRITE_MASK)
        old = self._registered.pop(fileno, 0)
        if mask == old:
            if mask:
                self._registered[fileno] = mask
            return
        if not mask:
            try:
                self.poll.unregister(fileno)
            except KeyError:
                pass
            return
        if not old:
            check_open(fileno)
        self.poll.register(fileno, mask)  # also modifies an existing entry
        self._registered[fileno] = mask

    def wait(self, seconds: float) -> None:
        events = self.poll.poll(poll_timeout_ms(seconds))
        if not events:
            return
        if self.debug_blocking:
            self.block_detect_pre()
        readers = self.listeners[READ]
        writers = self.listeners[WRITE]
        fire = self._fire
        for fileno, event in events:
            if event & INVALID_MASK:
                self.remove_descriptor(fileno)
                continue
            if event & (READ_MASK | ERROR_MASK):
                fire(readers.get(fileno), fileno)
            if event & (WRITE_MASK | ERROR_MASK):
                fire(writers.get(fileno), fileno)
        if self.debug_blocking:
            self.block_detect_post()

    def destroy(self) -> None:
        """Forget every registration (poll holds no kernel resource)."""
        super().destroy()
        self._registered.clear()


#: The compiled twin's hub (None when unbuilt or disabled), the hub this
#: backend offers (it, else ``PureHub``), and which variant that is:
#: "compiled", "pure" or "unavailable".
CompiledHub, Hub, VARIANT = choose_hub("_poll", PureHub)
