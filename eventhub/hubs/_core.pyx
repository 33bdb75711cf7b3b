"""Compiled BaseHub, Timer, LocalTimer and FdListener.

The twin of ``hub.py``/``timer.py`` (the reference semantics): same public
attributes and methods, same behaviour, faster data structures.  Listeners
live in fd-indexed slots, timers in a C binary heap of (deadline, sequence,
timer), and switching goes through greenlet's C API.  Backends (``_epolls``,
``_poll``, ``_selects``, the libevent hub) subclass ``BaseHub`` through
``_core.pxd`` and implement its hooks.

One extension module, several files (Cython ``include``: one C module, so the
inline helpers stay inline in the hot paths).  This file holds the imports,
the class memos, ``_handoff`` and the ``BaseHub`` class with its attributes
and thin methods; the bodies live by concern in:

- ``_core_lookups.pxi``: this thread's hub, clock, argument checks, socket fd
- ``_core_timers.pxi``: the C timer heap, Timer and LocalTimer
- ``_core_listeners.pxi``: FdListener and DebugListener
- ``_core_hub_listeners.pxi``: the hub's fd table, trampoline, fire paths
- ``_core_hub_timers.pxi``: the hub's timer queue and schedule_call_*
- ``_core_hub_loop.pxi``: the MAINLOOP greenlet and switching, lifetime
- ``_core_gc.pxi``: the GC hooks through the C timer queues
"""

cimport cython

import collections
import errno
import signal
import sys
import time
import traceback

import greenlet as _greenlet_mod
from socket import socket as _socket_type

import _socket  # the C module: eventlet's monkey_patch() leaves it alone

from cpython.exc cimport PyErr_SetFromErrno
from cpython.list cimport PyList_GET_ITEM
from cpython.long cimport PyLong_AsDouble
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.string cimport memmove, memset

from eventhub.includes.pycompat cimport (
    class_memo,
    instance_dict_used,
    instance_has,
    memo_type,
)
from eventhub.includes cimport pycompat

cdef extern from *:
    """
    /* Neither o's class (with the generic attribute lookup) nor its
       __dict__ holds `name` (eh_class_gives and eh_instance_has are in
       eventhub/includes/pycompat.pxd, with every other CPython internal). */
    static inline int eh_lacks_attr(PyObject *o, PyObject *name, eh_class_memo *memo) {
        return eh_class_gives(memo, Py_TYPE(o), name, NULL) && !eh_instance_has(o, name);
    }
    /* getattr(o, name, None), without the attribute machinery in the common
       case where o lacks `name`.  A new reference, or NULL with an exception set. */
    static PyObject *eh_optional_attr(PyObject *o, PyObject *name, eh_class_memo *memo) {
        PyObject *value;
        if (eh_lacks_attr(o, name, memo))
            Py_RETURN_NONE;
        if (eh_get_optional_attr(o, name, &value) < 0)
            return NULL;
        if (value == NULL)
            Py_RETURN_NONE;
        return value;
    }
    /* 1 if o.name is the method descriptor `descr` of a class o is an
       instance of: neither a __getattribute__, nor o's __dict__, nor a
       subclass replaces it. */
    static int eh_own_method(PyObject *o, PyObject *name, PyObject *descr, eh_class_memo *memo) {
        return eh_class_gives(memo, Py_TYPE(o), name, descr) && !eh_instance_has(o, name);
    }
    """
    bint lacks_attr "eh_lacks_attr"(object o, object name, class_memo *memo)
    object optional_attr "eh_optional_attr"(object o, object name, class_memo *memo)
    bint own_method "eh_own_method"(object o, object name, object descr, class_memo *memo)

cdef extern from "Python.h":
    ctypedef struct PyThreadState:
        pass
    PyThreadState *PyThreadState_Get()
    unsigned long long PyThreadState_GetID(PyThreadState *tstate)

from eventhub.includes.greenlet cimport (
    getcurrent,
    greenlet_import,
    init_switch_def,
    switch_target,
    greenlet_is_dead,
    greenlet_is_started,
    greenlet_parent_is,
    greenlet_set_parent,
    greenlet_switch,
    is_greenlet,
)
from eventhub.includes.posix cimport (
    CLOCK_MONOTONIC,
    F_GETFD,
    INT_MAX,
    clock_gettime,
    fcntl,
    timespec,
)

