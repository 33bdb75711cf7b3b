"""``--apps oslo``: an oslo.messaging RPC server on eventhub's hub against eventlet's, same run.

Every sample is a fresh process running ``eventhub.bench.oslo_rpc`` (see
there for what is measured): once plainly, on eventlet's own hub, and once
under ``eventhub-run`` (``python -m eventhub.run``), on eventhub's.  Rounds
interleave the two so load from elsewhere on the machine hits both alike.
Each sample says which hub served it; one that ran on the other hub is an
error, never a number.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from eventhub.bench.app_procs import HUB_ENV
from eventhub.bench.apps import AppReport, AppSettings
from eventhub.bench.runner import ERROR, OK, SKIPPED, missing_module

DESCRIPTION = "oslo.messaging RPC server: call and cast rate and latency, rabbit driver over kombu's memory transport and the fake driver"

#: (transport, mode) pairs, in the order shown.
WORKLOADS: tuple[tuple[str, str], ...] = (
    ("rabbit-memory", "call"),
    ("rabbit-memory", "cast"),
    ("fake", "call"),
    ("fake", "cast"),
)
#: Client greenthreads per transport.  The fake driver's server sleeps 50 ms
#: whenever its queues are empty: with 50 clients each of those sleeps ends
#: with every client waiting, so any hub does about 50 requests per 50 ms
#: (930/s on either hub, measured on a quiet machine); 500 keep it busy.
CLIENTS = {"rabbit-memory": 50, "fake": 500}
SUBJECT, BASELINE = "eventhub", "eventlet"
#: Targets: SUBJECT's median rate at least this many times BASELINE's; its p99 no higher; no errors.
MIN_RATIO = 1.2
#: Environment variables that would put a plain run on another hub than eventlet's own: the
#: launcher's (a sample keeps EVENTHUB_NO_EXTENSIONS and EVENTHUB_HUB, which eventlet ignores).
LAUNCHER_ENV = tuple(v for v in HUB_ENV if v.startswith("EVENTHUB_RUN") or v == "EVENTLET_HUB")


@dataclass(frozen=True)
class Impl:
    """How a sample process is started, and the hub it must report."""

    name: str
    description: str
    launcher: tuple[str, ...]
    hub_prefix: str


IMPLS: tuple[Impl, ...] = (
    Impl(BASELINE, "eventlet's own hub (epolls)", (), "eventlet.hubs.epolls:"),
    Impl(SUBJECT, "eventhub-run: eventhub.eventlet's hub", (sys.executable, "-m", "eventhub.run"), "eventhub.eventlet:"),
)


@dataclass
class RpcCell:
    """One implementation on one workload: a sample per round."""

    impl: str
    transport: str
    mode: str
    status: str = OK
    reason: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)

    def _median(self, key: str) -> float | None:
        values = [s[key] for s in self.samples if s.get(key) is not None]
        return statistics.median(values) if self.status == OK and values else None

    @property
    def rate(self) -> float | None:
        return self._median("rate")

    @property
    def p50_ms(self) -> float | None:
        return self._median("p50_ms")

    @property
    def p99_ms(self) -> float | None:
        return self._median("p99_ms")

    @property
    def errors(self) -> int:
        return sum(int(s["errors"]) for s in self.samples)


def missing() -> str | None:
    """Why the benchmark cannot run here, or None."""
    module = missing_module(("eventlet", "oslo_messaging", "oslo_config"))
    return None if module is None else f"{module} is not installed (pip install oslo.messaging eventlet)"


def sample_command(impl: Impl, transport: str, mode: str, settings: AppSettings) -> list[str]:
    return [
        *impl.launcher, sys.executable, "-m", "eventhub.bench.oslo_rpc", f"--transport={transport}", f"--mode={mode}",
        f"--clients={CLIENTS[transport]}", f"--warm-up={settings.warm_up:g}", f"--duration={settings.duration:g}",
    ]


def sample_environment() -> dict[str, str]:
    """The environment of every sample: eventlet left to choose its own hub unless a launcher says otherwise."""
    return {k: v for k, v in os.environ.items() if k not in LAUNCHER_ENV}


def take_sample(impl: Impl, cell: RpcCell, settings: AppSettings) -> dict[str, Any]:
    """Run one sample process; its JSON result.  ``RuntimeError`` says why there is none."""
    command = sample_command(impl, cell.transport, cell.mode, settings)
    try:
        done = subprocess.run(command, env=sample_environment(), capture_output=True, text=True,
                              timeout=settings.time_limit)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the sample ran over {settings.time_limit:g}s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the sample exited with status {done.returncode}: {tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    if not str(result.get("hub", "")).startswith(impl.hub_prefix):
        raise RuntimeError(f"the sample ran on {result.get('hub')}, not on {impl.hub_prefix}*")
    return result


def run(settings: AppSettings, progress: TextIO) -> AppReport:
    """Every workload on both hubs for ``settings.rounds`` rounds, then the table, JSON and verdict."""
    cells = {(i.name, t, m): RpcCell(i.name, t, m) for t, m in WORKLOADS for i in IMPLS}
    reason = missing()
    if reason:
        for cell in cells.values():
            cell.status, cell.reason = SKIPPED, reason
    for round_ in range(1, settings.rounds + 1):
        for transport, mode in WORKLOADS:
            for impl in IMPLS:
                cell = cells[(impl.name, transport, mode)]
                if cell.status != OK:
                    continue
                progress.write(f"round {round_}: oslo {transport} {mode} on {impl.name}: ")
                progress.flush()
                try:
                    result = take_sample(impl, cell, settings)
                except (RuntimeError, ValueError) as e:
                    cell.status, cell.reason = ERROR, str(e)
                    progress.write(f"error: {e}\n")
                    continue
                cell.samples.append(result)
                progress.write(f"{result['rate']:,.0f}/s, p99 {_fmt(result['p99_ms'], '.1f')} ms, "
                               f"{result['errors']} errors ({result['hub']} {result['variant']})\n")
                progress.flush()
    checks = check(list(cells.values()))
    return AppReport(
        app="oslo",
        text=table(list(cells.values()), settings, checks),
        data=as_json(list(cells.values()), settings, checks),
        failed=any(c.status == ERROR for c in cells.values()),
    )


def ratio(cell: RpcCell, base: RpcCell | None) -> float | None:
    if base is None or cell.rate is None or not base.rate:
        return None
    return cell.rate / base.rate


def check(cells: list[RpcCell]) -> list[dict[str, Any]]:
    """Per workload: SUBJECT's rate ratio, its p99 against BASELINE's, and its errors; met None if unmeasured."""
    by_key = {(c.impl, c.transport, c.mode): c for c in cells}
    results: list[dict[str, Any]] = []
    for transport, mode in WORKLOADS:
        subject, base = by_key[(SUBJECT, transport, mode)], by_key[(BASELINE, transport, mode)]
        measured = subject.status == OK and base.status == OK and bool(subject.samples) and bool(base.samples)
        label = f"{SUBJECT} oslo {transport} {mode}"
        r = ratio(subject, base)
        results.append({"target": f"{label}: rate >= {MIN_RATIO:g}x {BASELINE}", "ratio": r,
                        "met": (r >= MIN_RATIO) if measured and r is not None else None})
        p99, base_p99 = subject.p99_ms, base.p99_ms
        results.append({"target": f"{label}: p99 no worse than {BASELINE}", "p99_ms": p99, "baseline_p99_ms": base_p99,
                        "met": (p99 <= base_p99) if measured and p99 is not None and base_p99 is not None else None})
        results.append({"target": f"{label}: no errors", "errors": subject.errors if measured else None,
                        "met": (subject.errors == 0) if measured else None})
    return results


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def table(cells: list[RpcCell], settings: AppSettings, checks: list[dict[str, Any]]) -> str:
    """A block per workload, a row per hub: requests/s, latency, errors, the ratio to eventlet's hub."""
    by_key = {(c.impl, c.transport, c.mode): c for c in cells}
    lines = [
        "oslo.messaging RPC server, client greenthreads each with one request in flight ("
        + ", ".join(f"{n} on {transport}" for transport, n in CLIENTS.items()) + "); "
        f"{settings.duration:g}s measured after {settings.warm_up:g}s; medians of {settings.rounds} rounds",
        "",
    ]
    notes: list[str] = []
    for transport, mode in WORKLOADS:
        lines.append(f"{transport} {mode}")
        lines.append(f"  {'hub':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>9}{'ratio':>8}")
        for impl in IMPLS:
            cell = by_key[(impl.name, transport, mode)]
            if cell.status != OK or not cell.samples:
                lines.append(f"  {impl.name:<10}{cell.status:>9}")
                notes.append(f"  {impl.name} {transport} {mode}: {cell.status}: {cell.reason or 'no sample'}")
                continue
            r = ratio(cell, by_key[(BASELINE, transport, mode)])
            lines.append(f"  {impl.name:<10}{_fmt(cell.rate, ',.0f'):>9}{_fmt(cell.p50_ms, '.1f'):>9}"
                         f"{_fmt(cell.p99_ms, '.1f'):>9}{cell.errors:>9}{_fmt(r, '.2f') + 'x' if r else '-':>8}")
        lines.append("")
    lines.append(f"{BASELINE}: {IMPLS[0].description}; {SUBJECT}: {IMPLS[1].description}; "
                 f"ratio: req/s over {BASELINE}'s, same run; errors: all rounds")
    if notes:
        lines.append("notes:")
        lines.extend(dict.fromkeys(notes))
    lines.append("targets (same-run medians):")
    for c in checks:
        if c["met"] is None:
            verdict = "not measured"
        elif "ratio" in c:
            verdict = f"{c['ratio']:.2f}x"
        elif "p99_ms" in c:
            verdict = f"{c['p99_ms']:.1f} ms vs {c['baseline_p99_ms']:.1f} ms"
        else:
            verdict = f"{c['errors']} errors"
        if c["met"] is not None:
            verdict += "  met" if c["met"] else "  NOT MET"
        lines.append(f"  {c['target']}: {verdict}")
    return "\n".join(lines)


def as_json(cells: list[RpcCell], settings: AppSettings, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything measured: per workload and hub, the medians, the ratio and every sample."""
    by_key = {(c.impl, c.transport, c.mode): c for c in cells}
    results: dict[str, Any] = {}
    for c in cells:
        results.setdefault(f"{c.transport} {c.mode}", {})[c.impl] = {
            "status": c.status, "reason": c.reason, "rate": c.rate, "p50_ms": c.p50_ms, "p99_ms": c.p99_ms,
            "errors": c.errors, "ratio": ratio(c, by_key.get((BASELINE, c.transport, c.mode))), "samples": c.samples,
        }
    return {
        "app": "oslo",
        "description": DESCRIPTION,
        "baseline": BASELINE,
        "clients": CLIENTS,
        "rounds": settings.rounds,
        "duration": settings.duration,
        "warm_up": settings.warm_up,
        "hubs": {i.name: i.description for i in IMPLS},
        "results": results,
        "targets": checks,
    }
