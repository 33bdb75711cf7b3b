"""Types of eventhub/hubs/_asyncio.pyx: the compiled asyncio backend."""

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from typing_extensions import disjoint_base

from eventhub.hubs._core import BaseHub

@disjoint_base
class Hub(BaseHub):
    """The asyncio hub, compiled."""

    loop_factory: ClassVar[Callable[[], asyncio.AbstractEventLoop] | None]
    loop: asyncio.AbstractEventLoop
    owns_loop: bool
    #: True in a forked child whose hub gave up the parent's running loop (uvloop).
    forked_away: bool
    def __init__(self, clock: Callable[[], float] | None = None) -> None: ...
    @property
    def method(self) -> str: ...
    def run(self, *a: Any, **kw: Any) -> None: ...
    def abort(self, wait: bool = False) -> None: ...
    def call_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None: ...
    def destroy(self) -> None: ...
