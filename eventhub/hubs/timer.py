"""Pure-Python timers: the reference for the compiled ``_core`` timers.

A timer is created by a hub (``schedule_call_global``/``schedule_call_local``)
and remembers that hub, so ``cancel()`` always reaches the hub that holds it,
whatever thread-local hub is current when it is cancelled.
"""

from __future__ import annotations

from typing import Any, Callable

from greenlet import getcurrent


class Timer:
    """Call ``cb(*args, **kw)`` once, ``seconds`` after it was scheduled."""

    __slots__ = ("seconds", "called", "scheduled_time", "_hub", "_cb", "_args", "_kw")

    def __init__(self, seconds: float, cb: Callable[..., Any], *args: Any, **kw: Any) -> None:
        self.seconds = seconds
        self.called = False
        self.scheduled_time: float | None = None
        self._hub: Any = None
        self._cb: Callable[..., Any] | None = cb
        self._args: tuple[Any, ...] | None = args
        self._kw: dict[str, Any] | None = kw or None  # as schedule_call_global: no empty dict kept

    @property
    def pending(self) -> bool:
        """True while the timer is scheduled and has neither fired nor been cancelled."""
        return not self.called and self.scheduled_time is not None

    def __call__(self, *unused: Any) -> None:
        if self.called:
            return
        self.called = True
        cb, args, kw = self._cb, self._args, self._kw
        self._cb = self._args = self._kw = None  # drop references now: no cycles
        if kw:
            cb(*args, **kw)  # type: ignore[misc]
        else:
            cb(*args)  # type: ignore[misc]

    def cancel(self) -> None:
        """Prevent the callback from running; a no-op if it already ran."""
        if self.called:
            return
        self.called = True
        self._cb = self._args = self._kw = None
        if self._hub is not None:
            self._hub.timer_canceled(self)

    def __repr__(self) -> str:
        state = "pending" if self.pending else ("done" if self.called else "unscheduled")
        return f"<{type(self).__name__} {self.seconds}s {state}>"


class LocalTimer(Timer):
    """A timer that does not fire once the greenthread that scheduled it died."""

    __slots__ = ("greenlet",)

    def __init__(self, seconds: float, cb: Callable[..., Any], *args: Any, **kw: Any) -> None:
        self.greenlet: Any = getcurrent()
        super().__init__(seconds, cb, *args, **kw)

    @property
    def pending(self) -> bool:
        g = self.greenlet
        if g is None or g.dead:
            return False
        return not self.called and self.scheduled_time is not None

    def __call__(self, *unused: Any) -> None:
        g = self.greenlet
        if g is None or g.dead:
            self.called = True
            self._cb = self._args = self._kw = None
            return
        super().__call__()

    def cancel(self) -> None:
        self.greenlet = None
        super().cancel()
