"""``--http``'s results: the table or JSON, and the speed targets against gevent's worker."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from eventhub.bench.http_run import APP_DESCRIPTIONS, BASELINE, WORKERS, HttpCell, HttpSettings
from eventhub.bench.runner import OK

SUBJECT = "eventhub"


@dataclass(frozen=True)
class HttpTarget:
    """``SUBJECT``'s median req/s on ``app`` at ``connections`` over ``BASELINE``'s, at least ``minimum``."""

    app: str
    connections: int
    minimum: float

    @property
    def label(self) -> str:
        return f"{SUBJECT} {self.app} c{self.connections} >= {self.minimum:g}x {BASELINE}"


HTTP_TARGETS: tuple[HttpTarget, ...] = (
    HttpTarget("hello", 100, 1.1),
    HttpTarget("hello", 1000, 1.1),
    HttpTarget("redis", 100, 1.2),
    HttpTarget("redis", 1000, 1.2),
)
#: ``SUBJECT`` must see no socket error at this load, on any application.
ZERO_ERRORS_AT = 1000


def ratio(cell: HttpCell, base: HttpCell | None) -> float | None:
    if base is None or cell.rate is None or not base.rate:
        return None
    return cell.rate / base.rate


def check(cells: list[HttpCell]) -> list[dict[str, Any]]:
    """Each target whose cells were measured or selected: ratio (None if unmeasured) and verdict."""
    by_key = {(c.worker, c.app, c.connections): c for c in cells}
    results: list[dict[str, Any]] = []
    for t in HTTP_TARGETS:
        subject, reference = by_key.get((SUBJECT, t.app, t.connections)), by_key.get((BASELINE, t.app, t.connections))
        if subject is None or reference is None:
            continue
        r = ratio(subject, reference)
        results.append({"target": t.label, "minimum": t.minimum, "ratio": r, "met": None if r is None else r >= t.minimum})
    for c in cells:
        if c.worker == SUBJECT and c.connections == ZERO_ERRORS_AT:
            measured = c.status == OK and bool(c.samples)
            results.append(
                {
                    "target": f"{SUBJECT} {c.app} c{c.connections}: no socket errors",
                    "socket_errors": c.socket_errors if measured else None,
                    "met": (c.socket_errors == 0) if measured else None,
                }
            )
    return results


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def table(cells: list[HttpCell], apps: list[str], settings: HttpSettings, checks: list[dict[str, Any]]) -> str:
    """One block per (app, load): a row per worker with req/s, latency, errors and the ratio to the baseline."""
    by_key = {(c.worker, c.app, c.connections): c for c in cells}
    workers = [w.name for w in WORKERS if any(c.worker == w.name for c in cells)]
    width = max(len(w) for w in workers) + 2
    lines = [
        f"gunicorn, 1 worker, wrk -t{settings.threads} for {settings.duration:g}s; medians of {settings.rounds} rounds",
        "",
    ]
    notes: list[str] = []
    for app in apps:
        for conns in settings.connections:
            lines.append(f"{app} ({APP_DESCRIPTIONS[app]}), {conns} connections")
            lines.append(f"  {'worker':<{width}}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>9}{'ratio':>8}")
            for w in workers:
                cell = by_key[(w, app, conns)]
                if cell.status != OK or not cell.samples:
                    lines.append(f"  {w:<{width}}{cell.status:>9}")
                    notes.append(f"  {w} {app} c{conns}: {cell.status}: {cell.reason or 'no sample'}")
                    continue
                r = ratio(cell, by_key.get((BASELINE, app, conns)))
                errors = cell.socket_errors + cell.error_responses
                lines.append(
                    f"  {w:<{width}}{_fmt(cell.rate, ',.0f'):>9}{_fmt(cell.p50_ms, '.2f'):>9}"
                    f"{_fmt(cell.p99_ms, '.1f'):>9}{errors:>9}{_fmt(r, '.2f') + 'x' if r else '-':>8}"
                )
            lines.append("")
    lines.append(f"ratio: req/s over {BASELINE}'s, same run; errors: wrk's socket errors and non-2xx responses, all rounds")
    if notes:
        lines.append("notes:")
        lines.extend(dict.fromkeys(notes))
    if checks:
        lines.append("targets (same-run medians):")
        for c in checks:
            if c["met"] is None:
                verdict = "not measured"
            elif "ratio" in c:
                verdict = f"{c['ratio']:.2f}x  {'met' if c['met'] else 'NOT MET'}"
            else:
                verdict = f"{c['socket_errors']} errors  {'met' if c['met'] else 'NOT MET'}"
            lines.append(f"  {c['target']}: {verdict}")
    return "\n".join(lines)


def as_json(cells: list[HttpCell], apps: list[str], settings: HttpSettings, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything measured: per app, load and worker, the medians, every round's numbers and the ratio."""
    by_key = {(c.worker, c.app, c.connections): c for c in cells}
    results: dict[str, Any] = {}
    for c in cells:
        base = by_key.get((BASELINE, c.app, c.connections))
        results.setdefault(c.app, {}).setdefault(str(c.connections), {})[c.worker] = {
            "status": c.status,
            "reason": c.reason,
            "rate": c.rate,
            "p50_ms": c.p50_ms,
            "p99_ms": c.p99_ms,
            "socket_errors": c.socket_errors,
            "error_responses": c.error_responses,
            "ratio": ratio(c, base),
            "rounds": [
                {"rate": s.rate, "requests": s.requests, "seconds": s.seconds, "p50_ms": s.p50_ms, "p99_ms": s.p99_ms,
                 "socket_errors": s.socket_errors, "error_responses": s.non_2xx}  # fmt: skip
                for s in c.samples
            ],
        }
    return {
        "mode": "http",
        "baseline": BASELINE,
        "rounds": settings.rounds,
        "duration": settings.duration,
        "wrk_threads": settings.threads,
        "connections": list(settings.connections),
        "apps": {app: APP_DESCRIPTIONS[app] for app in apps},
        "workers": {w.name: w.description for w in WORKERS if any(c.worker == w.name for c in cells)},
        "results": results,
        "targets": checks,
    }
