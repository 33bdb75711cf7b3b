"""Compiled twin of ``greenthread.sleep`` (the reference): the same function.

``sleep(0)`` is the switch primitive of every greenthread program; here it
talks to the compiled hub in C (timer, park, cancel) instead of through
three Python method calls.
"""

from eventhub.hubs._core cimport BaseHub, Timer
from eventhub.includes.greenlet cimport getcurrent, greenlet_import

from eventhub import hubs as _hubs

greenlet_import()

# The hubs package's per-thread state: reading its `hub` directly skips a
# Python-level get_hub() call on the hot path; get_hub() still creates it.
cdef object _local = _hubs._local
cdef object _get_hub = _hubs.get_hub


def sleep(seconds=0):
    """Suspend the current greenthread for ``seconds``, letting others run.

    ``sleep(0)`` lets every other ready greenthread run and the hub poll
    for I/O once before this one continues.
    """
    cdef Timer timer
    hub = getattr(_local, "hub", None)
    if hub is None:
        hub = _get_hub()
    if not isinstance(hub, BaseHub):  # a pure or third-party hub: the reference steps
        t = hub.schedule_call_global(seconds, getcurrent().switch)
        try:
            hub.switch()
        finally:
            if not t.called:
                t.cancel()
        return
    timer = (<BaseHub>hub)._schedule_global(seconds, getcurrent().switch, ())
    try:
        (<BaseHub>hub)._switch()  # raises RuntimeError if called from the hub's own greenlet
    finally:
        if not timer.called:  # woken early (a kill, a Timeout): drop the timer
            timer._cancel()
