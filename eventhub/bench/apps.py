"""``--apps``: benchmarks of real eventlet applications, eventhub's hub against eventlet's, same run.

Each application's benchmark is a module of this package named in
``APP_BENCHES``; it offers ``DESCRIPTION`` (one line) and
``run(settings, progress) -> AppReport``: it starts the application's
processes itself (each sample in a fresh process), checks which hub served
each of them, and returns its own table, its JSON and its verdict.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

#: ``--apps`` name -> the module that benchmarks that application.
APP_BENCHES: dict[str, str] = {
    "oslo": "eventhub.bench.apps_oslo",
    "celery": "eventhub.bench.apps_celery",
    "socketio": "eventhub.bench.apps_socketio",
}


@dataclass(frozen=True)
class AppSettings:
    """How long and how often each application benchmark measures."""

    rounds: int = 3  # samples per cell, interleaved over the implementations; medians reported
    duration: float = 5.0  # measured seconds per sample
    warm_up: float = 1.0  # seconds run before measuring, in each sample
    time_limit: float = 300.0  # a sample's process running longer than this is killed and an error


@dataclass
class AppReport:
    """One application benchmark's outcome."""

    app: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    #: A sample failed (crashed, timed out, ran on the wrong hub): the command exits non-zero.
    failed: bool = False


class AppBench(Protocol):
    DESCRIPTION: str

    def run(self, settings: AppSettings, progress: TextIO) -> AppReport: ...


def load(name: str) -> AppBench:
    """The benchmark module of application ``name``; ``ValueError`` for an unknown name."""
    if name not in APP_BENCHES:
        raise ValueError(f"unknown application {name!r} (choose from {', '.join(APP_BENCHES)})")
    module: Any = importlib.import_module(APP_BENCHES[name])
    return module  # type: ignore[no-any-return]


def run(names: list[str], settings: AppSettings, progress: TextIO) -> list[AppReport]:
    """Each named application's benchmark, in order."""
    return [load(name).run(settings, progress) for name in names]
