"""Types of eventhub/_timeout.pyx: the compiled twin of ``timeout.Timeout``."""

from types import TracebackType
from typing import Any

from typing_extensions import Self, disjoint_base

@disjoint_base
class Timeout(BaseException):
    """Raise in the current greenthread after ``seconds`` unless cancelled first."""

    seconds: float | None
    # None raises the Timeout itself, a class or instance raises that, False ends a with block silently.
    exception: Any
    timer: Any
    def __init__(self, seconds: float | None = None, exception: Any = None) -> None: ...
    def start(self) -> Self: ...
    @property
    def pending(self) -> bool: ...
    def cancel(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> bool: ...
