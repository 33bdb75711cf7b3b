"""FdListener: one greenthread waiting for one direction of readiness on one fd.

The pure twin of the compiled core's ``_core_listener.pxi``.  The hub
(``eventhub.hubs.hub.BaseHub``) keeps these in its listener table and
fires, defangs or promotes them; this module only owns what one is.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

import greenlet


def closed_callback(fileno: int) -> None:
    """The callback of a defanged listener: its fd is gone, nothing to wake."""


class FdListener:
    """One greenthread waiting for one direction of readiness on one fd."""

    __slots__ = ("evtype", "fileno", "cb", "tb", "mark_as_closed", "spent", "greenlet")

    def __init__(
        self,
        evtype: str,
        fileno: int,
        cb: Callable[[int], Any],
        tb: Callable[[BaseException], Any],
        mark_as_closed: Callable[[], Any] | None,
    ) -> None:
        self.evtype = evtype
        self.fileno = fileno
        self.cb = cb
        self.tb = tb
        self.mark_as_closed = mark_as_closed
        self.spent = False
        self.greenlet = greenlet.getcurrent()

    def defang(self) -> None:
        """Disarm the callback because the fd was closed or reused."""
        self.cb = closed_callback
        if self.mark_as_closed is not None:
            self.mark_as_closed()
        self.spent = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.evtype!r}, {self.fileno!r}, {self.cb!r}, {self.tb!r})"


class DebugListener(FdListener):
    """A listener that remembers where it was added (``set_debug_listeners``)."""

    __slots__ = ("where_called",)

    def __init__(self, *args: Any) -> None:
        self.where_called = traceback.format_stack()
        super().__init__(*args)

    def __repr__(self) -> str:
        return super().__repr__() + "\n" + "".join(self.where_called)
