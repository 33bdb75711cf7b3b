"""The epolls hub: Linux ``epoll``, level-triggered.

``Hub`` is the compiled variant when built, else ``PureHub``.  Both keep an
fd registered after its last listener goes (no syscall); the next wait on
it re-validates the registration, and one that fires with nobody waiting
is dropped then.  ``notify_close`` drops it at once.
"""

from __future__ import annotations

import errno
import select
import sys
from typing import Any, Callable

from eventhub.hubs._variant import choose_hub
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
        self._idle: set[int] = set()  # registered fds whose listeners are gone
        self._unwanted: set[int] = set()  # fds reported with no listener last poll

    def _update_interest(self, fileno: int) -> None:
        # As the compiled hub: an fd's registration outlives its last
        # listener (no syscall), and a wait on it again re-validates it with
        # one modify (which finds out if the fd was closed and reused
        # meanwhile), instead of an unregister and a register per wait.
        mask = self._interest_mask(fileno, READ_MASK, WRITE_MASK)
        if not mask:
            if fileno in self._registered:
                self._idle.add(fileno)
            return
        # Popped first: if a syscall below fails, the record says "not
        # registered" and the next change registers afresh.
        old = self._registered.pop(fileno, 0)
        if mask == old and fileno not in self._idle:
            self._registered[fileno] = mask
            return
        self._idle.discard(fileno)
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

    def _forget(self, fileno: int) -> None:
        self._drop_registration(fileno)  # a failure: closed already, the kernel dropped it itself

    def _drop_registration(self, fileno: int) -> bool:
        """Unregister ``fileno``; False if the kernel refused."""
        self._idle.discard(fileno)
        if self._registered.pop(fileno, 0):
            try:
                self.poll.unregister(fileno)
            except OSError:
                return False
        return True

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
        stale = False
        for fileno, event in events:
            reader = readers.get(fileno)
            writer = writers.get(fileno)
            if reader is None and writer is None:
                if fileno not in self._idle:
                    unwanted.add(fileno)
                elif not self._drop_registration(fileno):
                    # An idle registration fired and the kernel will not drop
                    # it by number: its fd was closed while a dup keeps the
                    # file open.
                    stale = True
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
        if stale or unwanted & self._unwanted:
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
        self._idle.clear()
        for fileno in set(self.listeners[READ]) | set(self.listeners[WRITE]):
            try:
                self._update_interest(fileno)
            except OSError:
                self.remove_descriptor(fileno)  # wakes its waiters to see the error

    def destroy(self) -> None:
        """Release the epoll descriptor; the hub is unusable afterwards."""
        super().destroy()
        self.poll.close()


#: The compiled twin's hub (None when unbuilt or disabled), the hub this
#: backend offers (it, else ``PureHub``), and which variant that is:
#: "compiled", "pure" or "unavailable".
CompiledHub, Hub, VARIANT = choose_hub("_epolls", PureHub)
