"""The asyncio hub: greenthreads on an asyncio event loop, opt-in only.

Never chosen by default; select it with ``use_hub("asyncio")`` or
``EVENTHUB_HUB=asyncio``.  The hub's waits are the loop's: each fd with a
listener is registered with ``loop.add_reader``/``add_writer``, and the
hub's own timer queue is driven by one loop timer armed for its earliest
deadline.  A hub *pass* (cross-thread calls, ``IOClosed`` deliveries, due
timers) is a loop callback, so greenthreads and coroutines take turns on
one loop, and ``eventhub.asyncio`` lets each await the other.

Which loop (see ``eventhub.hubs.aioloop``): created while a loop runs in its
thread, the hub adopts that loop and the greenlet running it; otherwise it
makes one with ``loop_factory`` (``asyncio.new_event_loop`` by default, so
``uvloop.install()`` applies) and runs it from its MAINLOOP greenlet.
``Hub`` is the compiled variant when built, else ``PureHub``.

A socket's loop registration outlives its last listener (it is *parked*:
no loop call, as the epolls hub keeps its epoll registration): the next
wait on it only checks, with one ``fstat``, that the same socket is still
open on that number; a parked fd that fires with nobody waiting is dropped
then.  That saves an ``add_reader``/``remove_reader`` pair per wait.
Other files are unregistered at once (``aioloop.file_identity`` says why).

Where greenlets switch: only in callbacks the loop runs from its ready
queue (``call_soon``), on a loop whose dispatch is written in C (uvloop).
libuv's fd and timer dispatch keeps pointers into its own C stack frame
(the array of epoll events, the queue of due timers) and writes through
them when a handle stops; greenlets share one C stack, so a greenthread
switched to from inside that dispatch may have its own frames where
libuv's were, and libuv's writes corrupt them.  On such loops the fd and
timer callbacks only note what is due, and the next pass switches.
asyncio's own loops dispatch everything from the ready queue in Python,
so there the callbacks switch at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from typing import Any, Callable

from eventhub.hubs._variant import choose_hub
from eventhub.hubs.aioloop import (
    bind_loop,
    closed_loop_error,
    dispatches_in_c,
    drop_stale_registration,
    file_identity,
    forget_fd,
    loop_method,
    queues_io_after_callbacks,
    refresh_selector,
    still_ready,
    unwind,
)
from eventhub.hubs.errors import HubDestroyed
from eventhub.hubs.hub import READ, WRITE, BaseHub

_READING = 1
_WRITING = 2


def is_available() -> bool:
    """asyncio is part of Python: always True."""
    return True


class PureHub(BaseHub):
    """The asyncio hub in Python: the reference implementation."""

    #: Makes the hub's own loop when none runs in its thread; None means
    #: ``asyncio.new_event_loop`` (a subclass may set e.g. ``uvloop.new_event_loop``).
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        loop, adopter = bind_loop(self.loop_factory)
        #: The asyncio event loop this hub's waits are made on.
        self.loop: asyncio.AbstractEventLoop = loop
        #: True when the hub made the loop (and runs and closes it).
        self.owns_loop = adopter is None
        self._registered: dict[int, int] = {}  # fd -> _READING|_WRITING the loop holds
        self._files: dict[int, tuple[int, int] | None] = {}  # fd -> file_identity() when registered
        self._parked: set[int] = set()  # registered fds without listeners
        self._pass_handle: Any = None  # the loop callback of the next pass, if any
        # Passes run in a context of their own (greenthreads have theirs), not
        # in a copy of whatever context scheduled them: no copy per pass.
        self._pass_context = contextvars.Context()
        self._timer_handle: Any = None  # the loop timer armed for ...
        self._timer_deadline = math.inf  # ... this deadline
        self._in_pass = False  # a pass is on the stack: it arms the loop timer when done
        # A pass ran since this loop iteration's poll: readiness it found may be
        # stale (greenthreads read meanwhile), so fd callbacks re-check it.
        self._recheck_io = False
        self._io_after_callbacks = queues_io_after_callbacks(loop)
        self._io_in_pass = dispatches_in_c(loop)  # see the module docstring
        self._ready_io: list[tuple[int, str]] = []  # noted by fd callbacks, for the next pass
        #: Set in a forked child whose loop is the parent's (see _forsake_loop).
        self.forked_away = False
        self._waited: set[tuple[int, str]] | None = None  # inside wait(): the fd events dispatched
        if adopter is not None:
            self.greenlet = adopter
            self.running = True  # for as long as its owner runs the loop

    @property
    def method(self) -> str:
        """The kernel mechanism the loop waits with ("epoll" on Linux)."""
        return loop_method(self.loop)

    # -- passes ----------------------------------------------------------------

    def _soon(self) -> None:
        """Make sure a pass runs on the loop's next iteration."""
        if self._pass_handle is None and self.running:
            try:  # (not is_closed() first: one loop method call per pass less)
                self._pass_handle = self.loop.call_soon(self._loop_pass, context=self._pass_context)
            except RuntimeError:
                if self.loop.is_closed():
                    raise closed_loop_error(self.loop) from None
                raise

    def _loop_pass(self) -> None:
        """The loop callback ``_soon`` queues: the hub's pass, then arm the next."""
        self._pass_handle = None
        if not self.running:
            return
        if self.stopping:
            self.loop.stop()
            return
        self._in_pass = True
        if self._io_after_callbacks and not self._recheck_io and self._registered:
            # (Nothing registered: no fd callback of this poll is queued.)
            self._recheck_io = True
            self.loop.call_soon(self._io_fresh)  # runs before the next poll's handles
        try:
            if self._ready_io:
                self._fire_ready_io()
            self._pass()
            if type(self).wait is not PureHub.wait or "wait" in self.__dict__:
                self.wait(self._sleep_time())  # an override still sees each pass's wait
        finally:
            self._in_pass = False
        self._arm()

    def _io_fresh(self) -> None:
        self._recheck_io = False

    def _on_timer(self) -> None:
        self._timer_handle = None
        self._timer_deadline = math.inf
        if self._io_in_pass:
            self._soon()  # not from inside libuv's timer dispatch
        else:
            self._loop_pass()

    def _arm(self) -> None:
        """After a pass: the next one soon, at the earliest deadline, or never."""
        if self.closed or self.stopping or self._calls:
            self._soon()
            return
        when = self.sleep_until()
        if when is None:
            self._disarm()
            return
        delay = when - self.clock()
        if delay <= 0:
            self._soon()
            return
        if self._timer_handle is not None:
            if self._timer_deadline == when:
                return
            self._timer_handle.cancel()
        self._timer_deadline = when
        self._timer_handle = self.loop.call_later(delay, self._on_timer)

    def _disarm(self) -> None:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
            self._timer_deadline = math.inf

    def _timer_added(self, deadline: float) -> None:
        # Outside a pass (from an fd callback's greenthread, a coroutine, the
        # main greenlet before it switches): nobody re-arms after this, so a
        # deadline earlier than the armed one needs a pass now.
        if not self._in_pass and deadline < self._timer_deadline:
            self._soon()

    # -- timers: as the base class, plus telling the loop ----------------------

    def schedule_call_global(self, seconds: float, cb: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Call ``cb(*args, **kw)`` after ``seconds``, whatever happens meanwhile."""
        timer = super().schedule_call_global(seconds, cb, *args, **kw)
        self._timer_added(timer.scheduled_time)  # type: ignore[arg-type]  # set: it is queued
        return timer

    def schedule_call_local(self, seconds: float, cb: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Like ``schedule_call_global`` but skipped if the calling greenthread died."""
        timer = super().schedule_call_local(seconds, cb, *args, **kw)
        self._timer_added(timer.scheduled_time)  # type: ignore[arg-type]  # set: it is queued
        return timer

    def add_timer(self, timer: Any) -> float:
        """Queue any timer object with ``.seconds``, ``.called`` and ``__call__``."""
        deadline = super().add_timer(timer)
        self._timer_added(deadline)
        return deadline

    # -- fds -------------------------------------------------------------------

    def _update_interest(self, fileno: int) -> None:
        if self.forked_away:
            return
        have = self._registered.get(fileno, 0)
        want = (_READING if fileno in self.listeners[READ] else 0) | (_WRITING if fileno in self.listeners[WRITE] else 0)
        if want and fileno in self._parked:
            self._parked.discard(fileno)
            try:
                same_file = file_identity(fileno) == self._files[fileno]
            except OSError:
                same_file = False
            if not same_file:  # closed behind the hub's back (and the number maybe reused)
                self._drop(fileno)
                have = 0
        # With no listener left a socket's read registration stays (parked); a
        # write one goes, as a socket is nearly always writable and would fire at once.
        target = want or (have & _READING if self._files.get(fileno) is not None else 0)
        if target != have:
            self._register(fileno, have, target)
        if target and not want:
            self._parked.add(fileno)

    def _register(self, fileno: int, have: int, target: int) -> None:
        """Change ``fileno``'s loop registration from ``have`` to ``target``."""
        if not have:
            # Raises for a closed fd: loops differ on one, refuse it the same way on all.
            self._files[fileno] = file_identity(fileno)
        loop = self.loop
        if target & _READING and not have & _READING:
            loop.add_reader(fileno, self._on_readable, fileno)
        elif have & _READING and not target & _READING:
            loop.remove_reader(fileno)
        if target & _WRITING and not have & _WRITING:
            try:
                loop.add_writer(fileno, self._on_writable, fileno)
            except BaseException:
                if target & _READING and not have & _READING:
                    loop.remove_reader(fileno)  # roll back: add() leaves nothing behind
                raise
        elif have & _WRITING and not target & _WRITING:
            loop.remove_writer(fileno)
        if target:
            self._registered[fileno] = target
        else:
            del self._registered[fileno]
            del self._files[fileno]
            drop_stale_registration(loop, fileno)

    def _unrecord(self, fileno: int) -> int:
        """Clear the hub's record of ``fileno``'s registration; return the directions the loop holds."""
        self._parked.discard(fileno)
        self._files.pop(fileno, None)
        return self._registered.pop(fileno, 0)

    def _drop(self, fileno: int) -> None:
        """Unregister a parked fd from the loop (it fired, or its file changed)."""
        have = self._unrecord(fileno)
        forget_fd(self.loop, fileno, bool(have & _READING), bool(have & _WRITING))
        drop_stale_registration(self.loop, fileno)

    def _forget(self, fileno: int) -> None:
        have = self._unrecord(fileno)
        if self.forked_away:
            return
        try:
            forget_fd(self.loop, fileno, bool(have & _READING), bool(have & _WRITING))
        finally:
            if self.closed:
                self._soon()  # the next pass throws IOClosed into the waiters

    def _on_readable(self, fileno: int) -> None:
        if fileno in self._parked:
            self._drop(fileno)  # nobody waits on it: the loop stops reporting it
            return
        if self._waited is not None and self._first_in_wait((fileno, READ)):
            return
        if self._io_in_pass:
            self._ready_io.append((fileno, READ))
            self._soon()
            return
        if self._recheck_io and not still_ready(fileno, False):
            return
        self._fire(self.listeners[READ].get(fileno), fileno)

    def _on_writable(self, fileno: int) -> None:
        if self._waited is not None and self._first_in_wait((fileno, WRITE)):
            return
        if self._io_in_pass:
            self._ready_io.append((fileno, WRITE))
            self._soon()
            return
        if self._recheck_io and not still_ready(fileno, True):
            return
        self._fire(self.listeners[WRITE].get(fileno), fileno)

    def _fire_ready_io(self) -> None:
        """Wake the waiters of the fd events noted since the last pass."""
        ready, self._ready_io = self._ready_io, []
        for fileno, evtype in ready:
            # Greenthreads woken before this one may have drained it.
            if still_ready(fileno, evtype is WRITE):
                self._fire(self.listeners[evtype].get(fileno), fileno)

    def _first_in_wait(self, event: tuple[int, str]) -> bool:
        """In wait(): True if ``event`` was dispatched already.

        wait() dispatches one batch, as a poller's wait does: the first
        dispatch stops the loop, but uvloop stops only after another poll,
        which must not fire the same level-triggered fd twice.
        """
        waited = self._waited
        assert waited is not None
        if event in waited:
            return True
        waited.add(event)
        self.loop.stop()
        return False

    # -- the loop ----------------------------------------------------------------

    def wait(self, seconds: float) -> None:
        """Run the loop until an fd is dispatched or ``seconds`` pass (no hub pass).

        While the loop runs (this is called from inside it, at the end of a
        pass, when ``wait`` is overridden), it returns at once: the loop
        waits as soon as the pass returns to it.
        """
        loop = self.loop
        if loop.is_running():
            return
        self._waited = set()
        stop = loop.call_later(seconds, loop.stop) if seconds > 0 else loop.call_soon(loop.stop)
        try:
            loop.run_forever()
        finally:
            stop.cancel()
            self._waited = None
        if self._ready_io:
            self._fire_ready_io()

    def run(self, *a: Any, **kw: Any) -> None:
        """The MAINLOOP: run the hub's own loop until ``abort()``."""
        if self.running:
            raise RuntimeError("Already running!")
        if self.destroyed:
            raise HubDestroyed("a destroyed hub cannot run")
        if self.loop.is_running():
            raise RuntimeError("the hub's asyncio loop is already being run by someone else")
        self.running = True
        self.stopping = False
        try:
            self._soon()
            self.loop.run_forever()
            if self.stopping:  # abort(), as the other hubs: pending timers are dropped
                self._drop_timers()
        finally:
            self._loop_ended()

    def _loop_ended(self) -> None:
        self.running = False
        self.stopping = False
        self._disarm()
        if self._pass_handle is not None:
            self._pass_handle.cancel()
            self._pass_handle = None
        if self.destroyed and self.owns_loop and not self.loop.is_closed():
            self.loop.close()

    def abort(self, wait: bool = False) -> None:
        """Stop the loop after its current pass; with ``wait``, switch to it until then.

        A hub on an adopted loop does not stop that loop (its owner does).
        """
        if self.running and self.owns_loop:
            self.stopping = True
            self._soon()
        super().abort(wait)

    # -- threads, fork, lifetime ---------------------------------------------------

    def call_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on this hub's thread soon; callable from any thread.

        ``fn`` runs in a hub pass, like a timer callback; the loop is woken
        with ``loop.call_soon_threadsafe``.
        """
        super().call_threadsafe(fn, *args)
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            if self.loop.is_closed():
                raise closed_loop_error(self.loop) from None
            raise

    def _wake(self) -> None:
        if self._calls:
            self._soon()

    def _start_waker(self) -> None:
        """No waker descriptor: the loop's own (``call_soon_threadsafe``) wakes it."""

    def _reinit_poller(self) -> None:
        if not refresh_selector(self.loop):
            self._forsake_loop()

    def _forsake_loop(self) -> None:
        """In a forked child, on a loop that cannot be given kernel state of
        its own (uvloop): destroyed, and never touching the loop again, whose
        epoll set the parent still uses."""
        self.forked_away = True
        self.destroyed = True

    def destroy(self) -> None:
        """Drop every registration and timer handle; close the loop if the hub made it."""
        if self.destroyed:
            return
        super().destroy()
        for fileno in list(self._registered):
            try:
                self._forget(fileno)
            except OSError:
                pass  # closed meanwhile: the loop dropped it itself
        if self.loop.is_closed():
            return
        if self.running and self.owns_loop:
            unwind(self._greenlet)  # run() closes the loop as it ends
            if self.running:  # destroyed from inside the loop: its next pass stops it
                self._soon()
                return
        self._loop_ended()


#: The compiled twin's hub (None when unbuilt or disabled), the hub this
#: backend offers (it, else ``PureHub``), and which variant that is:
#: "compiled", "pure" or "unavailable".
CompiledHub, Hub, VARIANT = choose_hub("_asyncio", PureHub)
