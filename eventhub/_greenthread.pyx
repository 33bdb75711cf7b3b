"""Compiled twins of ``greenthread.sleep``, ``spawn`` and ``spawn_after`` (the reference).

``sleep(0)`` is the switch primitive of every greenthread program; here it
talks to the compiled hub in C (timer, park, cancel) instead of through
three Python method calls.  ``spawn`` makes the same ``GreenThread`` as
the reference, in C; ``greenthread.py`` hands over the class with
``use_class()`` when it picks these twins, and takes ``run``, ``wait``,
``link``, ``_finish`` and ``__await__`` as the class's methods, and
``future_on`` as its ``_future_on`` (the ``await gt`` path).
"""

from cpython.object cimport PyObject

from eventhub.hubs._core cimport BaseHub, Timer, current_hub
from eventhub.includes.cpython_api cimport PyObject_GC_UnTrack
from eventhub.includes.greenlet cimport getcurrent, greenlet_import, greenlet_set_parent

cdef extern from *:
    """
    /* fn(*args, **kwargs) for an exact tuple and dict, without copying them
       first (as CPython's own f(*a, **k) does): spawn() made both. */
    static PyObject *eh_call_with(PyObject *fn, PyObject *args, PyObject *kwargs) {
        return PyObject_Call(fn, args, PyDict_GET_SIZE(kwargs) ? kwargs : NULL);
    }
    """
    object call_with "eh_call_with"(object fn, tuple args, dict kwargs)

import sys

from greenlet import GreenletExit

from eventhub.event import Event

greenlet_import()


def sleep(seconds=0):
    """Suspend the current greenthread for ``seconds``, letting others run.

    ``sleep(0)`` lets every other ready greenthread run and the hub poll
    for I/O once before this one continues.
    """
    # Kept small: greenlet copies this C frame out and back with every switch.
    cdef Timer timer
    hub = current_hub()
    if not isinstance(hub, BaseHub):
        return _sleep_on(hub, seconds)
    cur = getcurrent()
    timer = (<BaseHub>hub)._schedule_switch(seconds, cur, ())
    try:
        (<BaseHub>hub)._switch_from(cur)  # raises RuntimeError if called from the hub's own greenlet
    finally:
        if not timer.called:  # woken early (a kill, a Timeout): drop the timer
            timer._cancel()


def _sleep_on(hub, seconds):
    """sleep() on a pure or third-party hub: the reference steps (a Python
    call, so the C compiler cannot inline it into sleep's frame)."""
    t = hub.schedule_call_global(seconds, getcurrent().switch)
    try:
        hub.switch()
    finally:
        if not t.called:
            t.cancel()


cdef object _GreenThread = None   # greenthread.GreenThread, once use_class() ran
cdef object _NOT_DONE = None      # its outcome before it ends
cdef object _pure_await = None    # its reference __await__


def use_class(greenthread_class, not_done, pure_await):
    """Make ``spawn`` create ``greenthread_class`` instances (``not_done``: their
    unset outcome; ``pure_await``: the reference ``__await__``, for its errors)."""
    global _GreenThread, _NOT_DONE, _pure_await
    _GreenThread = greenthread_class
    _NOT_DONE = not_done
    _pure_await = pure_await


