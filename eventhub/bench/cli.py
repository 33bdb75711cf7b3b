"""The command line of ``python -m eventhub.bench``."""

from __future__ import annotations

import argparse
import json
import sys

from eventhub.bench import apps as app_benches
from eventhub.bench import http_report, http_run, impls, report, runner, targets, wrk
from eventhub.bench.workloads import WORKLOAD_NAMES, WORKLOADS

#: --quick: a tenth of the operations, three repetitions.
QUICK_SCALE = 0.1
QUICK_REPEAT = 3
DEFAULT_REPEAT = 5


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eventhub.bench",
        description="Benchmark eventhub's hubs (compiled and pure) against eventlet, gevent, asyncio and uvloop.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run: 1/10 of the work, 3 repetitions")
    parser.add_argument("--repeat", type=int, metavar="N", help=f"samples per cell, median reported (default {DEFAULT_REPEAT})")
    parser.add_argument(
        "-w", "--workloads", type=_names, metavar="A,B", help=f"workloads to run (default all: {','.join(WORKLOAD_NAMES)})"
    )
    parser.add_argument(
        "-i", "--impl", type=_names, metavar="PATTERNS", help="implementations to run, comma-separated shell patterns (e.g. 'epolls-*,uvloop')"
    )
    parser.add_argument("--baseline", metavar="NAME", help="the implementation ratios are relative to (run even if not selected)")
    parser.add_argument(
        "--eventlet", action="store_true", help="eventlet's own API on its epolls hub vs on eventhub.eventlet:Hub"
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="wrk against gunicorn workers serving hello world and a redis app (needs wrk, gunicorn; redis-server)",
    )
    parser.add_argument(
        "--apps",
        type=_names,
        nargs="?",
        const=[],
        metavar="A,B",
        help=f"application benchmarks, eventhub's hub vs eventlet's ({','.join(app_benches.APP_BENCHES)}; "
        f"default all); with --http, the HTTP applications (default {','.join(http_run.APPS)})",
    )
    parser.add_argument(
        "--connections", type=_names, metavar="N,M", help="--http: wrk connection counts (default 100,1000)"
    )
    parser.add_argument(
        "--duration", type=float, metavar="SECONDS", help="--http, --apps: measured seconds per sample (default 5; --quick 2)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--list", action="store_true", help="list implementations and workloads, then exit")
    parser.add_argument(
        "--budget", type=float, default=60.0, metavar="SECONDS", help="stop repeating a cell once its samples took this long (default 60)"
    )
    parser.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS", help="kill a worker after this long (default 600)")
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)  # tests: tiny runs
    return parser


def _default_baseline(candidates: tuple[impls.Implementation, ...], eventlet_mode: bool) -> str:
    """The first default baseline that loads in a worker; the last one if none does (its cells then say why)."""
    names = impls.baseline_candidates(eventlet_mode)
    by_name = {i.name: i for i in candidates}
    for name in names[:-1]:
        if not runner.why_cannot_run(by_name[name]):
            return name
    return names[-1]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.http:
        return http_main(parser, args)
    if args.apps is not None:
        return apps_main(parser, args)
    if args.connections or args.duration is not None:
        parser.error("--connections goes with --http, --duration with --http or --apps")
    candidates = impls.EVENTLET if args.eventlet else impls.DEFAULT
    if args.list:
        print("implementations:", ", ".join(i.name for i in candidates))
        print("workloads:", ", ".join(WORKLOAD_NAMES))
        return 0
    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else 1.0)
    repeat = args.repeat if args.repeat is not None else (QUICK_REPEAT if args.quick else DEFAULT_REPEAT)
    if scale <= 0 or repeat < 1 or args.budget <= 0 or args.time_limit <= 0:
        parser.error("--scale, --budget and --time-limit must be positive and --repeat at least 1")
    settings = runner.Settings(scale, repeat, args.budget, args.time_limit)
    unknown = [w for w in args.workloads or () if w not in WORKLOAD_NAMES]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)} (choose from {', '.join(WORKLOAD_NAMES)})")
    workloads = [w for w in WORKLOADS if not args.workloads or w.name in args.workloads]
    try:
        selected = impls.select(candidates, args.impl)
    except ValueError as e:
        parser.error(str(e))
    baseline = args.baseline or _default_baseline(candidates, args.eventlet)
    if baseline not in {i.name for i in candidates}:
        parser.error(f"unknown baseline {baseline!r} (choose from {', '.join(i.name for i in candidates)})")
    if baseline not in {i.name for i in selected}:
        selected.insert(0, next(i for i in candidates if i.name == baseline))

    cells = runner.run_all(selected, workloads, settings, sys.stderr)
    # Targets are set for the full workloads: a scaled-down run weighs each
    # workload's fixed costs (spawning its threads, connecting its clients)
    # differently, so its ratios are not the ones the targets are about.
    not_judged = "" if scale == 1.0 else f"a run at {scale:g} of the full work; targets are judged on full runs"
    checks = targets.check(targets.EVENTLET_TARGETS if args.eventlet else targets.DEFAULT_TARGETS, cells, not_judged)
    if args.json:
        mode = "eventlet" if args.eventlet else "default"
        doc = report.as_json(cells, workloads, baseline, mode=mode, repeat=repeat, scale=scale, checks=checks)
        print(json.dumps(doc, indent=2))
    else:
        print(report.table(cells, workloads, baseline, repeat, checks))
    return 1 if any(c.status == runner.ERROR for c in cells) else 0


