"""The orchestrator: one worker process per (implementation, workload).

A worker that crashes, hangs past its time limit or miscounts is reported
as an error for that cell only; the run goes on.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import IO, TextIO

from eventhub.bench import speed
from eventhub.bench.impls import Implementation
from eventhub.bench.workloads import WORKLOAD_NAMES, Sizes, Workload, get_workload

#: Cell statuses: measured, implementation missing, workload impossible by design, failure.
OK, SKIPPED, NOT_APPLICABLE, ERROR = "ok", "skipped", "n/a", "error"


def missing_module(modules: Iterable[str]) -> str | None:
    """The first of ``modules`` that cannot be found here, or None if all can."""
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a missing parent package
            found = False
        if not found:
            return module
    return None


@dataclass(frozen=True)
class Settings:
    """How hard to run each cell."""

    scale: float = 1.0  # multiplies every workload's operation count
    repeat: int = 5  # samples per cell; the median is reported
    budget: float = 60.0  # stop repeating once a cell's samples took this long
    time_limit: float = 600.0  # kill a worker running longer than this
    retakes: int = 2  # times a sample is taken again when the machine's speed changed during it

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
    speeds: list[tuple[float, float]] = field(default_factory=list)  # speed.probe() before, after each sample
    cpu_shares: list[float] = field(default_factory=list)  # the worker's CPU time / wall time, each sample
    retaken: int = 0  # samples dropped and taken again because they were disturbed

    @property
    def rates(self) -> list[float]:
        """ops/s of each sample."""
        return [ops / max(s, 1e-9) for ops, s in zip(self.counted, self.seconds)]

    @property
    def median(self) -> float | None:
        return statistics.median(self.rates) if self.status == OK and self.rates else None

    @property
    def machine_speeds(self) -> list[float]:
        """The machine's speed during each sample: the mean of the probes around it."""
        return [(before + after) / 2 for before, after in self.speeds]

    @property
    def machine_speed(self) -> float | None:
        """The median machine speed over the samples, None without samples."""
        return statistics.median(self.machine_speeds) if self.speeds else None

    def last_sample_disturbed(self) -> bool:
        """Whether the machine's speed changed (the probes disagree) or other processes took the CPU during the last sample."""
        if not self.speeds:
            return False
        if not speed.same(*self.speeds[-1]):
            return True
        # A workload that waits for other threads by design leaves its CPU idle meanwhile.
        return get_workload(self.workload).busy and self.cpu_shares[-1] < speed.MIN_CPU_SHARE

    def drop_last_sample(self) -> None:
        del self.counted[-1], self.seconds[-1], self.speeds[-1], self.cpu_shares[-1]


def worker_env(impl: Implementation) -> dict[str, str]:
    """The parent's environment with the implementation's settings, importing this eventhub."""
    env = {k: v for k, v in os.environ.items() if k not in impl.unset_env}
    env.update(impl.env)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def run_sample(impl: Implementation, cell: Cell, settings: Settings) -> None:
    """Add one sample to ``cell`` from a fresh worker process, or mark the cell failed."""
    before = len(cell.counted)
    cmd = [sys.executable, "-m", "eventhub.bench._worker", impl.name, cell.workload, "--scale", repr(settings.scale)]
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=worker_env(impl), text=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(settings.time_limit, kill)
        timer.start()
        try:
            _read_events(proc.stdout, cell)
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr.seek(0)
        errors = stderr.read()
    judge(cell, settings, returncode, errors, timed_out.is_set(), before)


def why_cannot_run(impl: Implementation, time_limit: float = 120.0) -> str:
    """"" if ``impl`` loads in a worker process (as its samples will), else why not."""
    cmd = [sys.executable, "-m", "eventhub.bench._worker", impl.name, WORKLOAD_NAMES[0], "--check"]
    try:
        proc = subprocess.run(cmd, capture_output=True, env=worker_env(impl), text=True, timeout=time_limit)
    except subprocess.TimeoutExpired:
        return f"loading it took longer than {time_limit:g}s"
    cell = Cell(impl.name, WORKLOAD_NAMES[0])
    _read_events(io.StringIO(proc.stdout), cell)
    if cell.status != OK:
        return cell.reason
    if proc.returncode != 0 or not cell.description:
        return f"the worker exited with status {proc.returncode}: {_tail(proc.stderr) or 'no output on stderr'}"
    return ""