def spawn(fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a new greenthread on the next hub pass."""
    return _spawn(0, fn, args, kwargs)


def spawn_after(seconds, fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a new greenthread after ``seconds``."""
    return _spawn(seconds, fn, args, kwargs)


cdef object _spawn(object seconds, object fn, tuple args, dict kwargs):
    if not callable(fn):
        raise TypeError(f"spawn() needs a callable, not {type(fn).__name__}")
    if _GreenThread is None:
        raise RuntimeError("eventhub.greenthread has not registered its GreenThread class")
    hub = current_hub()
    # What the reference's GreenThread.__new__ + parent + _init() do.
    g = _GreenThread.__new__(_GreenThread)
    greenlet_set_parent(g, hub.greenlet)
    g._outcome = _NOT_DONE
    g._exit_event = None
    g._links = None
    if isinstance(hub, BaseHub):
        start_args = (fn, args, kwargs)
        # Until the start timer fires, only it refers to this tuple, and a
        # compiled Timer is invisible to the collector anyway (see _core):
        # tracking it only made every collection traverse one object more
        # per pending greenthread.
        PyObject_GC_UnTrack(<PyObject *>start_args)
        g._start_timer = (<BaseHub>hub)._schedule_switch(seconds, g, start_args)
    else:
        g._start_timer = hub.schedule_call_global(seconds, g.switch, fn, args, kwargs)
    return g


def run(fn, args, kwargs):
    """``GreenThread.run`` (a staticmethod: self is getcurrent()): call
    ``fn(*args, **kwargs)`` and record how it ended."""
    # Kept small: greenlet copies this C frame out and back with every switch.
    self = getcurrent()
    self._start_timer = None
    try:
        if type(args) is tuple and type(kwargs) is dict:  # as spawn() made them
            result = call_with(fn, args, kwargs)
        else:
            result = fn(*args, **kwargs)
    except BaseException:
        if _run_failed(self):
            raise  # KeyboardInterrupt/SystemExit: the hub passes them to main
        return
    if self._exit_event is None and self._links is None:
        self._outcome = (result, None)  # _finish() with nothing to notify
    else:
        self._finish(result, None)


def _run_failed(self):
    """``run``'s except clause (a Python call: no room in run's frame): record
    the exception being handled; True to re-raise it."""
    e = sys.exc_info()[1]
    self._finish(None, e)
    if isinstance(e, GreenletExit):
        return False
    hub = current_hub()
    if isinstance(e, hub.SYSTEM_EXCEPTIONS):
        return True
    hub.squelch_generic_exception(sys.exc_info())  # why not raise: see the reference
    return False


def finish(self, result, exc):
    """``GreenThread._finish``: record the outcome, wake waiters, call the links."""
    self._outcome = (result, exc)
    if self._exit_event is not None:
        self._exit_event.send(result, exc)
    links = self._links
    self._links = None
    if links is None:
        return
    for fn, args, kwargs in links:
        try:
            fn(self, *args, **kwargs)
        except Exception:
            current_hub().squelch_generic_exception(sys.exc_info())


def link(self, fn, *args, **kwargs):
    """``GreenThread.link``: call ``fn(self, *args, **kwargs)`` when it ends (at once if it has)."""
    if self._outcome is not _NOT_DONE:
        fn(self, *args, **kwargs)
    elif self._links is None:
        self._links = [(fn, args, kwargs)]
    else:
        self._links.append((fn, args, kwargs))


def wait(self):
    """``GreenThread.wait``: block until it ends; return its result or raise its exception."""
    outcome = self._outcome
    if outcome is _NOT_DONE:
        if self._exit_event is None:
            self._exit_event = Event()
        return self._exit_event.wait()
    result, exc = outcome
    if exc is not None:
        raise exc
    return result


# ``await gt`` in a coroutine: the compiled twin of greenthread.py's
# GreenThread.__await__ and _future_on (the reference).

cdef object _get_running_loop = None  # asyncio's, imported by the first await


def await_greenthread(self):
    """``GreenThread.__await__``: await the greenthread on the hub's running loop."""
    global _get_running_loop
    if _get_running_loop is None:
        from asyncio import _get_running_loop
    running = _get_running_loop()
    loop = getattr(current_hub(), "loop", None)
    if running is None or loop is not running:
        return _pure_await(self)  # raises the reference's error
    return future_on(self, loop).__await__()


def future_on(gt, loop):
    """An asyncio future of ``loop`` that ends as ``gt`` does (see ``greenthread._future_on``)."""
    future = loop.create_future()
    tie = _FutureTie(gt, future)
    future.add_done_callback(tie)
    gt.link(tie)
    return future


cdef class _FutureTie:
    """What ties a greenthread and a future: called as the greenthread's link
    when it ends (settle the future) and as the future's done callback (if
    the future was cancelled, kill the greenthread).  One object for both, in
    place of the reference's two closures."""

    cdef object gt, future

    def __cinit__(self, gt, future):
        self.gt = gt
        self.future = future

    def __call__(self, ended):
        future = self.future
        if ended is future:  # the future is done first: cancelled, or settled by someone else
            if future.cancelled() and not self.gt.dead:
                self.gt.kill()
            return
        if future.done():
            return
        # Only a cancellation needs the done callback: drop it, or settling
        # the future would schedule it as one more loop callback for nothing.
        future.remove_done_callback(self)
        try:
            result = wait(ended)  # it has ended: returns or raises at once
        except GreenletExit:
            future.cancel()
        except BaseException as e:
            future.set_exception(e)
        else:
            future.set_result(result)
