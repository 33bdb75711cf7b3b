"""eventlet as a benchmark target, on the hub ``$EVENTLET_HUB`` names.

The orchestrator sets ``EVENTLET_HUB`` (``epolls``, or eventhub's adapter
``eventhub.eventlet:Hub`` in ``--eventlet`` mode) in the worker's
environment; eventlet reads it itself, as it would in an application.
"""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

from eventhub.bench import certs
from eventhub.bench.green import GreenAPI, GreenTLS, Scheduler, contexts_of
from eventhub.bench.target import GreenTarget, Unavailable


def _check_hub_module(hub: str) -> None:
    """Import a third-party hub module first, so its failure is reported as such."""
    if "." not in hub and ":" not in hub:
        return
    module_name = hub.partition(":")[0]
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise Unavailable(f"cannot import {module_name}: {e}") from None
    available = getattr(module, "is_available", None)
    if available is not None and not available():
        raise Unavailable(f"{module_name}.is_available() is False")


def _coroutine_runner(hub: Any) -> Any:
    """On eventlet's asyncio hub (or one passing for it): run a coroutine to its result."""
    hubs_asyncio = importlib.import_module("eventlet.hubs.asyncio")
    if not isinstance(hub, hubs_asyncio.Hub):
        return None
    spawn_for_awaitable = importlib.import_module("eventlet.asyncio").spawn_for_awaitable
    return lambda coro: spawn_for_awaitable(coro).wait()


def load() -> GreenTarget:
    hub_name = os.environ.get("EVENTLET_HUB", "")
    if not hub_name:
        raise Unavailable("EVENTLET_HUB is not set")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet's deprecation notice
            import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import eventlet.event  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import eventlet.green.socket  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import eventlet.green.ssl  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import eventlet.hubs  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import eventlet.tpool  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as e:
        raise Unavailable(f"cannot import eventlet: {e}") from None
    _check_hub_module(hub_name)
    hub = eventlet.hubs.get_hub()
    hub_type = type(hub)

    def event() -> tuple[Any, Any]:
        ev = eventlet.event.Event()
        return ev.wait, ev.send

    def scheduler() -> Scheduler:
        schedule: Scheduler = eventlet.hubs.get_hub().schedule_call_global
        return schedule

    def listen(backlog: int) -> Any:
        return eventlet.listen(("127.0.0.1", 0), backlog=backlog)

    def tls_server(sock: Any, context: Any) -> Any:
        return context.wrap_socket(sock, server_side=True)

    def tls_connect(address: tuple[str, int], context: Any) -> Any:
        return context.wrap_socket(eventlet.connect(address), server_hostname=certs.HOSTNAME)

    api = GreenAPI(
        spawn=eventlet.spawn,
        join=eventlet.greenthread.GreenThread.wait,
        sleep=eventlet.sleep,
        start_timeout=eventlet.Timeout,
        cancel_timeout=eventlet.Timeout.cancel,
        timer_scheduler=scheduler,
        new_event=event,
        socketpair=eventlet.green.socket.socketpair,
        listen=listen,
        connect=eventlet.connect,
        to_thread=eventlet.tpool.execute,
        tls=GreenTLS(contexts_of(eventlet.green.ssl.SSLContext), tls_server, tls_connect),
        run_coroutine=_coroutine_runner(hub),
    )
    return GreenTarget(
        f"eventlet {eventlet.__version__} {hub_type.__module__}.{hub_type.__qualname__}",
        api,
        eventlet.hubs.use_hub,  # a fresh hub of $EVENTLET_HUB's class
    )
