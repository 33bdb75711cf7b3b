"""What the worker runs: a ``WorkloadRunner`` is one implementation, loaded and ready to run workloads."""

from __future__ import annotations

from typing import Callable, Protocol

from eventhub.bench.green import WORKLOAD_FUNCTIONS, GreenAPI, Sample
from eventhub.bench.workloads import Sizes


class Unavailable(Exception):
    """The implementation cannot run here (not importable, not built, ...)."""


class NotApplicable(Exception):
    """The implementation cannot run this one workload, by design."""


class WorkloadRunner(Protocol):
    """One implementation; ``run`` does one sample of one workload."""

    description: str

    def run(self, workload: str, sizes: Sizes) -> Sample: ...


class GreenWorkloadRunner:
    """A greenlet framework: ``reset`` gives each sample a fresh hub."""

    def __init__(
        self,
        description: str,
        api: GreenAPI,
        reset: Callable[[], object],
        not_applicable: dict[str, str] | None = None,
    ) -> None:
        self.description = description
        self.api = api
        self.reset = reset
        self.not_applicable = not_applicable or {}

    def run(self, workload: str, sizes: Sizes) -> Sample:
        if workload in self.not_applicable:
            raise NotApplicable(self.not_applicable[workload])
        if workload == "await" and self.api.run_coroutine is None:
            raise NotApplicable("greenthreads do not run on an asyncio loop here (only on an asyncio hub)")
        self.reset()
        return WORKLOAD_FUNCTIONS[workload](self.api, sizes)