from eventhub.hubs cimport _stackcache
from eventhub import hubs as _hubs
from eventhub.hubs.errors import HubDestroyed, IOClosed
from eventhub.hubs.hub import COMPACT_MIN_TIMERS as _compact_min_timers
from eventhub.hubs.hub import READ, WRITE, _alarm_handler, root_greenlet
from eventhub.hubs.hub import as_delay as _as_delay_slow
from eventhub.hubs.hub import as_fileno as _as_fileno_slow
from eventhub.hubs.listener import closed_callback
from eventhub.hubs.waker import Waker, ignore_throw, run_calls

# The pure hub's threshold as a C integer: it is compared on every cancel.
cdef Py_ssize_t COMPACT_MIN_TIMERS = _compact_min_timers

greenlet_import()
init_switch_def(getcurrent().switch)

cdef object _monotonic = time.monotonic
# greenlet's own switch and throw (method descriptors): a timer or listener
# may switch to a greenlet in C when these are what g.switch/g.throw are.
cdef object _GREENLET_SWITCH = _greenlet_mod.greenlet.__dict__["switch"]
cdef object _GREENLET_THROW = _greenlet_mod.greenlet.__dict__["throw"]
# What the hot paths last learned about a greenlet class (see eh_class_memo).
cdef class_memo _timer_switch_memo    # _schedule_switch: switch is greenlet's own
cdef class_memo _wait_switch_memo     # trampoline: switch and throw are greenlet's own
cdef class_memo _wait_throw_memo
cdef class_memo _switch_out_memo      # _switch_from: the class has no switch_out
cdef double _INF = float("inf")


cdef object _memo_class(const class_memo *memo):
    cdef PyObject *tp = memo_type(memo)
    return None if tp == NULL else <object>tp


def _class_memos():
    """The greenlet class each hot-path memo holds an answer for (None: none).

    For tests: a memo that never holds a class means every switch takes the
    general attribute lookup (pycompat.CLASS_MEMO off on this CPython).
    """
    return {
        "timer_switch": _memo_class(&_timer_switch_memo),
        "wait_switch": _memo_class(&_wait_switch_memo),
        "wait_throw": _memo_class(&_wait_throw_memo),
        "switch_out": _memo_class(&_switch_out_memo),
    }


include "_core_lookups.pxi"
include "_core_timers.pxi"
include "_core_listeners.pxi"


# ---------------------------------------------------------------------------
# The hub
# ---------------------------------------------------------------------------

cdef inline object _handoff(BaseHub self, object cur):
    """Park ``cur`` while the loop is suspended mid-way through firing timers.

    Switching back to the loop would only make it pop the next due timer
    and, for a plain ``g.switch`` timer, switch to ``g``.  Doing exactly
    that here saves half the greenlet switches of ``sleep(0)``; anything
    else goes back to the loop.  Inlined into BaseHub._switch_from: one C
    frame less for greenlet to copy per switch.
    """
    cdef Timer t
    cdef PyObject *target = NULL
    while self._heap_len and not (self._firing_when < self._heap[0].deadline):
        obj = <object>self._heap[0].timer
        if type(obj) is not Timer:
            break
        t = <Timer>obj
        if not t.called:
            target = _switch_target_of(t)
            # An unstarted greenlet would begin at cur's Python recursion
            # depth, and a chain of them overflow it: the loop starts those.
            if (target == NULL or <object>target is cur
                    or not greenlet_is_started(<object>target)):
                break
        self._pop_first()
        Py_DECREF(obj)  # the heap's reference; `obj` keeps it alive
        if t.called:
            self.timers_canceled -= 1
            continue
        t.called = True
        g = <object>target
        args = t._args
        kw = t._kw
        t._clear()
        return greenlet_switch(g, <PyObject *>args, <PyObject *>kw if kw else NULL)
    return greenlet_switch(self._greenlet, NULL, NULL)


