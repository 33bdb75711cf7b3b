"""What ``eventhub-run`` changes in eventlet, in each process, the moment eventlet is imported.

- ``eventlet.hubs.use_hub`` becomes ``use_hub`` below, which hands
  eventlet's own use_hub eventhub's class in place of eventlet's built-in
  hubs (``replacement_for``).  ``eventlet.hubs.get_hub()`` calls it when a
  thread has no hub yet, so the application's own ``use_hub("poll")``, its
  ``use_hub()`` and a plain ``get_hub()`` all end on eventhub's hubs, while
  a third-party hub, named in code or in ``EVENTLET_HUB``, is used as given.
- eventlet's green queues are made fair (``eventhub.eventlet_queue``),
  unless ``EVENTHUB_RUN_FAIR_QUEUES=0``.
- Unless ``EVENTHUB_RUN_FAST_IO=0``: eventlet's ``GreenSocket`` gets the
  compiled recv/recv_into/send/sendall (``eventhub.eventlet_greenio``, the
  compiled variant only), and ``eventlet.websocket``, when the program
  imports it, the whole-frame unmasking (``eventhub.eventlet_websocket``).
- With ``EVENTHUB_RUN_REPORT`` set, each hub eventlet creates, and the hub
  a forked child inherits, is written to that file (``eventhub.run.report``).

eventlet's modules and classes are otherwise untouched: a program that
subclasses or checks ``eventlet.hubs.poll.Hub`` still finds eventlet's class.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

import eventlet.hubs
import eventlet.hubs.asyncio
import eventlet.hubs.epolls
import eventlet.hubs.poll
import eventlet.hubs.selects

import eventhub.eventlet as adapter
from eventhub import eventlet_greenio, eventlet_queue
from eventhub.hubs import hub as pure_hub
from eventhub.hubs._variant import load_compiled, variant_of
from eventhub.run import FAIR_QUEUES_ENV, FAST_IO_ENV, REPORT_ENV, after_import, report, switch_wanted

__all__ = ["REPLACED", "apply", "apply_from_environment", "replacement_for", "use_hub"]

#: eventlet's built-in hub module -> the eventhub.eventlet class used in its place.
REPLACED: dict[ModuleType, type] = {
    module: getattr(adapter, name)
    for module, name in (
        (eventlet.hubs.epolls, "EpollHub"),
        (eventlet.hubs.poll, "PollHub"),
        (eventlet.hubs.selects, "SelectHub"),
        (eventlet.hubs.asyncio, "AsyncioHub"),
    )
    if name not in adapter.UNAVAILABLE
}

_EVENTLET_PREFIX = "eventlet.hubs."
_by_name = {module.__name__.removeprefix(_EVENTLET_PREFIX): cls for module, cls in REPLACED.items()}
_by_class = {module.Hub: cls for module, cls in REPLACED.items()}

#: eventlet's own use_hub, which ``use_hub`` calls.
_eventlets_use_hub = eventlet.hubs.use_hub


def replacement_for(hub: Any) -> Any:
    """What ``use_hub(hub)`` passes on to eventlet's: ``hub`` with eventlet's built-in hubs replaced.

    None means what eventlet makes of it: ``EVENTLET_HUB`` if set, else the
    default hub, here ``eventhub.eventlet.Hub``.  Replaced are the names
    ``"epolls"``, ``"poll"``, ``"selects"``, ``"asyncio"``, the same as
    ``"eventlet.hubs.<name>"`` (optionally ``:Hub``), those modules, and
    their ``Hub`` classes.  Anything else is returned as it is.
    """
    if hub is None:
        hub = os.environ.get("EVENTLET_HUB")
        if hub is None:
            return adapter.Hub
    if isinstance(hub, str):
        name = hub.strip()
        if name.startswith(_EVENTLET_PREFIX):
            module_name, _, class_name = name.removeprefix(_EVENTLET_PREFIX).partition(":")
            if class_name in ("", "Hub"):
                name = module_name
        return _by_name.get(name, hub)
    if isinstance(hub, ModuleType):
        return REPLACED.get(hub, hub)
    if isinstance(hub, type):
        return _by_class.get(hub, hub)
    return hub


def use_hub(mod: Any = None) -> None:
    """``eventlet.hubs.use_hub``, with eventhub's hubs in place of eventlet's built-in ones.

    Takes what eventlet's takes and passes it on through ``replacement_for``.
    """
    _eventlets_use_hub(replacement_for(mod))


def apply(*, fair_queues: bool, fast_io: bool, report_path: str | None) -> None:
    """Make this process's eventlet use eventhub's hubs (and fair queues, fast I/O, and report its hubs).

    To be called before eventlet's hub of any thread exists (the bootstrap
    calls it as eventlet's import ends); calling it again changes nothing.
    """
    if eventlet.hubs.use_hub is use_hub:
        return
    if hasattr(eventlet.hubs._threadlocal, "hub"):
        raise RuntimeError("eventhub-run: eventlet's hub was created before eventhub could take its place")
    eventlet.hubs.use_hub = use_hub
    if fair_queues and not eventlet_queue.install():
        sys.stderr.write("eventhub-run: this eventlet's queues are not as eventhub.eventlet_queue expects: "
                         "left unfair\n")
    if fast_io:
        # The pure variant's methods are eventlet's own: nothing to install.
        if eventlet_greenio.VARIANT == "compiled" and not eventlet_greenio.install():
            sys.stderr.write("eventhub-run: this eventlet's green sockets are not as eventhub.eventlet_greenio "
                             "expects: left as they are\n")
        after_import.call_after_import("eventlet.websocket", _install_websocket_masking)
    if report_path:
        _report_hubs(report_path)


def apply_from_environment() -> None:
    """``apply()`` with the settings of ``EVENTHUB_RUN_FAIR_QUEUES``, ``EVENTHUB_RUN_FAST_IO`` and ``EVENTHUB_RUN_REPORT``."""
    apply(fair_queues=switch_wanted(FAIR_QUEUES_ENV, os.environ), fast_io=switch_wanted(FAST_IO_ENV, os.environ),
          report_path=os.environ.get(REPORT_ENV) or None)


def _install_websocket_masking() -> None:
    # Imported here: eventhub.eventlet_websocket imports eventlet.websocket.
    from eventhub import eventlet_websocket

    eventlet_websocket.install()


def _report_hubs(path: str) -> None:
    """Append a report line for each hub eventlet creates here, and for the one a forked child inherits."""

    def write(event: str, hub: Any) -> None:
        cls = type(hub)
        line = report.HubLine(pid=os.getpid(), ppid=os.getppid(), event=event,
                              hub=f"{cls.__module__}:{cls.__qualname__}", variant=_variant(hub))
        try:
            report.append(path, line)
        except OSError as e:  # the application goes on; the missing line tells the reader
            sys.stderr.write(f"eventhub-run: cannot append to the hub report {path}: {e}\n")

    # eventlet's get_hub() stores each thread's new hub in this thread-local:
    # a subclass of its type sees the store.
    class ReportingLocal(type(eventlet.hubs._threadlocal)):  # type: ignore[misc]
        def __setattr__(self, name: str, value: Any) -> None:
            super().__setattr__(name, value)
            if name == "hub":
                write("created", value)

    eventlet.hubs._threadlocal = ReportingLocal()

    def after_fork_in_child() -> None:
        hub = getattr(eventlet.hubs._threadlocal, "hub", None)
        if hub is not None:
            write("forked", hub)

    os.register_at_fork(after_in_child=after_fork_in_child)


def _variant(hub: Any) -> str:
    """"compiled" or "pure" for one of eventhub's hubs, "-" for any other."""
    core = load_compiled("_core")
    eventhub_bases = (pure_hub.BaseHub,) if core is None else (pure_hub.BaseHub, core.BaseHub)
    return variant_of(hub) if isinstance(hub, eventhub_bases) else "-"
