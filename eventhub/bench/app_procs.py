"""How the application benchmarks and suites start an application on a given hub, and check which hub ran it.

A ``HubChoice`` is one way to run an eventlet (or gevent) program: under
``eventhub-run`` on eventhub's compiled or pure-Python hub, plainly on
eventlet's own epolls hub, or on gevent.  ``command()`` and
``environment()`` make the process; ``proof()`` checks what the process
said about its hub (``eventhub.bench.app_hub.hub_description``) and, under
the launcher, its hub report (``eventhub-run --report``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventhub.bench.http_servers import _stop as stop  # SIGTERM (a Celery worker's warm shutdown), then SIGKILL
from eventhub.run import report

__all__ = ["EVENTHUB", "EVENTHUB_PURE", "EVENTLET", "GEVENT", "HUB_ENV", "HubChoice", "stop"]

#: Environment variables that would put a plain run on another hub, or change the launcher's doing.
HUB_ENV = ("EVENTHUB_RUN", "EVENTHUB_RUN_FAIR_QUEUES", "EVENTHUB_RUN_FAST_IO", "EVENTHUB_RUN_REPORT", "EVENTLET_HUB",
           "EVENTHUB_NO_EXTENSIONS", "EVENTHUB_HUB")


@dataclass(frozen=True)
class HubChoice:
    """One way to run an application, and the hub it must then report."""

    name: str
    description: str
    launcher: bool  # under eventhub-run
    env: tuple[tuple[str, str], ...]
    hub_class: str  # what hub_description() must say ("module:Class"; a prefix ending in "." for gevent)
    variant: str  # "compiled", "pure" or "-"

    def command(self, program: list[str], hub_report: Path | None = None) -> list[str]:
        """``program`` (a command line) run this way."""
        if not self.launcher:
            return program
        launcher = [str(Path(sys.executable).parent / "eventhub-run")]
        if not Path(launcher[0]).exists():  # eventhub not installed with its scripts: the same launcher
            launcher = [sys.executable, "-m", "eventhub.run"]
        return [*launcher, *(["--report", str(hub_report)] if hub_report else []), "--", *program]

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in HUB_ENV}
        env.update(self.env)
        env.update(extra or {})
        return env

    def matches(self, described: dict[str, Any]) -> bool:
        cls = str(described.get("class", ""))
        same_class = cls.startswith(self.hub_class) if self.hub_class.endswith(".") else cls == self.hub_class
        return same_class and described.get("variant") == self.variant

    def proof(self, described: dict[str, Any], pid: int, hub_report: Path | None = None) -> list[str]:
        """What is wrong with the claim that process ``pid`` ran on this hub (nothing: it did)."""
        problems = []
        if not self.matches(described):
            problems.append(f"pid {described.get('pid')} ran on {described.get('class')} ({described.get('variant')}), "
                            f"not on {self.hub_class} ({self.variant})")
        if described.get("pid") != pid:
            problems.append(f"the hub was described by pid {described.get('pid')}, not by the application's {pid}")
        if self.launcher and hub_report is not None:
            lines = report.read(hub_report)
            problems += [f"hub report: pid {line.pid} ran {line.hub} ({line.variant})" for line in lines
                         if not self.matches({"class": line.hub, "variant": line.variant})]
            if not any(line.pid == pid for line in lines):
                problems.append(f"hub report {hub_report}: no line from pid {pid}")
        return problems


EVENTHUB = HubChoice("eventhub", "eventhub-run: eventhub.eventlet's compiled epolls hub", True, (),
                     "eventhub.eventlet:EpollHub", "compiled")
EVENTHUB_PURE = HubChoice("eventhub-pure", "eventhub-run, EVENTHUB_NO_EXTENSIONS=1: the pure-Python epolls hub", True,
                          (("EVENTHUB_NO_EXTENSIONS", "1"),), "eventhub.eventlet:EpollHub", "pure")
EVENTLET = HubChoice("eventlet", "eventlet's own epolls hub", False, (("EVENTLET_HUB", "epolls"),),
                     "eventlet.hubs.epolls:Hub", "-")
GEVENT = HubChoice("gevent", "gevent (its libev/libuv loop)", False, (), "gevent.", "-")
