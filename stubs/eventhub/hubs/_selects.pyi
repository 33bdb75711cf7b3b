"""Types of eventhub/hubs/_selects.pyx: the compiled select backend."""

from collections.abc import Callable

from typing_extensions import disjoint_base

from eventhub.hubs._core import BaseHub

@disjoint_base
class Hub(BaseHub):
    """The selects hub, compiled."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None: ...
