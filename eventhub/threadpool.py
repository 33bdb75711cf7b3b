"""Thread offload: ``to_thread(fn, ...)`` runs a blocking call in a worker thread.

A blocking call (a C extension, a file system call, the stdlib resolver)
made in a greenthread stops its whole hub.  ``to_thread`` hands it to a
bounded pool of worker threads instead and parks only the calling
greenthread; the worker hands the outcome back through the hub's
thread-safe wake-up (``hub.call_threadsafe``), so any hub works, the
asyncio hub included, and greenthreads on several OS threads' hubs share
the one pool.

The pool is process-wide and starts its threads as calls need them, up to
``max_threads()``: ``set_max_threads(n)``, else the ``EVENTHUB_THREADS``
environment variable (a positive integer; empty means unset), else
``DEFAULT_MAX_THREADS``.  Calls beyond that wait their turn, first come,
first served.

A ``Timeout`` (or a kill) of a greenthread inside ``to_thread`` abandons the
call: one not yet started by a worker is never run; one already running
finishes in its thread and its result or exception is dropped.  Python
cannot interrupt a thread, so the worker is busy until the call returns.

Workers are daemon threads.  At interpreter exit the pool stops taking
calls, drops those not started, and ends its idle workers; a worker still
inside a call is not waited for.  In a child made by ``os.fork()`` the pool
starts afresh with no threads (the parent's do not exist there), and a
greenthread of the forking thread that was waiting on a call the child
never got raises ``RuntimeError``.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from typing import Any, Callable, ParamSpec, TypeVar

from greenlet import getcurrent

from eventhub.hubs import HubDestroyed, get_hub

P = ParamSpec("P")
T = TypeVar("T")

__all__ = ["DEFAULT_MAX_THREADS", "max_threads", "set_max_threads", "to_thread"]

#: The pool's size when neither ``set_max_threads`` nor ``EVENTHUB_THREADS`` says.
DEFAULT_MAX_THREADS: int = min(32, (os.cpu_count() or 1) + 4)

_ENV = "EVENTHUB_THREADS"


def _check_size(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, not {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{what} must be at least 1, not {n}")
    return n


def _size_from_environment() -> int:
    value = os.environ.get(_ENV, "")
    if not value:
        return DEFAULT_MAX_THREADS
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{_ENV} must be a positive integer, not {value!r}")
    return n


class _Call:
    """One ``to_thread`` call: what to run, who waits, and how it ended."""

    __slots__ = ("fn", "args", "kwargs", "hub", "waiter", "thread", "done", "result", "error")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], hub: Any, waiter: Any):
        self.fn: Callable[..., Any] | None = fn
        self.args = args
        self.kwargs = kwargs
        self.hub = hub
        #: The parked greenlet; None once it stopped waiting (done, or abandoned).
        self.waiter: Any = waiter
        self.thread = threading.get_ident()  # the waiter's OS thread
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """In a worker: make the call (unless abandoned first) and hand the outcome back."""
        fn = self.fn
        if self.waiter is None or fn is None:
            return  # abandoned before it started: never run
        try:
            self.result = fn(*self.args, **self.kwargs)
        except BaseException as e:
            # Drop this frame from the traceback: raised in the greenthread,
            # it then reads as a direct call of fn (and holds no cycle back to us).
            self.error = e.with_traceback(e.__traceback__.tb_next)  # type: ignore[union-attr]
        self.fn = None
        self.args = ()
        self.kwargs = {}
        self.done = True
        self.wake()

    def wake(self) -> None:
        """Have the waiter's hub resume it (nothing if it stopped waiting)."""
        if self.waiter is not None:
            try:
                self.hub.call_threadsafe(self.resume)
            except HubDestroyed:
                pass  # the waiter's thread ended: nobody to hand the outcome to

    def resume(self) -> None:
        """On the waiter's hub: switch back into the waiting greenthread."""
        waiter = self.waiter
        if waiter is not None and self.done:
            waiter.switch()


_STOP: Any = object()  # a worker that takes this from the queue ends


