"""Types of eventhub/hubs/_pyevent.pyx: the compiled pyevent backend (libevent 2.1)."""

from collections.abc import Callable

from typing_extensions import disjoint_base

from eventhub.hubs._core import BaseHub

#: The libevent version the module runs on, e.g. "2.1.12-stable".
LIBEVENT_VERSION: str

@disjoint_base
class Hub(BaseHub):
    """The pyevent hub: persistent, level-triggered libevent events."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None: ...
    @property
    def method(self) -> str | None:
        """The kernel interface libevent chose, e.g. ``"epoll"``."""