def _how_it_ended(returncode: int, timed_out: bool, settings: Settings) -> str:
    if timed_out:
        return f"was killed after the --time-limit of {settings.time_limit:g}s"
    if returncode < 0:
        try:
            return f"died of {signal.Signals(-returncode).name}"
        except ValueError:
            return f"died of signal {-returncode}"
    return f"exited with status {returncode}"


def judge(
    cell: Cell, settings: Settings, returncode: int, errors: str, timed_out: bool = False, before: int = 0
) -> None:
    """After a worker ends: the cell is an error if it crashed, hung, gave no new sample or miscounted."""
    if cell.status != OK:
        return
    if returncode != 0 or timed_out:
        cell.status = ERROR
        how = _how_it_ended(returncode, timed_out, settings)
        cell.reason = f"worker {how}: {_tail(errors) or 'no output on stderr'}"
    elif len(cell.counted) <= before:
        cell.status, cell.reason = ERROR, "the worker gave no sample"
    elif any(c != cell.expected for c in cell.counted):
        cell.status = ERROR
        cell.reason = f"counted {cell.counted} operations, expected {cell.expected} each"


def _read_events(stream: IO[str] | None, cell: Cell) -> None:
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
            before, after = event["speed"]
            cell.speeds.append((before, after))
            cell.cpu_shares.append(event["cpu_share"])
        elif kind in statuses:
            cell.status, cell.reason = statuses[kind], event["reason"]


def run_all(
    implementations: list[Implementation],
    workloads: list[Workload],
    settings: Settings,
    progress: TextIO,
) -> list[Cell]:
    """``repeat`` rounds of every workload on every implementation, one worker per sample.

    Rounds interleave the implementations, so a load spike from elsewhere on
    the machine hits them all alike instead of skewing one.  A cell stops
    sampling when it fails, is not applicable, or has used its ``budget``;
    an unavailable implementation is tried once, on its first workload.  A
    sample during which the machine's speed changed (``speed.probe`` before
    and after disagree) or the worker had less than ``speed.MIN_CPU_SHARE``
    of a CPU is dropped and taken again, up to ``retakes`` times.
    """
    sizes = settings.sizes
    cells = {
        (impl.name, w.name): Cell(impl.name, w.name, expected=w.expected(sizes))
        for impl in implementations
        for w in workloads
    }
    by_name = {impl.name: impl for impl in implementations}
    unavailable: dict[str, str] = {}
    total = len(cells) * settings.repeat
    step = 0
    for round_ in range(1, settings.repeat + 1):
        for w in workloads:
            for impl in implementations:
                step += 1
                cell = cells[(impl.name, w.name)]
                if impl.name in unavailable:
                    cell.status, cell.reason = SKIPPED, unavailable[impl.name]
                    continue
                if cell.status != OK:
                    continue
                if sum(cell.seconds) >= settings.budget:
                    cell.note = f"{len(cell.counted)} of {settings.repeat} samples (--budget {settings.budget:g}s reached)"
                    continue
                progress.write(f"[{step}/{total}] round {round_}: {w.name} on {impl.name}: ")
                progress.flush()
                run_sample(by_name[impl.name], cell, settings)
                for _ in range(settings.retakes):
                    if cell.status != OK or not cell.last_sample_disturbed():
                        break
                    cell.drop_last_sample()
                    cell.retaken += 1
                    progress.write("disturbed (the machine's speed changed or the CPU was shared), taking it again: ")
                    progress.flush()
                    run_sample(by_name[impl.name], cell, settings)
                progress.write(_summary(cell, w) + "\n")
                progress.flush()
                if cell.status == SKIPPED:
                    unavailable[impl.name] = cell.reason
    return [cells[(impl.name, w.name)] for impl in implementations for w in workloads]


def _summary(cell: Cell, workload: Workload) -> str:
    if cell.status == OK:
        return f"{cell.rates[-1]:,.0f} {workload.unit}"
    return f"{cell.status}: {cell.reason}"
