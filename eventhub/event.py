"""Event: one value (or exception) handed from one greenthread to many."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from greenlet import getcurrent

from eventhub.hubs import get_hub

if TYPE_CHECKING:
    # A default (PEP 696) lets `ev = Event()` type-check without an
    # annotation; typing.TypeVar takes one only from 3.13 on.
    from typing_extensions import TypeVar as TypeVarWithDefault

    T = TypeVarWithDefault("T", default=Any)
else:
    T = TypeVar("T")
_NOT_SENT: Any = object()


class Event(Generic[T]):
    """Greenthreads ``wait()`` until another one calls ``send()`` with a value.

    An event is sent once; ``reset()`` makes it usable again.
    """

    def __init__(self) -> None:
        self._result: Any = _NOT_SENT
        self._exc: BaseException | None = None
        self._parked: set[Any] = set()  # greenlets inside wait() right now

    def ready(self) -> bool:
        """True once ``send()`` or ``send_exception()`` was called."""
        return self._result is not _NOT_SENT

    def reset(self) -> None:
        """Make a sent event unsent again, so it can be waited on anew."""
        if not self.ready():
            raise RuntimeError("reset() on an event that was not sent")
        self._result = _NOT_SENT
        self._exc = None

    def send(self, result: T | None = None, exc: BaseException | None = None) -> None:
        """Wake every waiter: ``wait()`` returns ``result`` (or raises ``exc``)."""
        if self.ready():
            raise RuntimeError("this event was already sent")
        self._result = result
        self._exc = exc
        if self._parked:
            hub = get_hub()
            for waiter in list(self._parked):
                hub.schedule_call_global(0, self._wake, waiter)

    def send_exception(self, exc: BaseException) -> None:
        """Wake every waiter, making ``wait()`` raise ``exc``."""
        self.send(None, exc)

    def _wake(self, waiter: Any) -> None:
        # A waiter may have left wait() meanwhile (a Timeout, a kill):
        # switching into it then would resume it somewhere else entirely.
        if waiter in self._parked:
            waiter.switch()

    def wait(self, timeout: float | None = None) -> T | None:
        """Return the sent value (or raise the sent exception).

        With ``timeout`` (seconds), return None if nothing was sent in time.
        """
        if not self.ready():
            hub = get_hub()
            current = getcurrent()
            timer = None
            if timeout is not None:
                timer = hub.schedule_call_global(timeout, self._wake, current)
            self._parked.add(current)
            try:
                hub.switch()
            finally:
                self._parked.discard(current)
                if timer is not None:
                    timer.cancel()
            if not self.ready():
                return None
        if self._exc is not None:
            raise self._exc
        result: T = self._result
        return result
