"""Pure-Python BaseHub: the reference semantics of every eventhub hub.

A hub owns three things: the listeners (who waits on which fd, in which
direction), the timer queue, and the MAINLOOP greenlet that runs ``run()``.
Greenthreads park themselves with ``switch()``; the loop fires due timers,
polls for I/O with ``wait()`` (the one method a backend must provide), and
switches back to whoever is ready.  The compiled core (``_core.pyx``) keeps
exactly this behaviour; the contract tests run against both.
"""

from __future__ import annotations

import collections
import errno
import heapq
import itertools
import math
import numbers
import signal
import sys
import time
import traceback
from typing import Any, Callable, Final, Literal

import greenlet

from eventhub.hubs.errors import HubDestroyed, IOClosed
from eventhub.hubs.listener import DebugListener, FdListener
from eventhub.hubs.timer import LocalTimer, Timer
from eventhub.hubs.waker import Waker, ignore_throw, run_calls

READ: Final = "read"
WRITE: Final = "write"

_INF = math.inf
_new_timer = object.__new__

#: The largest number a file descriptor (a C int) can have.
MAX_FD = 2**31 - 1

#: Below this many queued timers, cancelled ones are never compacted.
COMPACT_MIN_TIMERS = 1000


def as_fileno(fd: Any) -> int:
    """Return the descriptor number of an int or of an object with ``fileno()``."""
    if type(fd) is not int:
        fileno = getattr(fd, "fileno", None)
        if fileno is not None:
            fd = fileno()
        if type(fd) is not int:
            if isinstance(fd, int) and not isinstance(fd, bool):
                fd = int(fd)
            else:
                raise TypeError(f"expected a file descriptor (int) or an object with fileno(), got {type(fd).__name__}")
    number: int = fd
    if number < 0:
        raise ValueError(f"file descriptor cannot be negative: {number}")
    if number > MAX_FD:
        raise ValueError(f"file descriptor out of range: {number}")
    return number


def as_delay(seconds: Any) -> float:
    """Validate a timer delay: a finite real number; negative means now."""
    t = type(seconds)
    if t is not float and t is not int:
        if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
            raise TypeError(f"a delay must be a number of seconds, not {t.__name__}")
        seconds = float(seconds)
    if seconds != seconds or seconds in (math.inf, -math.inf):
        raise ValueError(f"a delay must be a finite number of seconds, not {seconds!r}")
    return seconds if seconds > 0 else 0


def root_greenlet() -> greenlet.greenlet:
    """The current thread's main greenlet (the one with no parent)."""
    g = greenlet.getcurrent()
    while g.parent is not None:
        g = g.parent
    return g


def _alarm_handler(signum: int, frame: Any) -> None:
    raise RuntimeError("Blocking detector ALARMED at" + "".join(traceback.format_stack(frame)))


