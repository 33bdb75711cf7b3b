"""Event: one value (or exception) handed from one greenthread to many."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from eventhub.waiting import WaitingLine

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

    Threads: ``send()`` and ``send_exception()`` may be called from any OS
    thread; each waiting greenthread is woken on its own hub.  So may
    ``wait()``: from a thread that runs no greenthreads it parks that thread
    on a hub of its own.
    """

    def __init__(self) -> None:
        self._result: Any = _NOT_SENT
        self._exc: BaseException | None = None
        self._mutex = threading.Lock()
        self._waiters = WaitingLine()

    def ready(self) -> bool:
        """True once ``send()`` or ``send_exception()`` was called."""
        return self._result is not _NOT_SENT

    def reset(self) -> None:
        """Make a sent event unsent again, so it can be waited on anew."""
        with self._mutex:
            if self._result is _NOT_SENT:
                raise RuntimeError("reset() on an event that was not sent")
            self._result = _NOT_SENT
            self._exc = None

    def send(self, result: T | None = None, exc: BaseException | None = None) -> None:
        """Wake every waiter: ``wait()`` returns ``result`` (or raises ``exc``).  Safe from any thread."""
        with self._mutex:
            if self._result is not _NOT_SENT:
                raise RuntimeError("this event was already sent")
            self._result = result
            self._exc = exc
            outcome = (result, exc)
            while self._waiters.serve(outcome):
                pass

    def send_exception(self, exc: BaseException) -> None:
        """Wake every waiter, making ``wait()`` raise ``exc``."""
        self.send(None, exc)

    def wait(self, timeout: float | None = None) -> T | None:
        """Return the sent value (or raise the sent exception).

        With ``timeout`` (seconds), return None if nothing was sent in time.
        """
        if self._result is _NOT_SENT:
            mutex = self._mutex
            mutex.acquire()
            if self._result is _NOT_SENT:
                # The hub's timer checks the timeout (a negative one means now).
                waiter = self._waiters.wait(mutex, timeout)
                if waiter is None:
                    return None
                result, exc = waiter.value  # as sent, even if reset() came since
                if exc is not None:
                    raise exc
                handed: T = result
                return handed
            mutex.release()
        if self._exc is not None:
            raise self._exc
        sent: T = self._result
        return sent
