"""Compiled BaseHub, Timer, LocalTimer and FdListener.

The twin of ``hub.py``/``timer.py``/``listener.py`` (the reference
semantics): same public attributes and methods, same behaviour, faster data
structures.  Listeners live in fd-indexed slots, timers in a C heap of
(deadline, sequence, timer), and switching goes through greenlet's C API.
Backends (``_epolls``, ``_poll``, ``_selects``, ``_pyevent``, ``_asyncio``)
subclass ``BaseHub`` through ``_core.pxd`` and implement its hooks.

One extension module (so the hot paths stay inline), one file per unit,
each with its declarations in a ``.pxd``:

- ``_core_lookups.pxi``: this thread's hub, the clock, argument checks, a
  socket's fd read in C;
- ``_core_timer.pxi`` (``_core_timer.pxd``): the C timer queue, ``Timer``
  and ``LocalTimer``;
- ``_core_listener.pxi`` (``_core_listener.pxd``): ``FdListener`` and
  ``DebugListener``;
- this file (``_core.pxd``): the hub, ``BaseHub``, whole: switching, the
  listener table and trampoline, the timers' firing, the loop's pass,
  threads and lifetime;
- ``_core_gc.pxi``: the hub type's GC hooks, which see through its timer
  queue (included last: it patches the type built here).

A compiled ``sleep(0)`` (``_greenthread.pyx``) reads the hub
(``current_hub``, lookups), queues a timer (``BaseHub._schedule_switch`` ->
``_add_timer``, onto the queue of ``_core_timer.pxi``) and switches away
(``_switch_from``); the loop's ``_pass`` merges the queue and
``_fire_timers`` switches back (``Timer._fire``), or ``_handoff`` does
without going through the loop.
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

from eventhub.includes.cpython_api cimport (
    GCSlots,
    Py_REFCNT,
    PyErr_WriteUnraisable,
    PyObject_TypeCheck,
    PyThreadState_Get,
    PyThreadState_GetID,
    gc_inquiry,
    gc_traverseproc,
    gc_visitproc,
)
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
include "_core_timer.pxi"
include "_core_listener.pxi"


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
    cdef TimerQueue *q = &self._timers
    cdef Timer t
    cdef PyObject *target = NULL
    while q.heap_len and not (self._firing_when < q.heap[0].deadline):
        obj = <object>q.heap[0].timer
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
        _queue_pop_first(q)
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
        _queue_init(&self._timers)
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
        _queue_free(&self._timers, self)
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
        old = self.greenlet
        if _dead(old):
            new = _greenlet_mod.greenlet(self.run, old.parent)
            old.parent = new
            self._greenlet = new

    def switch(self):
        """Park the current greenlet and run the loop until someone switches back."""
        return self._switch_from(getcurrent())

    cdef object _switch_from(self, object cur):
        # Kept small: greenlet copies this C frame out and back with every
        # switch, so the unusual cases are handled in _loop_for.
        loop = self._greenlet
        if (loop is None or cur is loop or _dead(loop) or not greenlet_parent_is(cur, loop)
                or not lacks_attr(cur, "switch_out", &_switch_out_memo)):
            loop = self._loop_for(cur)
        if self._io_batch:  # checked first: a timer callback may dispatch I/O, not vice versa
            return self._handoff_io(cur)
        if self._firing:
            return _handoff(self, cur)
        return greenlet_switch(loop, NULL, NULL)

    cdef object _handoff_io(self, object cur):
        return greenlet_switch(self._greenlet, NULL, NULL)

    cdef object _loop_for(self, object cur):
        """The loop greenlet to switch to from ``cur``, ready: alive, not cur,
        cur's ``switch_out`` called, cur re-parented to it."""
        loop = self._greenlet
        if loop is None or _dead(loop):
            self.ensure_greenlet()
            loop = self._greenlet
        if cur is loop:
            raise RuntimeError(
                "a blocking call (sleep, trampoline, wait, ...) was made from the hub's own "
                "greenlet (MAINLOOP); make it from a greenthread instead"
            )
        switch_out = optional_attr(cur, "switch_out", &_switch_out_memo)
        if switch_out is not None:
            try:
                switch_out()
            except Exception:
                self.squelch_generic_exception(sys.exc_info())
        # As the reference: re-parent cur unless already done or a cycle.
        if not greenlet_parent_is(cur, loop) and not greenlet_parent_is(loop, cur):
            try:
                greenlet_set_parent(cur, loop)
            except ValueError:
                pass  # cur is an ancestor of the loop (e.g. the main greenlet)
        return loop

    # -- listeners -------------------------------------------------------------

    cdef int _accept_fd(self, object fileno) except -1:
        cdef int fd = fileno  # as_fileno() refused anything beyond a C int
        # Never trust an fd number: the slot table only grows for open fds,
        # so its size stays bounded by the process's real descriptors.
        if fd >= self._nslots and fcntl(fd, F_GETFD) == -1:
            PyErr_SetFromErrno(OSError)
        return fd

    cdef int _grow(self, int fd) except -1:
        cdef int n = self._nslots
        cdef int new_n = n * 2 if n else 64
        cdef FdState *grown
        if fd < n:
            return 0
        while new_n <= fd:
            if new_n > INT_MAX // 2:
                new_n = fd + 1
                break
            new_n *= 2
        grown = <FdState *>PyMem_Realloc(self._fdstate, <size_t>new_n * sizeof(FdState))
        if grown == NULL:
            raise MemoryError()
        memset(&grown[n], 0, <size_t>(new_n - n) * sizeof(FdState))
        self._fdstate = grown
        self._readers.extend([None] * (new_n - n))
        self._writers.extend([None] * (new_n - n))
        self._nslots = new_n
        return 0

    def add(self, evtype, fileno, cb, tb, mark_as_closed):
        """Call ``cb(fileno)`` whenever ``fileno`` is ready for ``evtype``.

        Raises ``ValueError``/``TypeError``/``OSError`` for a bad fd or
        callback, and then leaves no trace of the listener behind.
        """
        return self._add_listener(evtype, fileno, cb, tb, mark_as_closed, None)

    cdef object _add_listener(self, object evtype, object fileno, object cb, object tb,
                              object mark_as_closed, object target):
        """add(); with ``target`` (the current greenlet; lclass FdListener), cb/tb are its own switch/throw."""
        cdef FdListener listener
        cdef bint write
        cdef int fd
        cdef list slots
        cdef dict queued
        if evtype is READ:
            write = False
        elif evtype is WRITE:
            write = True
        elif evtype == READ:
            evtype = READ
            write = False
        elif evtype == WRITE:
            evtype = WRITE
            write = True
        else:
            raise ValueError(f"evtype must be {READ!r} or {WRITE!r}, not {evtype!r}")
        if self.destroyed:
            raise HubDestroyed("add() on a destroyed hub")
        fileno = _as_fileno(fileno)
        if target is None and (not callable(cb) or not callable(tb)):
            raise TypeError("the listener's cb and tb must be callable")
        if mark_as_closed is not None and not callable(mark_as_closed):
            raise TypeError("mark_as_closed must be callable or None")
        if self.lclass is FdListener:
            listener = FdListener.__new__(FdListener)
            listener.evtype = evtype
            listener.fileno = fileno
            listener._cb = cb
            listener._tb = tb
            listener._target = target
            listener.mark_as_closed = mark_as_closed
            listener.greenlet = getcurrent() if target is None else target
        else:
            obj = self.lclass(evtype, fileno, cb, tb, mark_as_closed)
            if not isinstance(obj, FdListener):
                raise TypeError("a compiled hub's lclass must make FdListener instances")
            listener = <FdListener>obj
        listener._write = write
        fd = self._accept_fd(fileno)
        listener._fd = fd
        self._grow(fd)
        slots = self._writers if write else self._readers
        primary = slots[fd]
        if primary is not None:
            if self.multiple_readers_prevented():
                raise RuntimeError(
                    f"Second simultaneous {evtype} on fileno {fileno} detected. Unless you "
                    f"really know what you're doing, make sure that only one greenthread can "
                    f"{evtype} any particular socket; to allow it, set the hub's "
                    f"prevent_multiple_readers to False. MY THREAD={listener.cb!r}; "
                    f"THAT THREAD={(<FdListener>primary).cb!r}"
                )
            queued = self._queued_w if write else self._queued_r
            queue = queued.get(fd)
            if queue is None:
                queued[fd] = [listener]
            else:
                queue.append(listener)
            return listener
        self._order_seq += 1
        listener._order = self._order_seq
        slots[fd] = listener
        try:
            self._update_interest(fd)
        except BaseException:
            # The slot table may have grown meanwhile: index afresh.
            slots = self._writers if write else self._readers
            if slots[fd] is listener:
                slots[fd] = None
            listener.spent = True
            raise
        return listener

    def remove(self, listener):
        """Stop a listener; a queued secondary takes its place. No-op if spent."""
        self._remove(listener)

    cdef int _remove(self, object listener) except -1:
        cdef FdListener lst
        cdef FdListener promoted
        cdef list slots
        cdef dict queued
        cdef int fd
        if not isinstance(listener, FdListener):
            raise TypeError(f"not a listener of this hub: {listener!r}")
        lst = <FdListener>listener
        if lst.spent:
            return 0
        lst.spent = True
        fd = lst._fd
        if fd < 0 or fd >= self._nslots:
            return 0
        slots = self._writers if lst._write else self._readers
        queued = self._queued_w if lst._write else self._queued_r
        if slots[fd] is lst:
            if queued:
                queue = queued.get(fd)
                if queue:
                    promoted = queue.pop(0)
                    promoted._order = lst._order  # takes the old one's place
                    slots[fd] = promoted
                    if not queue:
                        del queued[fd]
                    return 0
            slots[fd] = None
            try:
                self._update_interest(fd)
            except OSError:
                pass  # the fd was closed under us; the kernel forgot it already
        elif queued:
            queue = queued.get(fd)
            if queue and lst in queue:
                queue.remove(lst)
                if not queue:
                    del queued[fd]
        return 0

    cdef int _obsolete(self, object fileno) except -1:
        cdef int fd
        if not isinstance(fileno, int) or fileno < 0 or fileno >= self._nslots:
            return 0  # never had a listener: nothing to defang or forget
        fd = fileno
        for write in (False, True):
            queued = self._queued_w if write else self._queued_r
            for listener in queued.pop(fd, ()):
                self.closed.append(listener)
                listener.defang()
            slots = self._writers if write else self._readers
            listener = slots[fd]
            if listener is not None:
                slots[fd] = None
                self.closed.append(listener)
                listener.defang()
        if fd < self._nslots:
            self._forget(fd)
        return 0

    def mark_as_reopened(self, fileno):
        """The OS handed out ``fileno`` again: whoever waited on the old one is told."""
        self._obsolete(fileno)

    def multiple_readers_prevented(self):
        """Whether ``add()`` refuses a second listener on one fd and direction.

        Consulted only when that happens, through Python, so that an adapter's
        override is honoured (eventlet keeps its switch in a module global).
        """
        return self.prevent_multiple_readers

    def notify_close(self, fileno):
        """``fileno`` is about to be closed: waiters on it get IOClosed, not a hang."""
        self._obsolete(fileno)

    def remove_descriptor(self, fileno):
        """Drop every listener on ``fileno``, waking each so it sees the error itself."""
        cdef int fd
        cdef FdListener listener
        if not isinstance(fileno, int) or fileno < 0 or fileno >= self._nslots:
            return
        fd = fileno
        woken = []
        for write in (False, True):
            queued = self._queued_w if write else self._queued_r
            woken.extend(queued.pop(fd, ()))
            slots = self._writers if write else self._readers
            primary = slots[fd]
            if primary is not None:
                slots[fd] = None
                woken.append(primary)
        self._forget(fd)
        for listener in woken:
            listener.spent = True
            try:
                listener.cb(fileno)
            except BaseException as e:
                if isinstance(e, self.SYSTEM_EXCEPTIONS):
                    raise
                self.squelch_generic_exception(sys.exc_info())

    def close_one(self):
        """Throw IOClosed into the greenthread of one obsoleted listener."""
        listener = self.closed.pop()
        if not listener.greenlet.dead:
            try:
                listener.tb(self.IOClosed(errno.ENOTCONN, "Operation on closed file"))
            except BaseException as e:
                if isinstance(e, self.SYSTEM_EXCEPTIONS):
                    raise
                # The greenthread did not handle it and died: its error ends
                # here (printed), like one raised from a timer or fd callback.
                self.squelch_generic_exception(sys.exc_info())

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
        cdef Timer timer = None
        cdef bint py_io
        current = getcurrent()
        if self._greenlet is current:
            raise RuntimeError("do not call blocking functions (trampoline) from the hub's own greenlet")
        # add/remove/switch overridden by a Python subclass or an instance
        # attribute are honoured, as the reference trampoline calls them.
        py_io = self._py_io or self._io_overridden()
        if timeout is not None:
            timer = self._schedule_global(timeout, current.throw, (timeout_exc,))
        try:
            self._io_owner = owner
            try:
                evtype = WRITE if write else READ
                if py_io:
                    listener = self.add(evtype, fileno, current.switch, current.throw, mark_as_closed)
                elif (self.lclass is FdListener and own_method(current, "switch", _GREENLET_SWITCH, &_wait_switch_memo)
                        and own_method(current, "throw", _GREENLET_THROW, &_wait_throw_memo)):
                    listener = self._add_listener(evtype, fileno, None, None, mark_as_closed, current)
                else:
                    listener = self._add_listener(evtype, fileno, current.switch, current.throw, mark_as_closed, None)
            finally:
                self._io_owner = None
            try:
                return self.switch() if py_io else self._switch_from(current)
            finally:
                if py_io:
                    self.remove(listener)
                else:
                    self._remove(listener)
        finally:
            if timer is not None:
                timer._cancel()

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
        listener = self._readers[fd] if 0 <= fd < self._nslots else None
        return 0 if listener is None else self._fire(<FdListener>listener)

    cdef int _fire_write(self, int fd) except -1:
        listener = self._writers[fd] if 0 <= fd < self._nslots else None
        return 0 if listener is None else self._fire(<FdListener>listener)

    cdef int _fire(self, FdListener listener) except -1:
        cdef PyObject *found = listener_target(listener)
        cdef bint handoff
        self._woken_fd = listener._fd
        try:
            if found != NULL:  # g.switch(fd), in C
                target = <object>found  # held: g may drop its listener meanwhile
                args = (listener._fd,)
                greenlet_switch(target, <PyObject *>args, NULL)
            else:
                # A callback runs in the loop's greenlet: if it switches to a
                # greenlet that blocks, the callback must go on before the
                # batch does, so no _handoff_io meanwhile.
                handoff = self._io_batch
                self._io_batch = False
                try:
                    listener._cb(listener._fd)
                finally:
                    self._io_batch = handoff
        except BaseException as e:
            if isinstance(e, self.SYSTEM_EXCEPTIONS):
                raise
            # A greenlet that died of it was woken last: by this listener,
            # or by _handoff_io after the one woken here blocked again.
            self.squelch_exception(self._woken_fd, sys.exc_info())
        return 0

    def squelch_exception(self, fileno, exc_info):
        if self.debug_exceptions:
            traceback.print_exception(*exc_info)
            sys.stderr.write(f"Removing descriptor: {fileno!r}\n")
            sys.stderr.flush()
        try:
            self.remove_descriptor(fileno)
        except Exception as e:
            sys.stderr.write(f"Exception while removing descriptor! {e!r}\n")
            sys.stderr.flush()

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
        cdef double deadline
        if self.destroyed:  # its loop will never run again: the timer would be lost
            raise HubDestroyed("a timer cannot be scheduled on a destroyed hub")
        if isinstance(timer, Timer):
            deadline = self._now() + _as_delay((<Timer>timer).seconds)
        else:
            deadline = self._now() + _as_delay(timer.seconds)
        # Not heaped until the next pass: a timer added while timers fire waits for it.
        _queue_add(&self._timers, deadline, timer)
        if isinstance(timer, Timer):
            (<Timer>timer)._scheduled = deadline
            (<Timer>timer)._is_scheduled = True
            (<Timer>timer)._hub_ptr = <PyObject *>self
        return deadline

    def add_timer(self, timer):
        """Queue any timer object with ``.seconds``, ``.called`` and ``__call__``."""
        return self._add_timer(timer)

    cdef int _timer_canceled(self) except -1:
        cdef Py_ssize_t total
        self.timers_canceled += 1
        total = self._timers.heap_len + self._timers.next_len
        if total > COMPACT_MIN_TIMERS and total <= 2 * self.timers_canceled:
            self.timers_canceled = 0
            _queue_compact(&self._timers)
        return 0

    def timer_canceled(self, timer):
        """Count a cancellation; compact the queues when most entries are dead."""
        self._timer_canceled()

    cdef int _prepare_timers(self) except -1:
        # Cancelled timers among the new ones are dropped, no longer counted.
        self.timers_canceled -= _queue_merge(&self._timers)
        return 0

    def prepare_timers(self):
        """Move the timers added since the last pass into the queue proper."""
        self._prepare_timers()

    cdef int _fire_timers(self, double when) except -1:
        cdef TimerQueue *q = &self._timers  # a field of self: stays put
        cdef PyObject *ptr
        while q.heap_len:
            if when < q.heap[0].deadline:
                break
            ptr = q.heap[0].timer
            _queue_pop_first(q)
            timer = <object>ptr  # takes a new reference ...
            Py_DECREF(timer)     # ... and gives back the heap's
            if isinstance(timer, Timer):
                if (<Timer>timer).called:
                    self.timers_canceled -= 1
                    continue
            elif timer.called:
                self.timers_canceled -= 1
                continue
            try:
                if isinstance(timer, Timer) and _switch_target_of(<Timer>timer) != NULL:
                    (<Timer>timer)._fire()  # a plain g.switch
                else:
                    self._fire_callback_timer(timer)
            except BaseException as e:
                if isinstance(e, self.SYSTEM_EXCEPTIONS):
                    raise
                self.squelch_timer_exception(timer, sys.exc_info())
        return 0

    cdef int _fire_callback_timer(self, object timer) except -1:
        """Fire a timer whose callback is not a plain switch.

        The callback runs in the loop's greenlet: if it switches to a
        greenlet that blocks, the callback must go on before the next timer
        fires, so no _handoff meanwhile.
        """
        cdef bint firing = self._firing
        self._firing = False
        try:
            if isinstance(timer, Timer):
                (<Timer>timer)._fire()
            else:
                timer()
        finally:
            self._firing = firing
        return 0

    def fire_timers(self, when):
        self._fire_timers(when)

    def sleep_until(self):
        return self._timers.heap[0].deadline if self._timers.heap_len else None

    def get_timers_count(self):
        return self._timers.heap_len + self._timers.next_len

    @property
    def timers(self):
        """A snapshot of the timer queue: ``[(deadline, seq, timer), ...]`` in firing order."""
        cdef TimerEntry *heap = self._timers.heap
        return sorted([(heap[i].deadline, heap[i].seq, <object>heap[i].timer)
                       for i in range(self._timers.heap_len)])

    @property
    def next_timers(self):
        """A snapshot of the timers added since the last loop pass."""
        cdef TimerEntry *added = self._timers.next
        return [(added[i].deadline, added[i].seq, <object>added[i].timer)
                for i in range(self._timers.next_len)]

    cdef int _clear_timers(self) except -1:
        _queue_clear(&self._timers, self)
        self.timers_canceled = 0  # none is left to count
        return 0

    def schedule_call_global(self, seconds, cb, *args, **kw):
        """Call ``cb(*args, **kw)`` after ``seconds``, whatever happens meanwhile."""
        cdef Timer t = self._schedule_global(seconds, cb, args)
        if kw:
            t._kw = kw
        return t

    cdef Timer _schedule_global(self, object seconds, object cb, tuple args):
        cdef Timer t
        if not callable(cb):
            raise TypeError(f"timer callback must be callable, not {type(cb).__name__}")
        t = Timer.__new__(Timer)
        t.seconds = seconds
        t._cb = cb
        t._args = args
        self._add_timer(t)
        return t

    cdef Timer _schedule_switch(self, object seconds, object g, tuple args):
        cdef Timer t
        if not own_method(g, "switch", _GREENLET_SWITCH, &_timer_switch_memo):  # else call whatever g.switch is
            return self._schedule_global(seconds, g.switch, args)
        t = Timer.__new__(Timer)
        t.seconds = seconds
        t._cb = g
        t._args = args
        t._switch_to = True
        self._add_timer(t)
        return t

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
        # A Python subclass or an instance attribute may override wait();
        # honour it as the pure loop (which calls self.wait) would.
        if self._py_wait or self._overridden("wait"):
            self.wait(seconds)
            return 0
        return self._wait(seconds)

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
        if self._timers.heap_len == 0:
            seconds = self.default_sleep()
        else:
            seconds = self._timers.heap[0].deadline - self._now()
        return seconds if seconds > 0 else 0.0

    def abort(self, wait=False):
        """Stop the loop after its current pass; with ``wait``, switch to it until then."""
        if self.running:
            self.stopping = True
        if wait:
            assert self._greenlet is not getcurrent(), "Can't abort with wait from inside the hub's greenlet."
            self.schedule_call_global(0, _noop)  # so the loop does not sleep
            self.switch()

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
        if self.destroyed:
            raise HubDestroyed("a destroyed hub cannot run")
        waker = Waker()
        try:
            self._waker_listener = self.add(READ, waker.fileno(), self._on_wake, ignore_throw, None)
        except BaseException:
            waker.close()
            raise
        self._waker = waker

    def _on_wake(self, fileno):
        if self._waker is not None:
            self._waker.drain()
        run_calls(self._calls, self)

    def _drop_waker(self):
        waker, listener = self._waker, self._waker_listener
        self._waker = self._waker_listener = None
        if listener is not None:
            self.remove(listener)
        if waker is not None:
            waker.close()

    def reinit(self):
        """Give the hub its own kernel state in a forked child.

        eventhub calls this for the forking thread's hub (``os.register_at_fork``).
        The poller is replaced by a fresh one holding every live listener, the
        waker by a new one; nothing the parent shares is modified, so the
        parent is unaffected.  Greenthreads and timers carry on.
        """
        if self.destroyed:
            return
        self._calls.clear()  # queued for the parent's copy of this hub
        self._reinit_poller()
        running = self._waker is not None
        self._drop_waker()
        if running:
            # A new waker now, not at the loop's next pass: the loop may be
            # in the middle of a pass, about to block, and calls from the
            # child's own threads must wake it.
            self._start_waker()

    def _reinit_poller(self):
        """Replace shared kernel poller state after fork (backends with any override)."""

    def destroy(self):
        """Release the hub's OS resources; idempotent (backends extend).

        Afterwards ``add()``, scheduling a timer, ``call_threadsafe()`` and
        running the loop raise ``HubDestroyed``.  A running loop stops at its
        next pass.  Called automatically when the hub's thread ends and by
        ``use_hub()``.
        """
        if self.destroyed:
            return
        self._drop_waker()
        self.destroyed = True
        self._calls.clear()
        if self.running:
            self.stopping = True

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