include "_core_hub_listeners.pxi"
include "_core_hub_timers.pxi"
include "_core_hub_loop.pxi"


cdef class BaseHub:
    """Listeners, timers and the run loop; subclasses provide the poller hooks."""

    SYSTEM_EXCEPTIONS = (KeyboardInterrupt, SystemExit)
    READ = READ
    WRITE = WRITE
    #: Thrown into greenthreads whose fd was closed or reused; an adapter
    #: overrides it (eventlet's green sockets catch their own class).
    IOClosed = IOClosed

    def __cinit__(self, *args, **kw):
        cls = type(self)
        self._py_wait = cls.wait is not BaseHub.wait
        self._py_timer_canceled = cls.timer_canceled is not BaseHub.timer_canceled
        self._py_io = cls.add is not BaseHub.add or cls.remove is not BaseHub.remove or cls.switch is not BaseHub.switch
        self._readers = []
        self._writers = []
        self._fdstate = NULL
        self._nslots = 0
        self._queued_r = {}
        self._queued_w = {}
        self.closed = []
        self._calls = collections.deque()
        self._heap = NULL
        self._heap_mem = NULL
        self._heap_sorted = True
        self._next = NULL
        # Greenthreads started from now on reuse frame-stack chunks.
        _stackcache.install()

    def __init__(self, clock=None):
        self.clock = clock
        self._greenlet = None
        self.stopping = False
        self.running = False
        self.timers_canceled = 0
        self.lclass = FdListener
        self.debug_exceptions = True
        self.debug_blocking = False
        self.debug_blocking_resolution = 1.0
        self.prevent_multiple_readers = True
        self._old_signal_handler = None

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self._heap_len):
            _detach(self._heap[i].timer, self)
            Py_DECREF(<object>self._heap[i].timer)
        for i in range(self._next_len):
            _detach(self._next[i].timer, self)
            Py_DECREF(<object>self._next[i].timer)
        PyMem_Free(self._heap_mem)
        PyMem_Free(self._next)
        PyMem_Free(self._fdstate)

    # -- the clock -------------------------------------------------------------

    @property
    def clock(self):
        """The hub's clock (seconds, monotonic); ``time.monotonic`` by default."""
        return self._clock

    @clock.setter
    def clock(self, value):
        self._clock = _monotonic if value is None else value
        self._monotonic = self._clock is _monotonic

    cdef double _now(self) except? -1.0:
        if self._monotonic:
            return _monotonic_now()
        return self._clock()

    # -- the MAINLOOP greenlet -------------------------------------------------

    @property
    def greenlet(self):
        """The MAINLOOP greenlet, created on first use.

        Its parent is the thread's root greenlet, whoever touched it first, so
        the loop's end and KeyboardInterrupt/SystemExit reach the main greenlet.
        """
        g = self._greenlet
        if g is None:
            g = self._greenlet = _greenlet_mod.greenlet(self.run, root_greenlet())
        return g

    @greenlet.setter
    def greenlet(self, value):
        self._greenlet = value

    def ensure_greenlet(self):
        """Replace a dead MAINLOOP; greenlets parented to the old one follow it."""
        return _hub_ensure_greenlet(self)

    def switch(self):
        """Park the current greenlet and run the loop until someone switches back."""
        return self._switch()

    cdef object _switch(self):
        return self._switch_from(getcurrent())

    cdef object _switch_from(self, object cur):
        return _hub_switch_from(self, cur)

    cdef object _handoff_io(self, object cur):
        return greenlet_switch(self._greenlet, NULL, NULL)

    cdef object _loop_for(self, object cur):
        return _hub_loop_for(self, cur)


    # -- listeners -------------------------------------------------------------

    cdef int _accept_fd(self, object fileno) except -1:
        return _hub_accept_fd(self, fileno)

    cdef int _grow(self, int fd) except -1:
        return _hub_grow(self, fd)

    def add(self, evtype, fileno, cb, tb, mark_as_closed):
        """Call ``cb(fileno)`` whenever ``fileno`` is ready for ``evtype``.

        Raises ``ValueError``/``TypeError``/``OSError`` for a bad fd or
        callback, and then leaves no trace of the listener behind.
        """
        return self._add(evtype, fileno, cb, tb, mark_as_closed)

    cdef object _add(self, object evtype, object fileno, object cb, object tb, object mark_as_closed):
        return self._add_listener(evtype, fileno, cb, tb, mark_as_closed, None)

    cdef object _add_listener(self, object evtype, object fileno, object cb, object tb,
                              object mark_as_closed, object target):
        return _hub_add_listener(self, evtype, fileno, cb, tb, mark_as_closed, target)

    def remove(self, listener):
        """Stop a listener; a queued secondary takes its place. No-op if spent."""
        self._remove(listener)

    cdef int _remove(self, object listener) except -1:
        return _hub_remove(self, listener)

    cdef int _obsolete(self, object fileno) except -1:
        return _hub_obsolete(self, fileno)

    def mark_as_reopened(self, fileno):
        """The OS handed out ``fileno`` again: whoever waited on the old one is told."""
        self._obsolete(fileno)

    def multiple_readers_prevented(self):
        """Whether ``add()`` refuses a second listener on one fd and direction.

        Consulted only when that happens, through Python, so that an adapter's
        override is honoured (eventlet keeps its switch in a module global).
        """
        return _hub_multiple_readers_prevented(self)

    def notify_close(self, fileno):
        """``fileno`` is about to be closed: waiters on it get IOClosed, not a hang."""
        self._obsolete(fileno)

    def remove_descriptor(self, fileno):
        """Drop every listener on ``fileno``, waking each so it sees the error itself."""
        return _hub_remove_descriptor(self, fileno)

    def close_one(self):
        """Throw IOClosed into the greenthread of one obsoleted listener."""
        return _hub_close_one(self)

    def get_readers(self):
        return self._primaries(self._readers)

    def get_writers(self):
        return self._primaries(self._writers)

    def _primaries(self, list slots):
        # The pure hub's dicts keep insertion order; _order reproduces it.
        waker = self._waker_listener
        found = [x for x in slots if x is not None and x is not waker]
        found.sort(key=_listener_order)
        return found

    @property
    def listeners(self):
        """A snapshot ``{READ: {fd: listener}, WRITE: {...}}``, like the pure hub's."""
        return {
            READ: {x.fileno: x for x in self.get_readers()},
            WRITE: {x.fileno: x for x in self.get_writers()},
        }

    def set_debug_listeners(self, value):
        self.lclass = DebugListener if value else FdListener

    cdef object _trampoline(self, object fileno, bint write, object timeout,
                            object timeout_exc, object mark_as_closed, object owner):
        return _hub_trampoline(self, fileno, write, timeout, timeout_exc, mark_as_closed, owner)

    # -- hooks (backends override) ---------------------------------------------

    cdef int _update_interest(self, int fd) except -1:
        return 0

    cdef int _forget(self, int fd) except -1:
        return 0

    cdef int _wait(self, double seconds) except -1:
        raise NotImplementedError("a hub backend must implement wait()")

    # -- dispatch helpers for backends -----------------------------------------

    cdef int _interest(self, int fd) noexcept:
        cdef PyObject *none = <PyObject *>None
        if fd < 0 or fd >= self._nslots:
            return 0
        return ((EV_READ if PyList_GET_ITEM(self._readers, fd) != none else 0)
                | (EV_WRITE if PyList_GET_ITEM(self._writers, fd) != none else 0))

    cdef int _fire_read(self, int fd) except -1:
        return _hub_fire_read(self, fd)

    cdef int _fire_write(self, int fd) except -1:
        return _hub_fire_write(self, fd)

    cdef int _fire(self, FdListener listener) except -1:
        return _hub_fire(self, listener)

    def squelch_exception(self, fileno, exc_info):
        return _hub_squelch_exception(self, fileno, exc_info)

    def squelch_generic_exception(self, exc_info):
        if self.debug_exceptions:
            traceback.print_exception(*exc_info)
            sys.stderr.flush()

    def squelch_timer_exception(self, timer, exc_info):
        if self.debug_exceptions:
            traceback.print_exception(*exc_info)
            sys.stderr.flush()

    def set_timer_exceptions(self, value):
        self.debug_exceptions = value

    # -- timers ----------------------------------------------------------------

    cdef double _add_timer(self, object timer) except? -1.0:
        return _hub_add_timer(self, timer)

    def add_timer(self, timer):
        """Queue any timer object with ``.seconds``, ``.called`` and ``__call__``."""
        return self._add_timer(timer)

    cdef int _timer_canceled(self) except -1:
        return _hub_timer_canceled(self)

    def timer_canceled(self, timer):
        """Count a cancellation; compact the queues when most entries are dead."""
        self._timer_canceled()

    cdef int _compact_timers(self) except -1:
        return _hub_compact_timers(self)

    cdef int _prepare_timers(self) except -1:
        return _hub_prepare_timers(self)

    cdef void _pop_first(self) noexcept:
        _hub_pop_first(self)

    cdef void _rebase_heap(self) noexcept:
        _hub_rebase_heap(self)

    def prepare_timers(self):
        self._prepare_timers()

    cdef int _fire_timers(self, double when) except -1:
        return _hub_fire_timers(self, when)

    cdef int _fire_callback_timer(self, object timer) except -1:
        return _hub_fire_callback_timer(self, timer)

    def fire_timers(self, when):
        self._fire_timers(when)

    def sleep_until(self):
        return self._heap[0].deadline if self._heap_len else None

    def get_timers_count(self):
        return self._heap_len + self._next_len

    @property
    def timers(self):
        """A snapshot of the timer queue: ``[(deadline, seq, timer), ...]`` in firing order."""
        return sorted([(self._heap[i].deadline, self._heap[i].seq, <object>self._heap[i].timer)
                       for i in range(self._heap_len)])

    @property
    def next_timers(self):
        """A snapshot of the timers added since the last loop pass."""
        return [(self._next[i].deadline, self._next[i].seq, <object>self._next[i].timer)
                for i in range(self._next_len)]

    cdef int _clear_timers(self) except -1:
        return _hub_clear_timers(self)

    def schedule_call_global(self, seconds, cb, *args, **kw):
        """Call ``cb(*args, **kw)`` after ``seconds``, whatever happens meanwhile."""
        cdef Timer t = self._schedule_global(seconds, cb, args)
        if kw:
            t._kw = kw
        return t

    cdef Timer _schedule_global(self, object seconds, object cb, tuple args):
        return _hub_schedule_global(self, seconds, cb, args)

    cdef Timer _schedule_switch(self, object seconds, object g, tuple args):
        return _hub_schedule_switch(self, seconds, g, args)

    def schedule_call_local(self, seconds, cb, *args, **kw):
        """Like ``schedule_call_global`` but skipped if the calling greenthread died."""
        cdef LocalTimer t
        if not callable(cb):
            raise TypeError(f"timer callback must be callable, not {type(cb).__name__}")
        t = LocalTimer.__new__(LocalTimer)
        t.greenlet = getcurrent()
        t.seconds = seconds
        t._cb = cb
        t._args = args
        t._kw = kw
        self._add_timer(t)
        return t

    # -- the loop --------------------------------------------------------------

    def default_sleep(self):
        """How long to wait for I/O when no timer is due (seconds)."""
        return 60.0

    def wait(self, seconds):
        """Wait up to ``seconds`` for I/O and dispatch it (backends implement)."""
        self._wait(seconds)

    cdef bint _overridden(self, str name) noexcept:
        """An instance attribute replaces the method ``name`` (an interned literal: its hash is cached)."""
        return instance_has(self, name)

    cdef bint _io_overridden(self) noexcept:
        """An instance attribute replaces add(), remove() or switch()."""
        if not instance_dict_used(self):
            return False  # the usual case, told in one look
        return self._overridden("add") or self._overridden("remove") or self._overridden("switch")

    cdef int _loop_wait(self, double seconds) except -1:
        return _hub_loop_wait(self, seconds)

    def run(self, *a, **kw):
        """The MAINLOOP: a pass, then a wait, until ``abort()``."""
        if self.running:
            raise RuntimeError("Already running!")
        try:
            self.running = True
            self.stopping = False
            while not self.stopping:
                if self._waker is None:
                    self._start_waker()
                self._pass()
                self._loop_wait(self._sleep_time())
            else:
                self._clear_timers()
        finally:
            self.running = False
            self.stopping = False

    cdef int _pass(self) except -1:
        """One pass of the loop, all but its wait: every hub runs exactly this.

        As the pure hub's ``_pass``; while the due timers fire, ``_firing``
        lets a greenthread that blocks hand off to the next due one.
        """
        if self._calls:
            run_calls(self._calls, self)
        while self.closed:
            self.close_one()
        self._prepare_timers()
        if self.debug_blocking:
            self.block_detect_pre()
        self._firing_when = self._now()
        self._firing = True
        try:
            self._fire_timers(self._firing_when)
        finally:
            self._firing = False
        if self.debug_blocking:
            self.block_detect_post()
        self._prepare_timers()
        return 0

    cdef double _sleep_time(self) except? -1.0:
        """How long the wait after a pass may block: until the next timer is due."""
        cdef double seconds
        if self.closed or self.stopping:
            return 0.0  # IOClosed is due / abort() asked: don't block
        if self._heap_len == 0:
            seconds = self.default_sleep()
        else:
            seconds = self._heap[0].deadline - self._now()
        return seconds if seconds > 0 else 0.0

    def abort(self, wait=False):
        """Stop the loop after its current pass; with ``wait``, switch to it until then."""
        return _hub_abort(self, wait)

    # -- threads, fork, lifetime (the pure hub's twins) --------------------------

    def call_threadsafe(self, fn, *args):
        """Run ``fn(*args)`` on this hub's thread soon; callable from any thread.

        A ``wait()`` blocked in the kernel is woken at once (eventfd or
        self-pipe).  ``fn`` runs in the hub's greenlet, like a timer callback:
        it must not block, but may switch to a greenthread (``g.switch``) or
        set an event.  Calls run in the order they were made; errors are printed.
        """
        if self.destroyed:
            raise HubDestroyed("call_threadsafe() on a destroyed hub")
        if not callable(fn):
            raise TypeError(f"call_threadsafe() needs a callable, not {type(fn).__name__}")
        self._calls.append((fn, args))
        waker = self._waker
        if waker is not None:  # else the loop's next pass runs the call
            waker.wake()

    def _start_waker(self):
        return _hub_start_waker(self)

    def _on_wake(self, fileno):
        if self._waker is not None:
            self._waker.drain()
        run_calls(self._calls, self)

    def _drop_waker(self):
        return _hub_drop_waker(self)

    def reinit(self):
        """Give the hub its own kernel state in a forked child.

        eventhub calls this for the forking thread's hub (``os.register_at_fork``).
        The poller is replaced by a fresh one holding every live listener, the
        waker by a new one; nothing the parent shares is modified, so the
        parent is unaffected.  Greenthreads and timers carry on.
        """
        return _hub_reinit(self)

    def _reinit_poller(self):
        """Replace shared kernel poller state after fork (backends with any override)."""

    def destroy(self):
        """Release the hub's OS resources; idempotent (backends extend).

        Afterwards ``add()``, scheduling a timer, ``call_threadsafe()`` and
        running the loop raise ``HubDestroyed``.  A running loop stops at its
        next pass.  Called automatically when the hub's thread ends and by
        ``use_hub()``.
        """
        return _hub_destroy(self)

    # -- blocking detection (SIGALRM, main thread only) ------------------------

    def block_detect_pre(self):
        previous = signal.signal(signal.SIGALRM, _alarm_handler)
        if previous != _alarm_handler:
            self._old_signal_handler = previous
        signal.setitimer(signal.ITIMER_REAL, self.debug_blocking_resolution)

    def block_detect_post(self):
        if self._old_signal_handler:
            signal.signal(signal.SIGALRM, self._old_signal_handler)
        signal.setitimer(signal.ITIMER_REAL, 0)


def _listener_order(FdListener listener):
    return listener._order


def _noop():
    pass


include "_core_gc.pxi"
