"""The speed targets, checked against one run's medians.

A target is a ratio measured side by side in the same run: ``subject``'s
median on ``workload`` over ``reference``'s median on ``reference_workload``
(the same workload unless stated) must be at least ``minimum``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventhub.bench import speed
from eventhub.bench.runner import SKIPPED, Cell


@dataclass(frozen=True)
class SpeedTarget:
    workload: str
    subject: str
    reference: str
    minimum: float
    reference_workload: str = ""  # default: the same workload

    @property
    def label(self) -> str:
        if self.reference_workload:
            return f"{self.subject} {self.workload} >= {self.minimum:g}x its {self.reference_workload}"
        return f"{self.subject} {self.workload} >= {self.minimum:g}x {self.reference}"


COMPILED = "epolls-compiled"
PURE = "epolls-pure"
ASYNCIO = "asyncio-compiled"

#: Issue 3: the compiled epolls hub against the peers, and the pure fallback against eventlet.
DEFAULT_TARGETS: tuple[SpeedTarget, ...] = (
    SpeedTarget("switch", COMPILED, "uvloop", 1.5),
    SpeedTarget("switch", COMPILED, "eventlet", 5.0),
    SpeedTarget("spawn", COMPILED, "uvloop", 1.2),
    SpeedTarget("timeout", COMPILED, "eventlet", 4.0),
    SpeedTarget("timers", COMPILED, "gevent", 2.0),
    SpeedTarget("pingpong", COMPILED, "gevent", 1.5),
    SpeedTarget("pingpong", COMPILED, "eventlet", 3.0),
    SpeedTarget("idle", COMPILED, COMPILED, 0.9, reference_workload="pingpong"),
    SpeedTarget("echo", COMPILED, "uvloop", 1.3),
    *(
        SpeedTarget(w, PURE, "eventlet", 1.0)
        for w in ("switch", "spawn", "timeout", "timers", "pingpong", "idle", "echo")
    ),
    # Issue 20: the asyncio hub against eventlet's, and awaiting a greenthread
    # from a coroutine within 1.5x the time of awaiting an asyncio.Task.
    *(SpeedTarget(w, ASYNCIO, "eventlet-asyncio", 3.0) for w in ("switch", "timers", "pingpong")),
    SpeedTarget("await", ASYNCIO, "asyncio", 0.67),
    # The thread pool and TLS: to_thread round trips at least as fast as
    # eventlet's tpool.execute and gevent's thread pool, a TLS echo server and
    # clients (net.wrap_tls, net.connect(tls=)) at least as fast as gevent's ssl,
    # and the pure variant at least as fast as eventlet at both.
    SpeedTarget("offload", COMPILED, "eventlet", 1.0),
    SpeedTarget("offload", COMPILED, "gevent", 1.0),
    SpeedTarget("tls", COMPILED, "gevent", 1.0),
    *(SpeedTarget(w, PURE, "eventlet", 1.0) for w in ("offload", "tls")),
)

#: Issue 6: eventlet's API on eventhub's adapter against eventlet's own epolls hub.
EVENTLET_TARGETS: tuple[SpeedTarget, ...] = (
    SpeedTarget("switch", "eventlet-eventhub", "eventlet-epolls", 2.0),
    SpeedTarget("timers", "eventlet-eventhub", "eventlet-epolls", 2.0),
    SpeedTarget("pingpong", "eventlet-eventhub", "eventlet-epolls", 1.3),
    SpeedTarget("echo", "eventlet-eventhub", "eventlet-epolls", 1.3),
)


def _why_no_number(cell: Cell) -> str:
    """Why ``cell`` cannot take part in a ratio, or "" if it can."""
    if cell.status == SKIPPED:
        return f"{cell.impl} did not run: {cell.reason}"
    if cell.median is None or cell.median <= 0:
        return f"{cell.impl} {cell.workload}: {cell.status}"
    return ""


def _why_speeds_differ(subject: Cell, reference: Cell) -> str:
    """Why the two cells' ratio says more about the machine than the code, or "" if it does not."""
    mine, theirs = subject.machine_speed, reference.machine_speed
    if mine is None or theirs is None or speed.same(mine, theirs):
        return ""
    faster, slower = (subject, reference) if mine > theirs else (reference, subject)
    return (
        f"the machine ran {speed.apart(mine, theirs):.2f}x faster during {faster.impl} {faster.workload}'s "
        f"samples than during {slower.impl} {slower.workload}'s"
    )


def check(targets: tuple[SpeedTarget, ...], cells: list[Cell], not_judged: str = "") -> list[dict[str, Any]]:
    """Each target whose workloads and implementations were selected: ratio and verdict.

    A target is judged only on its own two cells: when either has no number
    (its implementation did not run, the cell failed or is not applicable),
    it is "not judged", with ``why_not_judged`` naming the cell, never
    compared with anything else.  Nor is it judged when the machine ran at
    different speeds (``speed.same``) during the two cells' samples.  A
    non-empty ``not_judged`` (say, a scaled-down run) leaves every target
    unjudged for that reason.
    """
    by_key = {(c.impl, c.workload): c for c in cells}
    results = []
    for t in targets:
        reference_workload = t.reference_workload or t.workload
        subject = by_key.get((t.subject, t.workload))
        reference = by_key.get((t.reference, reference_workload))
        if subject is None or reference is None:
            continue  # not selected
        why = (
            not_judged
            or _why_no_number(subject)
            or _why_no_number(reference)
            or _why_speeds_differ(subject, reference)
        )
        mine, theirs = subject.median, reference.median
        ratio = mine / theirs if not why and mine and theirs else None
        results.append(
            {
                "target": t.label,
                "workload": t.workload,
                "subject": t.subject,
                "reference": t.reference,
                "reference_workload": reference_workload,
                "minimum": t.minimum,
                "ratio": ratio,
                "met": None if ratio is None else ratio >= t.minimum,
                "why_not_judged": why,
            }
        )
    return results


def format_checks(checks: list[dict[str, Any]]) -> list[str]:
    """One line per target: label, measured ratio, verdict (or why there is none)."""
    if not checks:
        return []
    width = max(len(c["target"]) for c in checks)
    lines = ["speed targets (same-run medians):"]
    for c in checks:
        if c["ratio"] is None:
            lines.append(f"  {c['target']:<{width}}       -  not judged ({c['why_not_judged']})")
        else:
            verdict = "met" if c["met"] else "NOT MET"
            lines.append(f"  {c['target']:<{width}}  {c['ratio']:6.2f}x  {verdict}")
    return lines
