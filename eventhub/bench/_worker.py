"""One benchmark process: one sample of one workload on one implementation.

Run by the orchestrator as ``python -m eventhub.bench._worker IMPL WORKLOAD``.
It writes one JSON object per line to stdout, flushed as it goes:
``{"event": "start", "description": ...}`` then
``{"event": "sample", "ops": <counted>, "seconds": ..., "speed": [before, after],
"cpu_share": ...}`` (the machine's speed just before and after, see
``speed.probe``, and the worker's CPU time over the wall-clock time of the
run); or
a single ``{"event": "unavailable" | "n/a" | "error", "reason": ...}``.
With ``--check`` it only loads the implementation and stops after "start"
(or "unavailable"): how the orchestrator learns, before a run, whether an
implementation can run at all.
It only counts; judging the counts is the orchestrator's job.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import traceback
from typing import Any

from eventhub.bench import certs, impls, speed
from eventhub.bench.target import NotApplicable, Unavailable
from eventhub.bench.workloads import WORKLOAD_NAMES, Sizes


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def raise_fd_limit() -> None:
    """Raise the soft RLIMIT_NOFILE to the hard limit (idle needs ~8000 fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass  # reported below if the limit is too low


def check_fd_budget(workload: str, sizes: Sizes) -> None:
    if workload != "idle":
        return
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = sizes.idle_sockets + 64
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise NotApplicable(f"needs {needed} file descriptors; RLIMIT_NOFILE allows {soft}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventhub.bench._worker")
    parser.add_argument("impl")
    parser.add_argument("workload", choices=WORKLOAD_NAMES)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--check", action="store_true", help="load the implementation, run nothing")
    args = parser.parse_args(argv)
    sizes = Sizes.for_scale(args.scale)
    raise_fd_limit()
    try:
        check_fd_budget(args.workload, sizes)
        target = impls.find(args.impl).load()
        emit("start", description=target.description)
        if args.check:
            return 0
        gc.collect()
        before = speed.probe()
        cpu, wall = time.process_time(), time.perf_counter()
        ops, seconds = target.run(args.workload, sizes)
        cpu_share = (time.process_time() - cpu) / max(time.perf_counter() - wall, 1e-9)
        after = speed.probe()
        emit("sample", ops=ops, seconds=seconds, speed=[before, after], cpu_share=cpu_share)
    except Unavailable as e:
        emit("unavailable", reason=str(e))
    except (NotApplicable, certs.NoCertificate) as e:
        emit("n/a", reason=str(e))
    except Exception as e:
        traceback.print_exc()
        emit("error", reason=f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