class BaseHub:
    """Listeners, timers and the run loop; subclasses provide ``wait()``."""

    SYSTEM_EXCEPTIONS: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit)
    READ: Final[Literal["read"]] = READ
    WRITE: Final[Literal["write"]] = WRITE
    #: The exception class thrown into greenthreads whose fd was closed or
    #: reused; called as ``IOClosed(errno.ENOTCONN, "Operation on closed file")``.
    #: An adapter overrides it (eventlet's green sockets catch their own class).
    IOClosed: type[BaseException] = IOClosed

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.listeners: dict[str, dict[int, FdListener]] = {READ: {}, WRITE: {}}
        self.secondaries: dict[str, dict[int, list[FdListener]]] = {READ: {}, WRITE: {}}
        self.closed: list[FdListener] = []
        self.clock: Callable[[], float] = time.monotonic if clock is None else clock
        self._greenlet: greenlet.greenlet | None = None
        self.stopping = False
        self.running = False
        # The timer queue: entries (deadline, sequence, timer) that came in
        # order (every sleep(0) and spawn does, on a monotonic clock) wait in
        # a FIFO, the rest in a heap; firing merges the two.  The FIFO saves
        # a heap push and pop per timer.
        self._in_order: collections.deque[tuple[float, int, Any]] = collections.deque()
        self._heap: list[tuple[float, int, Any]] = []
        self.next_timers: list[tuple[float, int, Any]] = []
        self._timer_seq = itertools.count()
        self.timers_canceled = 0
        self.lclass: type[FdListener] = FdListener
        self.debug_exceptions = True
        self.debug_blocking = False
        self.debug_blocking_resolution = 1.0
        self.prevent_multiple_readers = True
        self._old_signal_handler: Any = None
        self.destroyed = False
        self._waker: Waker | None = None  # created by the loop's first pass
        self._waker_listener: FdListener | None = None
        self._calls: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = collections.deque()

    # -- the MAINLOOP greenlet ------------------------------------------------

    @property
    def greenlet(self) -> greenlet.greenlet:
        """The MAINLOOP greenlet, created on first use.

        Its parent is the thread's root greenlet, whoever touched it first, so
        the loop's end and KeyboardInterrupt/SystemExit reach the main greenlet.
        """
        g = self._greenlet
        if g is None:
            g = self._greenlet = greenlet.greenlet(self.run, root_greenlet())
        return g

    @greenlet.setter
    def greenlet(self, value: greenlet.greenlet) -> None:
        self._greenlet = value

    def ensure_greenlet(self) -> None:
        """Replace a dead MAINLOOP; greenlets parented to the old one follow it."""
        old = self.greenlet
        if old.dead:
            new = greenlet.greenlet(self.run, old.parent)
            old.parent = new
            self._greenlet = new

    def switch(self) -> Any:
        """Park the current greenlet and run the loop until someone switches back."""
        cur = greenlet.getcurrent()
        loop = self._greenlet
        if loop is None or loop.dead:
            self.ensure_greenlet()
            loop = self._greenlet
            assert loop is not None
        if cur is loop:
            raise RuntimeError(
                "a blocking call (sleep, trampoline, wait, ...) was made from the hub's own "
                "greenlet (MAINLOOP); make it from a greenthread instead"
            )
        switch_out = getattr(cur, "switch_out", None)
        if switch_out is not None:
            try:
                switch_out()
            except Exception:
                self.squelch_generic_exception(sys.exc_info())
        # Re-parent cur to the loop (not when the loop descends from cur, as
        # the main greenlet: a cycle); reading first skips a no-op setter.
        if cur.parent is not loop and loop.parent is not cur:
            try:
                cur.parent = loop
            except ValueError:
                pass  # cur is an ancestor of the loop (e.g. the main greenlet)
        return loop.switch()

    # -- listeners ------------------------------------------------------------

    def add(
        self,
        evtype: str,
        fileno: Any,
        cb: Callable[[int], Any],
        tb: Callable[[BaseException], Any],
        mark_as_closed: Callable[[], Any] | None,
    ) -> FdListener:
        """Call ``cb(fileno)`` whenever ``fileno`` is ready for ``evtype``.

        Raises ``ValueError``/``TypeError``/``OSError`` for a bad fd or
        callback, and then leaves no trace of the listener behind.
        """
        if evtype is not READ and evtype is not WRITE:
            if evtype == READ:
                evtype = READ
            elif evtype == WRITE:
                evtype = WRITE
            else:
                raise ValueError(f"evtype must be {READ!r} or {WRITE!r}, not {evtype!r}")
        if self.destroyed:
            raise HubDestroyed("add() on a destroyed hub")
        fileno = as_fileno(fileno)
        if not callable(cb) or not callable(tb):
            raise TypeError("the listener's cb and tb must be callable")
        if mark_as_closed is not None and not callable(mark_as_closed):
            raise TypeError("mark_as_closed must be callable or None")
        listener = self.lclass(evtype, fileno, cb, tb, mark_as_closed)
        bucket = self.listeners[evtype]
        if fileno in bucket:
            if self.multiple_readers_prevented():
                raise RuntimeError(
                    f"Second simultaneous {evtype} on fileno {fileno} detected. Unless you "
                    f"really know what you're doing, make sure that only one greenthread can "
                    f"{evtype} any particular socket; to allow it, set the hub's "
                    f"prevent_multiple_readers to False. MY THREAD={cb!r}; "
                    f"THAT THREAD={bucket[fileno].cb!r}"
                )
            self.secondaries[evtype].setdefault(fileno, []).append(listener)
            return listener
        bucket[fileno] = listener
        try:
            self._update_interest(fileno)
        except BaseException:
            del bucket[fileno]
            listener.spent = True
            raise
        return listener

    def remove(self, listener: FdListener) -> None:
        """Stop a listener; a queued secondary takes its place. No-op if spent."""
        if listener.spent:
            return
        listener.spent = True
        fileno = listener.fileno
        evtype = listener.evtype
        bucket = self.listeners[evtype]
        if bucket.get(fileno) is listener:
            queue = self.secondaries[evtype].get(fileno)
            if queue:
                bucket[fileno] = queue.pop(0)
                if not queue:
                    del self.secondaries[evtype][fileno]
                return
            del bucket[fileno]
            try:
                self._update_interest(fileno)
            except OSError:
                pass  # the fd was closed under us; the kernel forgot it already
        else:
            queue = self.secondaries[evtype].get(fileno)
            if queue and listener in queue:
                queue.remove(listener)
                if not queue:
                    del self.secondaries[evtype][fileno]

    def _obsolete(self, fileno: int) -> None:
        """Defang every listener on ``fileno``; their greenthreads get IOClosed."""
        for evtype in (READ, WRITE):
            for listener in self.secondaries[evtype].pop(fileno, ()):
                self.closed.append(listener)
                listener.defang()
            primary = self.listeners[evtype].pop(fileno, None)
            if primary is not None:
                self.closed.append(primary)
                primary.defang()
        try:
            self._forget(fileno)
        except OSError:
            pass  # the fd was closed under us; the kernel forgot it already

    def mark_as_reopened(self, fileno: int) -> None:
        """The OS handed out ``fileno`` again: whoever waited on the old one is told."""
        self._obsolete(fileno)

    def notify_close(self, fileno: int) -> None:
        """``fileno`` is about to be closed: waiters on it get IOClosed, not a hang."""
        self._obsolete(fileno)

    def remove_descriptor(self, fileno: int) -> None:
        """Drop every listener on ``fileno``, waking each so it sees the error itself."""
        woken: list[FdListener] = []
        for evtype in (READ, WRITE):
            woken.extend(self.secondaries[evtype].pop(fileno, ()))
            listener = self.listeners[evtype].pop(fileno, None)
            if listener is not None:
                woken.append(listener)
        try:
            self._forget(fileno)
        except OSError:
            pass  # the fd is already gone from the kernel's view
        for listener in woken:
            listener.spent = True
            try:
                listener.cb(fileno)
            except self.SYSTEM_EXCEPTIONS:
                raise
            except BaseException:
                self.squelch_generic_exception(sys.exc_info())

    def close_one(self) -> None:
        """Throw IOClosed into the greenthread of one obsoleted listener."""
        listener = self.closed.pop()
        if not listener.greenlet.dead:
            try:
                listener.tb(self.IOClosed(errno.ENOTCONN, "Operation on closed file"))
            except self.SYSTEM_EXCEPTIONS:
                raise
            except BaseException:
                # The greenthread did not handle it and died: its error ends
                # here (printed), like one raised from a timer or fd callback.
                self.squelch_generic_exception(sys.exc_info())

    def _update_interest(self, fileno: int) -> None:
        """Tell the poller what ``fileno``'s listeners now want (backends override)."""

    def _forget(self, fileno: int) -> None:
        """``fileno`` has no listener left and may be closed: the poller must
        keep nothing for it (backends that keep idle registrations override)."""
        self._update_interest(fileno)

    def _interest_mask(self, fileno: int, read_mask: int, write_mask: int) -> int:
        """The poller mask ``fileno``'s listeners need, from the backend's bits."""
        mask = read_mask if fileno in self.listeners[READ] else 0
        if fileno in self.listeners[WRITE]:
            mask |= write_mask
        return mask

    def multiple_readers_prevented(self) -> bool:
        """Whether ``add()`` refuses a second listener on one fd and direction.

        Consulted only when that happens; an adapter overrides it to follow
        its framework's own switch (eventlet keeps a module global).
        """
        return self.prevent_multiple_readers

    def get_readers(self) -> list[FdListener]:
        waker = self._waker_listener
        return [x for x in self.listeners[READ].values() if x is not waker]

    def get_writers(self) -> list[FdListener]:
        return list(self.listeners[WRITE].values())

    def set_debug_listeners(self, value: bool) -> None:
        self.lclass = DebugListener if value else FdListener

    # -- dispatch helpers for backends -----------------------------------------

    def _fire(self, listener: FdListener | None, fileno: int) -> None:
        """Run one readiness callback, squelching (and printing) its errors."""
        if listener is None:
            return
        try:
            listener.cb(fileno)
        except self.SYSTEM_EXCEPTIONS:
            raise
        except BaseException:
            self.squelch_exception(fileno, sys.exc_info())

    def squelch_exception(self, fileno: int, exc_info: Any) -> None:
        if self.debug_exceptions:
            traceback.print_exception(*exc_info)
            sys.stderr.write(f"Removing descriptor: {fileno!r}\n")
            sys.stderr.flush()
        try:
            self.remove_descriptor(fileno)
        except Exception as e:
            sys.stderr.write(f"Exception while removing descriptor! {e!r}\n")
            sys.stderr.flush()

    def squelch_generic_exception(self, exc_info: Any) -> None:
        if self.debug_exceptions:
            traceback.print_exception(*exc_info)
            sys.stderr.flush()

    def squelch_timer_exception(self, timer: Any, exc_info: Any) -> None:
        if self.debug_exceptions:
            traceback.print_exception(*exc_info)
            sys.stderr.flush()

    def set_timer_exceptions(self, value: bool) -> None:
        self.debug_exceptions = value

    # -- timers ---------------------------------------------------------------

    def add_timer(self, timer: Any) -> float:
        """Queue any timer object with ``.seconds``, ``.called`` and ``__call__``."""
        if self.destroyed:  # its loop will never run again: the timer would be lost
            raise HubDestroyed("a timer cannot be scheduled on a destroyed hub")
        seconds = timer.seconds
        kind = type(seconds)
        if (kind is float or kind is int) and 0 <= seconds < _INF:
            deadline: float = self.clock() + seconds  # the common case, validated inline
        else:
            deadline = self.clock() + as_delay(seconds)
        # Timers added while timers fire wait in next_timers for the next pass;
        # the sequence number keeps equal deadlines in scheduling order.
        self.next_timers.append((deadline, next(self._timer_seq), timer))
        if isinstance(timer, Timer):
            timer.scheduled_time = deadline
            timer._hub = self
        return deadline

    def timer_canceled(self, timer: Any) -> None:
        """Count a cancellation; compact the queues when most entries are dead."""
        canceled = self.timers_canceled = self.timers_canceled + 1
        if 2 * canceled <= COMPACT_MIN_TIMERS:
            return  # too few to matter: skip counting the queues
        total = len(self._in_order) + len(self._heap) + len(self.next_timers)
        if total > COMPACT_MIN_TIMERS and total <= 2 * canceled:
            self.timers_canceled = 0
            # In place: fire_timers() may be popping from these very queues
            # (a timer callback cancelled the timers that tipped the count).
            in_order = [t for t in self._in_order if not t[2].called]
            self._in_order.clear()
            self._in_order.extend(in_order)
            self._heap[:] = [t for t in self._heap if not t[2].called]
            heapq.heapify(self._heap)
            self.next_timers[:] = [t for t in self.next_timers if not t[2].called]

    def prepare_timers(self) -> None:
        """Move the timers added since the last pass into the queue proper."""
        heappush = heapq.heappush
        in_order, heap = self._in_order, self._heap
        for item in self.next_timers:
            if item[2].called:
                self.timers_canceled -= 1
            elif not in_order or in_order[-1][0] <= item[0]:
                in_order.append(item)  # a later sequence number: still in order
            else:
                heappush(heap, item)
        del self.next_timers[:]

    @property
    def timers(self) -> list[tuple[float, int, Any]]:
        """A snapshot of the timer queue: ``[(deadline, seq, timer), ...]`` in firing order."""
        return sorted([*self._in_order, *self._heap])

    def schedule_call_global(self, seconds: float, cb: Callable[..., Any], *args: Any, **kw: Any) -> Timer:
        """Call ``cb(*args, **kw)`` after ``seconds``, whatever happens meanwhile."""
        if not callable(cb):
            raise TypeError(f"timer callback must be callable, not {type(cb).__name__}")
        # Timer(seconds, cb, *args, **kw) and add_timer(t), inline: every
        # sleep(), spawn() and Timeout comes here, and those two Python calls
        # were a tenth of a sleep(0).  Like the compiled hub, this queues
        # the timer itself: an add_timer() override is not called.
        if self.destroyed:
            raise HubDestroyed("a timer cannot be scheduled on a destroyed hub")
        t = _new_timer(Timer)
        t.seconds = seconds
        t.called = False
        t._cb = cb
        t._args = args
        t._kw = kw or None  # an empty dict per pending timer is memory for nothing
        kind = type(seconds)
        if (kind is float or kind is int) and 0 <= seconds < _INF:
            deadline: float = self.clock() + seconds
        else:
            deadline = self.clock() + as_delay(seconds)
        self.next_timers.append((deadline, next(self._timer_seq), t))
        t.scheduled_time = deadline
        t._hub = self
        return t

    def schedule_call_local(self, seconds: float, cb: Callable[..., Any], *args: Any, **kw: Any) -> Timer:
        """Like ``schedule_call_global`` but skipped if the calling greenthread died."""
        if not callable(cb):
            raise TypeError(f"timer callback must be callable, not {type(cb).__name__}")
        t = LocalTimer(seconds, cb, *args, **kw)
        BaseHub.add_timer(self, t)  # not an override: as schedule_call_global
        return t

    def fire_timers(self, when: float) -> None:
        in_order, heap = self._in_order, self._heap
        heappop = heapq.heappop
        while True:
            # The earlier of the two queues' first entries, if it is due.
            if in_order:
                item = in_order[0]
                if heap and heap[0] < item:
                    item = heap[0]
                    if when < item[0]:
                        break
                    heappop(heap)
                else:
                    if when < item[0]:
                        break
                    in_order.popleft()
            elif heap:
                item = heap[0]
                if when < item[0]:
                    break
                heappop(heap)
            else:
                break
            timer = item[2]
            if timer.called:
                self.timers_canceled -= 1
                continue
            try:
                if type(timer) is Timer:
                    # Timer.__call__, inlined: one Python call less per
                    # timer, and every sleep(0) is one.
                    timer.called = True
                    cb, args, kw = timer._cb, timer._args, timer._kw
                    timer._cb = timer._args = timer._kw = None
                    if kw:
                        cb(*args, **kw)  # type: ignore[misc]
                    else:
                        cb(*args)  # type: ignore[misc]
                else:
                    timer()
            except self.SYSTEM_EXCEPTIONS:
                raise
            except BaseException:
                self.squelch_timer_exception(timer, sys.exc_info())

    def sleep_until(self) -> float | None:
        in_order, heap = self._in_order, self._heap
        if heap and (not in_order or heap[0][0] < in_order[0][0]):
            return heap[0][0]
        return in_order[0][0] if in_order else None

    def get_timers_count(self) -> int:
        return len(self._in_order) + len(self._heap) + len(self.next_timers)

    # -- the loop -------------------------------------------------------------

    def default_sleep(self) -> float:
        """How long to wait for I/O when no timer is due (seconds)."""
        return 60.0

    def wait(self, seconds: float) -> None:
        """Wait up to ``seconds`` for I/O and dispatch it (backends implement)."""
        raise NotImplementedError("a hub backend must implement wait()")

    def run(self, *a: Any, **kw: Any) -> None:
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
                self.wait(self._sleep_time())
            else:
                self._drop_timers()
        finally:
            self.running = False
            self.stopping = False

    def _pass(self) -> None:
        """One pass of the loop, all but its wait: every hub runs exactly this.

        Cross-thread calls, then ``IOClosed`` for obsoleted listeners, then
        the due timers (under blocking detection when it is on).  Timers
        added before the pass join the queue first; those added while it
        fires wait for the next pass, so ``sleep(0)`` lets a wait happen.
        """
        if self._calls:
            run_calls(self._calls, self)
        while self.closed:
            self.close_one()
        self.prepare_timers()
        if self.debug_blocking:
            self.block_detect_pre()
        self.fire_timers(self.clock())
        if self.debug_blocking:
            self.block_detect_post()
        self.prepare_timers()

    def _sleep_time(self) -> float:
        """How long the wait after a pass may block: until the next timer is due."""
        if self.closed or self.stopping:
            return 0.0  # IOClosed is due / abort() asked: don't block
        when = self.sleep_until()
        seconds = self.default_sleep() if when is None else when - self.clock()
        return seconds if seconds > 0 else 0.0

    def _drop_timers(self) -> None:
        """Forget every queued timer (the loop was aborted)."""
        self.timers_canceled = 0
        self._in_order.clear()
        del self._heap[:]
        del self.next_timers[:]

    def abort(self, wait: bool = False) -> None:
        """Stop the loop after its current pass; with ``wait``, switch to it until then."""
        if self.running:
            self.stopping = True
        if wait:
            assert self._greenlet is not greenlet.getcurrent(), "Can't abort with wait from inside the hub's greenlet."
            self.schedule_call_global(0, lambda: None)  # so the loop does not sleep
            self.switch()

    # -- threads, fork, lifetime ----------------------------------------------

    def call_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
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

    def _start_waker(self) -> None:
        if self.destroyed:
            raise HubDestroyed("a destroyed hub cannot run")
        waker = Waker()
        try:
            self._waker_listener = self.add(READ, waker.fileno(), self._on_wake, ignore_throw, None)
        except BaseException:
            waker.close()
            raise
        self._waker = waker

    def _on_wake(self, fileno: int) -> None:
        if self._waker is not None:
            self._waker.drain()
        run_calls(self._calls, self)

    def _drop_waker(self) -> None:
        waker, listener = self._waker, self._waker_listener
        self._waker = self._waker_listener = None
        if listener is not None:
            self.remove(listener)
        if waker is not None:
            waker.close()

    def reinit(self) -> None:
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

    def _reinit_poller(self) -> None:
        """Replace shared kernel poller state after fork (backends with any override)."""

    def destroy(self) -> None:
        """Release the hub's OS resources; idempotent.

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

    # -- blocking detection (SIGALRM, main thread only) -----------------------

    def block_detect_pre(self) -> None:
        previous = signal.signal(signal.SIGALRM, _alarm_handler)
        if previous != _alarm_handler:
            self._old_signal_handler = previous
        signal.setitimer(signal.ITIMER_REAL, self.debug_blocking_resolution)

    def block_detect_post(self) -> None:
        if self._old_signal_handler:
            signal.signal(signal.SIGALRM, self._old_signal_handler)
        signal.setitimer(signal.ITIMER_REAL, 0)
