"""The epolls hub: Linux ``epoll``, level-triggered.

``Hub`` is the compiled variant when built, else ``PureHub``.
"""

from __future__ import annotations

import errno
import select
import sys
from typing import Any, Callable

from eventhub.hubs._variant import load_compiled, variant_of
from eventhub.hubs.hub import READ, WRITE, BaseHub

_EPOLL: Any = getattr(select, "epoll", None)  # None off Linux
READ_MASK = getattr(select, "EPOLLIN", 1) | getattr(select, "EPOLLPRI", 2)
WRITE_MASK = getattr(select, "EPOLLOUT", 4)
ERROR_MASK = getattr(select, "EPOLLERR", 8) | getattr(select, "EPOLLHUP", 16)


def is_available() -> bool:
    """True where the kernel offers epoll (Linux)."""
    return _EPOLL is not None


def _why_unavailable() -> str:
    return f"epoll is Linux-only and this is {sys.platform}"


class PureHub(BaseHub):
    """epoll through Python's ``select.epoll``: the reference implementation."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        if _EPOLL is None:
            raise OSError(errno.ENOSYS, _why_unavailable())
        self.poll = _EPOLL()
        self._registered: dict[int, int] = {}  # fd -> mask the kernel has
        self._unwanted: set[int] = set()  # fds reported with no listener last poll

    def _update_interest(self, fileno: int) -> None:
        mask = self._interest_mask(fileno, READ_MASK, WRITE_MASK)
        # Popped first: if a syscall below fails, the record says "not
        # registered" and the next change registers afresh.
        old = self._registered.pop(fileno, 0)
        if mask == old:
            if mask:
                self._registered[fileno] = mask
            return
        if not mask:
            try:
                self.poll.unregister(fileno)
            except OSError:
                pass  # closed already: the kernel dropped it by itself
            return
        if old:
            try:
                self.poll.modify(fileno, mask)
            except FileNotFoundError:  # closed and reused behind our back
                self.poll.register(fileno, mask)
        else:
            try:
                self.poll.register(fileno, mask)
            except FileExistsError:  # a dup of a closed fd is still registered
                self.poll.modify(fileno, mask)
        self._registered[fileno] = mask

    def wait(self, seconds: float) -> None:
        events = self.poll.poll(seconds)
        if not events:
            return
        if self.debug_blocking:
            self.block_detect_pre()
        readers = self.listeners[READ]
        writers = self.listeners[WRITE]
        fire = self._fire
        unwanted: set[int] = set()
        for fileno, event in events:
            reader = readers.get(fileno)
            writer = writers.get(fileno)
            if reader is None and writer is None:
                unwanted.add(fileno)
                continue
            if event & (READ_MASK | ERROR_MASK):
                fire(reader, fileno)
            if event & (WRITE_MASK | ERROR_MASK):
                fire(writer, fileno)
        # An fd nobody waits for was unregistered already; one event for it
        # can be left over from the batch that unregistered it.  Reported
        # again, the kernel holds a registration we cannot drop by number
        # (the fd was closed while a dup keeps the file open): start a fresh
        # epoll set, or the loop would spin on it forever.
        if unwanted & self._unwanted:
            self._reinit_poller()
            unwanted.clear()
        self._unwanted = unwanted
        if self.debug_blocking:
            self.block_detect_post()

    def _reinit_poller(self) -> None:
        # A fresh epoll set with every live listener registered again.  After
        # a fork the inherited set is shared with the parent, and a stale
        # registration cannot be dropped: never touch the old set, only drop
        # this process's reference to it.
        old, self.poll = self.poll, _EPOLL()
        old.close()
        self._registered.clear()
        for fileno in set(self.listeners[READ]) | set(self.listeners[WRITE]):
            try:
                self._update_interest(fileno)
            except OSError:
                self.remove_descriptor(fileno)  # wakes its waiters to see the error

    def destroy(self) -> None:
        """Release the epoll descriptor; the hub is unusable afterwards."""
        super().destroy()
        self.poll.close()


_compiled: Any = load_compiled("_epoll")
CompiledHub: Any = _compiled.Hub if _compiled is not None else None
Hub: Any = CompiledHub if CompiledHub is not None else PureHub
#: Which variant ``Hub`` is: "compiled", "pure", or "unavailable".
VARIANT: str = variant_of(Hub)
