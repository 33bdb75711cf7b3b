"""Cross-thread wake-ups: what ``hub.call_threadsafe()`` is built on.

A ``Waker`` is one readable descriptor (an eventfd where the OS has one,
else the read end of a non-blocking self-pipe) that any thread can make
readable with ``wake()``; the hub watches it like any fd, so a ``wait()``
blocked in the kernel returns at once.  ``run_calls`` runs, on the hub's own
thread, the functions other threads queued.

Both variants of every hub use this module.  Its cost to a loop that gets
no cross-thread calls is one emptiness test of the call queue per pass.
"""

from __future__ import annotations

import collections
import os
import sys
from typing import Any, Callable


class Waker:
    """A descriptor any thread can make readable; ``drain()`` resets it."""

    __slots__ = ("_rfd", "_wfd", "_eventfd")

    _rfd: int
    _wfd: int
    _eventfd: bool

    @staticmethod
    def _close_fd(fd: int, _close: Callable[[int], None] = os.close) -> None:
        """``os.close``, bound at import: close() may run from __del__ at
        interpreter exit, when this module's globals (``os`` among them)
        are already None."""
        _close(fd)

    def __init__(self) -> None:
        eventfd = getattr(os, "eventfd", None)
        if eventfd is not None:
            fd: int = eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            self._rfd = self._wfd = fd
            self._eventfd = True
        else:
            self._rfd, self._wfd = os.pipe()
            for fd in (self._rfd, self._wfd):
                os.set_blocking(fd, False)
                os.set_inheritable(fd, False)
            self._eventfd = False

    def fileno(self) -> int:
        """The descriptor to watch for readability (-1 once closed)."""
        return self._rfd

    def wake(self) -> None:
        """Make the descriptor readable; safe from any thread, never blocks."""
        wfd = self._wfd
        if wfd < 0:
            return
        try:
            if self._eventfd:
                os.eventfd_write(wfd, 1)
            else:
                os.write(wfd, b"\0")
        except (BlockingIOError, OSError):
            pass  # already readable (pipe full / counter saturated) or closed meanwhile

    def drain(self) -> None:
        """Consume every pending wake-up so the descriptor stops being readable."""
        rfd = self._rfd
        if rfd < 0:
            return
        try:
            if self._eventfd:
                os.eventfd_read(rfd)
            else:
                while os.read(rfd, 4096):
                    pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        """Release the descriptor(s); idempotent."""
        rfd, wfd = self._rfd, self._wfd
        self._rfd = self._wfd = -1
        if rfd >= 0:
            self._close_fd(rfd)
        if wfd >= 0 and wfd != rfd:
            self._close_fd(wfd)

    def __del__(self) -> None:
        # A hub dropped without destroy() (collected with its greenlet cycle).
        self.close()

    def __repr__(self) -> str:
        kind = "eventfd" if self._eventfd else "pipe"
        return f"<Waker {kind} fd={self._rfd}>"


def run_calls(queue: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]], hub: Any) -> None:
    """Run the calls queued so far (not those they queue); errors are printed.

    ``deque.append``/``popleft`` are atomic, so other threads append without
    a lock while the hub's thread runs this.
    """
    for _ in range(len(queue)):
        fn, args = queue.popleft()
        try:
            fn(*args)
        except hub.SYSTEM_EXCEPTIONS:
            raise
        except BaseException:
            hub.squelch_generic_exception(sys.exc_info())


def ignore_throw(exc: BaseException) -> None:
    """The waker listener's ``tb``: nobody parks on the waker, nothing to throw into."""
