"""Types of eventhub/hubs/_epolls.pyx: the compiled epoll backend."""

from collections.abc import Callable

from typing_extensions import disjoint_base

from eventhub.hubs._core import BaseHub

@disjoint_base
class Hub(BaseHub):
    """The epolls hub, compiled: level-triggered epoll."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None: ...
