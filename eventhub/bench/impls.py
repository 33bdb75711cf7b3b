"""The implementations the bench compares, and how a worker process loads one."""

from __future__ import annotations

import fnmatch
import importlib
from dataclasses import dataclass, field

from eventhub.bench.workload_runner import WorkloadRunner
from eventhub.hubs import BUILTIN_HUBS

VARIANTS = ("compiled", "pure")
#: The eventlet hub ``--eventlet`` mode compares eventlet's own epolls hub with.
EVENTHUB_FOR_EVENTLET = "eventhub.eventlet:Hub"


@dataclass(frozen=True)
class Implementation:
    """One row of the table: a framework, configured, in its own process."""

    name: str
    kind: str  # "eventhub", "eventlet", "gevent" or "asyncio"
    option: str = ""  # eventhub: "backend-variant"; asyncio: the loop
    env: dict[str, str] = field(default_factory=dict)  # set in the worker
    unset_env: tuple[str, ...] = ("EVENTHUB_HUB", "EVENTHUB_NO_EXTENSIONS", "EVENTLET_HUB")

    def load(self) -> WorkloadRunner:
        """Import the framework and build its workload runner (in the worker process)."""
        if self.kind == "eventhub":
            from eventhub.bench import green_eventhub

            backend, variant = self.option.split("-")
            return green_eventhub.load(backend, variant)
        if self.kind == "eventlet":
            from eventhub.bench import green_eventlet

            return green_eventlet.load()
        if self.kind == "gevent":
            from eventhub.bench import green_gevent

            return green_gevent.load()
        if self.kind == "asyncio":
            from eventhub.bench import aio

            return aio.load(self.option)
        raise ValueError(f"unknown implementation kind {self.kind!r}")


def _eventhub(backend: str, variant: str) -> Implementation:
    env = {"EVENTHUB_NO_EXTENSIONS": "1"} if variant == "pure" else {}
    return Implementation(f"{backend}-{variant}", "eventhub", f"{backend}-{variant}", env)


def _has_variant(backend: str, variant: str) -> bool:
    """False only where the design has no such variant (pyevent has no pure one)."""
    if variant == "compiled":
        return True  # listed even when not built, so the table says so
    return importlib.import_module(f"eventhub.hubs.{backend}").PureHub is not None


#: The default run: every eventhub hub in both variants, then the peers.
DEFAULT: tuple[Implementation, ...] = (
    *(_eventhub(b, v) for b in BUILTIN_HUBS for v in VARIANTS if _has_variant(b, v)),
    *(_eventhub("asyncio+uvloop", v) for v in VARIANTS),
    Implementation("eventlet", "eventlet", env={"EVENTLET_HUB": "epolls"}),
    Implementation("eventlet-asyncio", "eventlet", env={"EVENTLET_HUB": "asyncio"}),
    Implementation("gevent", "gevent"),
    Implementation("asyncio", "asyncio", "asyncio"),
    Implementation("uvloop", "asyncio", "uvloop"),
)

#: ``--eventlet``: eventlet's own API on its epolls hub and on eventhub's adapter.
EVENTLET: tuple[Implementation, ...] = (
    Implementation("eventlet-epolls", "eventlet", env={"EVENTLET_HUB": "epolls"}),
    Implementation("eventlet-eventhub", "eventlet", env={"EVENTLET_HUB": EVENTHUB_FOR_EVENTLET}),
)


def find(name: str) -> Implementation:
    """The implementation called ``name`` in either mode; ``KeyError`` if none."""
    for impl in DEFAULT + EVENTLET:
        if impl.name == name:
            return impl
    raise KeyError(name)


def select(candidates: tuple[Implementation, ...], patterns: list[str] | None) -> list[Implementation]:
    """The candidates matching any of the shell-style ``patterns`` (all if None)."""
    if not patterns:
        return list(candidates)
    chosen = [impl for impl in candidates if any(fnmatch.fnmatchcase(impl.name, p) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(i.name, p) for i in candidates)]
    if unmatched:
        names = ", ".join(i.name for i in candidates)
        raise ValueError(f"no implementation matches {', '.join(unmatched)} (choose from {names})")
    return chosen


def baseline_candidates(eventlet_mode: bool) -> tuple[str, ...]:
    """The default baselines, in order of preference: the first that can run is used.

    eventlet's epolls hub in --eventlet mode; else the compiled epolls hub,
    or the pure one where the compiled one does not run (not built, or built
    but not importable on this Python).
    """
    return ("eventlet-epolls",) if eventlet_mode else ("epolls-compiled", "epolls-pure")