class _Pool:
    """The worker threads and the queue of calls they take, first come, first served."""

    def __init__(self, max_threads: int) -> None:
        self.max_threads = max_threads
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = 0  # workers started that have not taken a _STOP
        self._stopping = 0  # _STOPs resize() queued that no worker took yet
        # Idle workers minus queued jobs: > 0 means a call needs no new thread.
        self._spare = 0
        self._workers: dict[threading.Thread, list[bool]] = {}  # thread -> [busy]
        self._pending: set[_Call] = set()  # submitted, outcome not yet handed back
        self._closed = False
        self._started = 0  # threads ever started, for their names

    def submit(self, call: _Call) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("to_thread(): the thread pool has shut down (interpreter exit)")
            self._pending.add(call)
            start = self._spare <= 0 and self._threads < self.max_threads
            if start:
                self._threads += 1  # the new worker takes one queued job: _spare is unchanged
            else:
                self._spare -= 1
            self._jobs.put(call)
        if start:
            try:
                self._start_worker()
            except BaseException:
                call.waiter = None  # a worker that takes it skips it
                with self._lock:
                    self._threads -= 1
                    self._spare -= 1
                    self._pending.discard(call)
                raise

    def _start_worker(self) -> None:
        with self._lock:
            self._started += 1
            name = f"eventhub-worker-{self._started}"
        busy = [False]
        thread = threading.Thread(target=self._work, args=(busy,), name=name, daemon=True)
        with self._lock:
            self._workers[thread] = busy
        try:
            thread.start()
        except BaseException:
            with self._lock:
                del self._workers[thread]
            raise

    def _work(self, busy: list[bool]) -> None:
        jobs, lock, pending = self._jobs, self._lock, self._pending
        while True:
            call = jobs.get()
            if call is _STOP:
                with lock:
                    self._threads -= 1
                    if self._stopping > 0:
                        self._stopping -= 1
                    self._workers.pop(threading.current_thread(), None)
                return
            busy[0] = True
            call.run()
            busy[0] = False
            with lock:
                pending.discard(call)
                self._spare += 1

    def resize(self, max_threads: int) -> None:
        with self._lock:
            self.max_threads = max_threads
            # Surplus workers leave as they take a _STOP, in turn after the
            # calls queued before it; until then they count against the size.
            for _ in range(self._threads - self._stopping - max_threads):
                self._jobs.put(_STOP)
                self._spare -= 1
                self._stopping += 1
            # Queued calls that the larger size has room for get their workers now.
            grow = max(0, min(-self._spare, max_threads - self._threads))
            self._threads += grow
            self._spare += grow
        for started in range(grow):
            try:
                self._start_worker()
            except BaseException:
                with self._lock:
                    self._threads -= grow - started
                    self._spare -= grow - started
                raise

    def shutdown(self, timeout: float) -> None:
        """Stop taking calls, drop those not started, end the idle workers (waiting up to ``timeout``)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not _STOP:
                    job.waiter = None
                    self._pending.discard(job)
            for _ in range(len(self._workers)):
                self._jobs.put(_STOP)
            idle = [t for t, busy in self._workers.items() if not busy[0]]
        for thread in idle:
            thread.join(timeout)

    def orphaned_calls(self) -> list[_Call]:
        """The calls submitted and not yet handed back (read in a forked child)."""
        return list(self._pending)


_pool: _Pool | None = None
_pool_lock = threading.Lock()
_configured: int | None = None  # set_max_threads()'s value


def _get_pool() -> _Pool:
    global _pool
    pool = _pool
    if pool is None:
        with _pool_lock:
            pool = _pool
            if pool is None:
                pool = _pool = _Pool(_configured if _configured is not None else _size_from_environment())
    return pool


def max_threads() -> int:
    """How many worker threads the pool may run at once."""
    return _get_pool().max_threads


def set_max_threads(n: int) -> None:
    """Let the pool run up to ``n`` worker threads (overrides ``EVENTHUB_THREADS``).

    Callable at any time, from any thread.  When shrinking, surplus workers
    end after the calls already queued; calls running are never interrupted.
    """
    global _configured
    n = _check_size(n, "max_threads")
    with _pool_lock:
        _configured = n
        pool = _pool
    if pool is not None:
        pool.resize(n)


def to_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` in a worker thread; return its result or raise its exception.

    Only the calling greenthread waits; its hub runs the others meanwhile.
    The exception keeps its traceback (``fn``'s frames follow the caller's).
    Interrupted by a ``Timeout`` or a kill, the call is abandoned (see the
    module docstring).  ``fn`` runs outside every hub: it must not use
    greenthreads, ``eventhub.net`` sockets or hub calls of the caller's hub.
    """
    if not callable(fn):
        raise TypeError(f"to_thread() needs a callable, not {type(fn).__name__}")
    hub = get_hub()
    current = getcurrent()
    if current is hub.greenlet:
        raise RuntimeError("to_thread() was called from the hub's own greenlet; call it from a greenthread")
    call = _Call(fn, args, kwargs, hub, current)
    _get_pool().submit(call)
    try:
        while not call.done:
            hub.switch()
    except BaseException:
        call.waiter = None  # abandoned
        raise
    call.waiter = None
    error = call.error
    if error is not None:
        call.error = None
        try:
            raise error
        finally:
            del error
    result: T = call.result
    return result


def _shutdown_at_exit() -> None:
    pool = _pool
    if pool is not None:
        pool.shutdown(timeout=1.0)


def _start_afresh_after_fork() -> None:
    """In a forked child: a new, empty pool; the forking thread's waiters get what the child has of their calls."""
    global _pool, _pool_lock
    _pool_lock = threading.Lock()  # another thread may have held it at the fork
    old, _pool = _pool, None
    if old is None:
        return
    _pool = _Pool(old.max_threads)
    me = threading.get_ident()
    for call in old.orphaned_calls():
        if call.thread != me or call.waiter is None:
            continue  # its greenthread's OS thread does not exist in the child
        if not call.done:
            call.error = RuntimeError(
                "to_thread(): the process forked while this call was with a worker thread, "
                "which the child process does not have; the call is lost to the child"
            )
            call.done = True
        call.wake()  # also when done: the hand-back may have been queued on the parent's side


atexit.register(_shutdown_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_start_afresh_after_fork)
