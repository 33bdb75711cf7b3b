"""Types of eventhub/hubs/_poll.pyx: the compiled poll backend."""

from collections.abc import Callable

from typing_extensions import disjoint_base

from eventhub.hubs._core import BaseHub

@disjoint_base
class Hub(BaseHub):
    """The poll hub, compiled."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None: ...