def http_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``--http``: see ``eventhub.bench.http_run``."""
    if args.list:
        print("workers:", ", ".join(w.name for w in http_run.WORKERS))
        print("apps:", ", ".join(http_run.APPS))
        return 0
    apps = args.apps or list(http_run.APPS)
    unknown = [a for a in apps if a not in http_run.APPS]
    if unknown:
        parser.error(f"unknown app {', '.join(unknown)} (choose from {', '.join(http_run.APPS)})")
    try:
        connections = tuple(int(c) for c in args.connections) if args.connections else http_run.DEFAULT_CONNECTIONS
        workers = http_run.select(args.impl)
    except ValueError as e:
        parser.error(str(e))
    rounds = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    duration = args.duration if args.duration is not None else (2.0 if args.quick else 5.0)
    if rounds < 1 or duration < 1 or any(c < 1 for c in connections):
        parser.error("--repeat, --duration (seconds) and --connections must be at least 1")
    if http_run.BASELINE not in {w.name for w in workers}:
        workers.insert(0, next(w for w in http_run.WORKERS if w.name == http_run.BASELINE))
    settings = http_run.HttpSettings(rounds=rounds, duration=duration, connections=connections)
    try:
        cells = http_run.run_all(workers, apps, settings, sys.stderr)
    except wrk.WrkMissing as e:
        print(f"python -m eventhub.bench --http: {e}", file=sys.stderr)
        return 2
    checks = http_report.check(cells)
    if args.json:
        print(json.dumps(http_report.as_json(cells, apps, settings, checks), indent=2))
    else:
        print(http_report.table(cells, apps, settings, checks))
    return 1 if any(c.status == runner.ERROR for c in cells) else 0


def apps_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``--apps`` without ``--http``: see ``eventhub.bench.apps``."""
    if args.list:
        for name, module in app_benches.APP_BENCHES.items():
            print(f"{name}: {app_benches.load(name).DESCRIPTION} ({module})")
        return 0
    if args.connections:
        parser.error("--connections goes with --http")
    names = args.apps or list(app_benches.APP_BENCHES)
    unknown = [n for n in names if n not in app_benches.APP_BENCHES]
    if unknown:
        parser.error(f"unknown application {', '.join(unknown)} (choose from {', '.join(app_benches.APP_BENCHES)})")
    settings = app_benches.AppSettings(
        rounds=args.repeat if args.repeat is not None else (1 if args.quick else 3),
        duration=args.duration if args.duration is not None else (2.0 if args.quick else 5.0),
        warm_up=0.5 if args.quick else 1.0,
        time_limit=args.time_limit,
    )
    if settings.rounds < 1 or settings.duration <= 0 or settings.time_limit <= 0:
        parser.error("--repeat must be at least 1, --duration and --time-limit positive")
    reports = app_benches.run(names, settings, sys.stderr)
    if args.json:
        print(json.dumps({"mode": "apps", "apps": {r.app: r.data for r in reports}}, indent=2))
    else:
        print("\n\n".join(r.text for r in reports))
    return 1 if any(r.failed for r in reports) else 0
