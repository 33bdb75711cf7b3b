"""Timeout: raise an exception in the current greenthread after a delay."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from greenlet import getcurrent

from eventhub.hubs import get_hub
from eventhub.hubs._variant import load_compiled


class Timeout(BaseException):
    """Raise in the current greenthread after ``seconds`` unless cancelled first.

    Starts at construction.  ``exception`` is what gets raised: None raises
    the Timeout itself, a class or instance raises that, and ``False``
    makes the ``with`` block end silently when time runs out.  ``seconds``
    None never fires.
    """

    # Slots, as the compiled twin's C fields: attributes kept in the
    # exception's instance dict cost a dict per Timeout and a generic
    # lookup per access (the interpreter does not specialise them).
    __slots__ = ("seconds", "exception", "timer")

    def __init__(self, seconds: float | None = None, exception: Any = None) -> None:
        # BaseException.__new__ already keeps (seconds, exception) as .args.
        self.seconds = seconds
        self.exception = exception
        self.timer: Any = None
        self.start()

    def start(self) -> Timeout:
        """Schedule the timeout; restarting a pending one is an error."""
        timer = self.timer
        if timer is not None and timer.pending:
            raise RuntimeError(f"{self!r} is already started; cancel() it first")
        if self.seconds is None:
            self.timer = None
            return self
        exc = self.exception
        if exc is None or exc is False:
            exc = self
        elif isinstance(exc, type):
            exc = exc()
        self.timer = get_hub().schedule_call_global(self.seconds, getcurrent().throw, exc)
        return self

    @property
    def pending(self) -> bool:
        """True while the timeout is scheduled and has not fired."""
        timer = self.timer
        return timer is not None and not timer.called  # hub timers are always scheduled

    def cancel(self) -> None:
        """Stop the timeout if pending; safe to call more than once."""
        timer = self.timer
        if timer is not None:
            timer.cancel()
            self.timer = None

    def __repr__(self) -> str:
        state = " pending" if self.pending else ""
        return f"<Timeout seconds={self.seconds} exception={self.exception!r}{state}>"

    def __str__(self) -> str:
        if self.seconds is None:
            return ""
        suffix = "" if self.seconds == 1 else "s"
        if self.exception is None or self.exception is False:
            return f"{self.seconds} second{suffix}"
        return f"{self.seconds} second{suffix} ({self.exception})"

    def __enter__(self) -> Timeout:
        if self.timer is None and self.seconds is not None:
            self.start()
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self.cancel()
        return value is self and self.exception is False


#: The reference implementation above; ``Timeout`` is its compiled twin
#: (eventhub/_timeout.pyx) when built.
PureTimeout = Timeout
_compiled: Any = load_compiled("_timeout", package="eventhub")
CompiledTimeout: Any = _compiled.Timeout if _compiled is not None else None
if CompiledTimeout is not None:
    Timeout = CompiledTimeout  # type: ignore[misc]
#: "compiled" or "pure": which one ``Timeout`` is.
VARIANT: str = "compiled" if Timeout is CompiledTimeout else "pure"
