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
    current = getcurrent()
    if not isinstance(hub, BaseHub):  # a pure or third-party hub: the reference steps
        if current is hub.greenlet:
            raise RuntimeError("sleep() was called from the hub's own greenlet (MAINLOOP); call it from a greenthread")
        t = hub.schedule_call_global(seconds, current.switch)
        try:
            hub.switch()
        finally:
            t.cancel()
        return
    if current is hub.greenlet:
        raise RuntimeError("sleep() was called from the hub's own greenlet (MAINLOOP); call it from a greenthread")
    timer = (<BaseHub>hub)._schedule_global(seconds, current.switch, ())
    try:
        (<BaseHub>hub)._switch()
    finally:
        timer._cancel()
