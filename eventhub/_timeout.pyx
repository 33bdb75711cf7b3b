"""Compiled twin of ``eventhub/timeout.py`` (the reference): the same Timeout.

A Timeout is made and cancelled around every guarded call, so its cost is
the cost of a timeout; as an extension type it schedules straight into the
compiled hub's timer queue.
"""

from eventhub.hubs._core cimport BaseHub, Timer, current_hub
from eventhub.includes.greenlet cimport getcurrent, greenlet_import


greenlet_import()


cdef class Timeout(BaseException):
    """Raise in the current greenthread after ``seconds`` unless cancelled first.

    Starts at construction.  ``exception`` is what gets raised: None raises
    the Timeout itself, a class or instance raises that, and ``False``
    makes the ``with`` block end silently when time runs out.  ``seconds``
    None never fires.
    """

    cdef public object seconds
    cdef public object exception
    cdef public object timer

    def __init__(self, seconds=None, exception=None):
        # BaseException.__new__ already keeps the constructor's arguments as .args.
        self.seconds = seconds
        self.exception = exception
        self.timer = None
        if type(self) is Timeout:
            self._start()  # no Python method call: start() is Timeout's own
        else:
            self.start()

    def start(self):
        """Schedule the timeout; restarting a pending one is an error."""
        return self._start()

    cdef Timeout _start(self):
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
        hub = current_hub()
        throw = getcurrent().throw
        if isinstance(hub, BaseHub):
            self.timer = (<BaseHub>hub)._schedule_global(self.seconds, throw, (exc,))
        else:
            self.timer = hub.schedule_call_global(self.seconds, throw, exc)
        return self

    @property
    def pending(self):
        """True while the timeout is scheduled and has not fired."""
        timer = self.timer
        if timer is None:
            return False
        if type(timer) is Timer:
            return not (<Timer>timer).called
        return not timer.called  # hub timers are always scheduled

    def cancel(self):
        """Stop the timeout if pending; safe to call more than once."""
        timer = self.timer
        if timer is not None:
            if type(timer) is Timer:
                (<Timer>timer)._cancel()
            else:
                timer.cancel()
            self.timer = None

    def __repr__(self):
        state = " pending" if self.pending else ""
        return f"<Timeout seconds={self.seconds} exception={self.exception!r}{state}>"

    def __str__(self):
        if self.seconds is None:
            return ""
        suffix = "" if self.seconds == 1 else "s"
        if self.exception is None or self.exception is False:
            return f"{self.seconds} second{suffix}"
        return f"{self.seconds} second{suffix} ({self.exception})"

    def __enter__(self):
        if self.timer is None and self.seconds is not None:
            self.start()
        return self

    def __exit__(self, typ, value, tb):
        self.cancel()
        return value is self and self.exception is False
