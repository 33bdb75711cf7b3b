"""The orchestrator: one worker process per (implementation, workload).

A worker that crashes, hangs past its time limit or miscounts is reported
as an error for that cell only; the run goes on.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import IO, Any, Callable, TextIO

from eventhub.bench.impls import Implementation
from eventhub.bench.workloads import Sizes, Workload

#: Cell statuses: measured, implementation missing, workload impossible by design, failure.
OK, SKIPPED, NOT_APPLICABLE, ERROR = "ok", "skipped", "n/a", "error"


@dataclass(frozen=True)
class Settings:
    """How hard to run each cell."""

    scale: float = 1.0  # multiplies every workload's operation count
    repeat: int = 5  # samples per cell; the median is reported
    budget: float = 60.0  # stop repeating once a cell's samples took this long
    time_limit: float = 600.0  # kill a worker running longer than this

    @property
    def sizes(self) -> Sizes:
        return Sizes.for_scale(self.scale)


@dataclass
class Cell:
    """The outcome of one workload on one implementation."""

    impl: str
    workload: str
    status: str = OK
    reason: str = ""  # why it has no number
    note: str = ""  # a caveat about the number
    description: str = ""
    expected: int = 0
    counted: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        """ops/s of each sample."""
        return [ops / max(s, 1e-9) for ops, s in zip(self.counted, self.seconds)]

    @property
    def median(self) -> float | None:
        return statistics.median(self.rates) if self.status == OK and self.rates else None


def worker_env(impl: Implementation) -> dict[str, str]:
    """The parent's environment with the implementation's settings, importing this eventhub."""
    env = {k: v for k, v in os.environ.items() if k not in impl.unset_env}
    env.update(impl.env)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def run_cell(
    impl: Implementation,
    workload: Workload,
    settings: Settings,
    on_sample: Callable[[Cell], Any] = lambda cell: None,
) -> Cell:
    """Run ``settings.repeat`` samples of ``workload`` on ``impl`` in a fresh worker process."""
    cell = Cell(impl.name, workload.name, expected=workload.expected(settings.sizes))
    cmd = [sys.executable, "-m", "eventhub.bench._worker", impl.name, workload.name]
    cmd += ["--repeat", str(settings.repeat), "--scale", repr(settings.scale), "--budget", repr(settings.budget)]
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=worker_env(impl), text=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(settings.time_limit, kill)
        timer.start()
        try:
            _read_events(proc.stdout, cell, on_sample)
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr.seek(0)
        errors = stderr.read()
    judge(cell, settings, returncode, errors, timed_out.is_set())
    return cell


def _how_it_ended(returncode: int, timed_out: bool, settings: Settings) -> str:
    if timed_out:
        return f"was killed after the --time-limit of {settings.time_limit:g}s"
    if returncode < 0:
        try:
            return f"died of {signal.Signals(-returncode).name}"
        except ValueError:
            return f"died of signal {-returncode}"
    return f"exited with status {returncode}"


def judge(cell: Cell, settings: Settings, returncode: int, errors: str, timed_out: bool = False) -> None:
    """Turn a finished worker's cell into an error if it crashed, hung or miscounted."""
    if cell.status == OK:
        if returncode != 0 or timed_out:
            cell.status = ERROR
            how = _how_it_ended(returncode, timed_out, settings)
            cell.reason = f"worker {how}: {_tail(errors) or 'no output on stderr'}"
        elif not cell.counted:
            cell.status, cell.reason = ERROR, "the worker gave no sample"
        elif any(c != cell.expected for c in cell.counted):
            cell.status = ERROR
            cell.reason = f"counted {cell.counted} operations, expected {cell.expected} each"
        elif len(cell.counted) < settings.repeat:
            cell.note = f"{len(cell.counted)} of {settings.repeat} samples (--budget {settings.budget:g}s reached)"


def _read_events(stream: IO[str] | None, cell: Cell, on_sample: Callable[[Cell], Any]) -> None:
    assert stream is not None
    statuses = {"unavailable": SKIPPED, "n/a": NOT_APPLICABLE, "error": ERROR}
    for line in stream:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a framework printed to stdout: not ours
        kind = event.get("event")
        if kind == "start":
            cell.description = event["description"]
        elif kind == "sample":
            cell.counted.append(event["ops"])
            cell.seconds.append(event["seconds"])
            on_sample(cell)
        elif kind in statuses:
            cell.status, cell.reason = statuses[kind], event["reason"]


def run_all(
    implementations: list[Implementation],
    workloads: list[Workload],
    settings: Settings,
    progress: TextIO,
) -> list[Cell]:
    """Every workload on every implementation; an unavailable one is tried only once."""
    cells: list[Cell] = []
    total = len(implementations) * len(workloads)
    step = 0
    for impl in implementations:
        unavailable: str | None = None
        for workload in workloads:
            step += 1
            if unavailable is not None:
                cells.append(Cell(impl.name, workload.name, SKIPPED, unavailable))
                continue
            progress.write(f"[{step}/{total}] {impl.name} {workload.name} ")
            progress.flush()
            cell = run_cell(impl, workload, settings, lambda c: _dot(progress))
            progress.write(_summary(cell, workload) + "\n")
            progress.flush()
            if cell.status == SKIPPED:
                unavailable = cell.reason
            cells.append(cell)
    return cells


def _dot(progress: TextIO) -> None:
    progress.write(".")
    progress.flush()


def _summary(cell: Cell, workload: Workload) -> str:
    if cell.median is not None:
        return f"{cell.median:,.0f} {workload.unit}"
    return f"{cell.status}: {cell.reason}"
