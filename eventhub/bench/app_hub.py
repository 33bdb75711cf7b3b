"""Which hub runs this process's greenthreads: what the application benchmarks and suites check.

Called inside an application (a Socket.IO server's event handler, a Celery
task), so it imports only what that application already runs on.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def hub_description() -> dict[str, Any]:
    """The hub of this thread: ``{"class": "module:Class", "eventhub": bool, "variant": str, "pid": int}``.

    The hub is eventlet's (``eventlet.hubs.get_hub()``) once eventlet has
    monkey-patched this process or when gevent has not, else gevent's.
    ``eventhub`` is True for eventhub's classes for eventlet (all in
    ``eventhub.eventlet``, which was imported to make them the hub);
    ``variant`` is then ``"compiled"`` or ``"pure"``, else ``"-"``.
    """
    if _gevent_runs_here():
        import gevent  # type: ignore[import-untyped,import-not-found,unused-ignore]

        hub = gevent.get_hub()
    else:
        import eventlet.hubs  # type: ignore[import-untyped,import-not-found,unused-ignore]

        hub = eventlet.hubs.get_hub()
    cls = type(hub)
    answer: dict[str, Any] = {"class": f"{cls.__module__}:{cls.__qualname__}", "eventhub": False, "variant": "-",
                              "pid": os.getpid()}
    adapter = sys.modules.get("eventhub.eventlet")
    if adapter is not None and isinstance(hub, adapter.EventletHubMixin):
        from eventhub.hubs import hub_variant

        answer.update(eventhub=True, variant=hub_variant(hub))
    return answer


def _gevent_runs_here() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("socket"))
