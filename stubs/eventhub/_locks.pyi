"""Types of eventhub/_locks.pyx: the compiled twins of ``eventhub.locks``'s
``Semaphore``, ``BoundedSemaphore`` and ``Lock``."""

from types import TracebackType

from typing_extensions import disjoint_base

@disjoint_base
class _Waitable:
    """The mutex every compiled primitive has."""

@disjoint_base
class _Permits(_Waitable):
    """A count of permits and the greenthreads waiting for one, in order."""

    @property
    def _value(self) -> int: ...
    def _adjust(self, delta: int) -> None: ...
    def locked(self) -> bool: ...

class Semaphore(_Permits):
    """``value`` permits; ``acquire()`` takes one, waiting while there is none; ``release()`` returns one."""

    def __init__(self, value: int = 1) -> None: ...
    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool: ...
    def release(self, n: int = 1) -> None: ...
    def __enter__(self) -> bool: ...
    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None: ...

@disjoint_base
class BoundedSemaphore(Semaphore):
    """A ``Semaphore`` that refuses to hold more than ``value`` permits."""

@disjoint_base
class Lock(_Permits):
    """A mutual-exclusion lock owned by the greenthread that acquired it."""

    def __init__(self) -> None: ...
    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool: ...
    def release(self) -> None: ...
    def _is_owned(self) -> bool: ...
    def __enter__(self) -> bool: ...
    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None: ...
