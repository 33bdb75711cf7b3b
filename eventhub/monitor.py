"""Blocking detection from a monitor thread: who held the hub too long, and where.

A greenthread that runs for a long time without switching (CPU work, a
blocking syscall) freezes every other greenthread of its hub.  ``start()``
watches one hub's thread::

    from eventhub import monitor
    m = monitor.start(threshold=0.5)      # call from the hub's own thread
    ...
    m.stop()

Every greenlet switch in that thread is counted (``greenlet.settrace``).  A
daemon thread checks every ``threshold / 4`` seconds: if no switch happened
for ``threshold`` seconds while the hub is running, and the thread is not
simply idle in the poller, it calls ``report(BlockingReport)`` once for that
episode, with the greenlet and its current stack.  The default report prints
to stderr.

Unlike the hub's SIGALRM ``debug_blocking``, this works for hubs running off
the main thread and leaves signal handlers alone.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass
from types import FrameType
from typing import Any, Callable

import greenlet

from eventhub.hubs import get_hub

#: Stack frames of these modules belong to the hub itself: a thread whose
#: innermost frame is one of them is waiting for I/O, not blocking
#: (``selectors``: the asyncio hub's loop waits in asyncio's selector).
HUB_MODULE_PREFIXES = ("eventhub.hubs", "selectors")


@dataclass(frozen=True)
class BlockingReport:
    """One greenlet held the hub's thread ``duration`` seconds without switching."""

    greenlet: Any
    thread_id: int
    duration: float
    stack: str

    def __str__(self) -> str:
        return (
            f"eventhub.monitor: {self.greenlet!r} blocked its hub (thread {self.thread_id}) "
            f"for {self.duration:.3f}s without switching; it is at:\n{self.stack}"
        )


def print_report(report: BlockingReport) -> None:
    """The default ``report``: write the report to stderr."""
    sys.stderr.write(str(report) + "\n")
    sys.stderr.flush()


def _idle_in_hub(frame: FrameType | None) -> bool:
    """True when the innermost Python frame is the hub's own (waiting in the poller)."""
    if frame is None:  # a compiled loop waiting in C has no Python frame at all
        return True
    return str(frame.f_globals.get("__name__", "")).startswith(HUB_MODULE_PREFIXES)


class BlockingMonitor:
    """Watches one hub's thread from a daemon thread; see the module docstring."""

    def __init__(
        self,
        hub: Any,
        threshold: float,
        report: Callable[[BlockingReport], Any],
    ) -> None:
        if not threshold > 0:
            raise ValueError(f"threshold must be a positive number of seconds, not {threshold!r}")
        self.hub = hub
        self.threshold = float(threshold)
        self.report = report
        self.thread_id = threading.get_ident()
        self._switches = 0
        self._current: Any = greenlet.getcurrent()
        self._last_switch = time.monotonic()
        self._reported_at = -1  # the switch count of the last episode reported
        self._stop = threading.Event()
        self._previous_trace: Any = None
        self._thread = threading.Thread(target=self._watch, name="eventhub-monitor", daemon=True)

    def _trace(self, event: str, args: Any) -> None:
        self._current = args[1]  # (origin, target): the target runs now
        self._switches += 1
        self._last_switch = time.monotonic()
        previous = self._previous_trace
        if previous is not None:
            previous(event, args)

    def _start(self) -> None:
        self._previous_trace = greenlet.settrace(self._trace)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; call from the hub's thread (it restores the greenlet tracer)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if threading.get_ident() == self.thread_id:
            greenlet.settrace(self._previous_trace)
        self._thread.join()

    def __enter__(self) -> BlockingMonitor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _watch(self) -> None:
        interval = self.threshold / 4
        while not self._stop.wait(interval):
            self.check()

    def check(self) -> BlockingReport | None:
        """One check (the monitor thread calls this); returns what it reported."""
        switches = self._switches
        held = time.monotonic() - self._last_switch
        if held < self.threshold or switches == self._reported_at or not self.hub.running:
            return None
        frame = sys._current_frames().get(self.thread_id)
        if frame is None or _idle_in_hub(frame):
            return None
        if switches != self._switches:  # it switched meanwhile: not blocked after all
            return None
        report = BlockingReport(
            greenlet=self._current,
            thread_id=self.thread_id,
            duration=held,
            stack="".join(traceback.format_stack(frame)),
        )
        self._reported_at = switches
        try:
            self.report(report)
        except Exception:
            traceback.print_exc()
        return report


def start(
    threshold: float = 1.0,
    report: Callable[[BlockingReport], Any] | None = None,
    hub: Any = None,
) -> BlockingMonitor:
    """Watch this thread's hub (or ``hub``, which must run in this thread).

    Reports each greenlet that runs ``threshold`` seconds without switching
    while the hub is running; returns the monitor (``stop()``, or use it as a
    context manager).  Must be called from the hub's thread.
    """
    monitor = BlockingMonitor(get_hub() if hub is None else hub, threshold, print_report if report is None else report)
    monitor._start()
    return monitor
