"""eventhub itself as a benchmark target: one backend, one variant."""

from __future__ import annotations

import dataclasses
import importlib
import ssl
from typing import Any

import eventhub
from eventhub import hubs, net
from eventhub.bench import certs
from eventhub.bench.green import GreenAPI, GreenTLS, Scheduler, contexts_of
from eventhub.bench.target import GreenTarget, Unavailable
from eventhub.greenthread import GreenThread
from eventhub.hubs import _variant


def _event() -> tuple[Any, Any]:
    event: eventhub.Event[None] = eventhub.Event()
    return event.wait, event.send


def _scheduler() -> Scheduler:
    schedule: Scheduler = hubs.get_hub().schedule_call_global
    return schedule


def _listen(backlog: int) -> net.GreenSocket:
    return net.listen(("127.0.0.1", 0), backlog)


def _tls_server(sock: net.GreenSocket, context: ssl.SSLContext) -> net.TLSSocket:
    return net.wrap_tls(sock, context, server_side=True)


def _tls_connect(address: tuple[str, int], context: ssl.SSLContext) -> net.TLSSocket:
    return net.connect(address, tls=context, server_hostname=certs.HOSTNAME)


API = GreenAPI(
    spawn=eventhub.spawn,
    join=GreenThread.wait,
    sleep=eventhub.sleep,
    start_timeout=eventhub.Timeout,
    cancel_timeout=eventhub.Timeout.cancel,
    timer_scheduler=_scheduler,
    new_event=_event,
    socketpair=net.socketpair,
    listen=_listen,
    connect=net.connect,
    to_thread=eventhub.to_thread,
    tls=GreenTLS(contexts_of(ssl.SSLContext), _tls_server, _tls_connect),
)


def hub_class(backend: str, variant: str) -> Any:
    """The hub class of ``backend`` in ``variant`` ("compiled" or "pure"), or ``Unavailable``."""
    module = importlib.import_module(f"eventhub.hubs.{backend}")
    if not module.is_available():
        raise Unavailable(module._why_unavailable())
    if variant == "pure":
        if not _variant.NO_EXTENSIONS:
            raise Unavailable("the pure variant must run with EVENTHUB_NO_EXTENSIONS=1")
        cls = module.PureHub
        if cls is None:
            raise Unavailable(f"{backend} has no pure-Python variant")
    else:
        cls = module.CompiledHub
        if cls is None:
            if _variant.IMPORT_ERRORS:  # built, but broken: say how
                errors = "; ".join(f"{name}: {error}" for name, error in sorted(_variant.IMPORT_ERRORS.items()))
                raise Unavailable(f"the compiled {backend} hub does not import ({errors})")
            raise Unavailable(f"the compiled {backend} extension is not built")
    return cls


def on_uvloop(cls: Any) -> Any:
    """An asyncio hub class whose own loops are uvloop's, or ``Unavailable``."""
    try:
        import uvloop
    except ImportError:
        raise Unavailable("uvloop is not installed") from None
    return type(f"Uvloop{cls.__name__}", (cls,), {"loop_factory": staticmethod(uvloop.new_event_loop)})


def load(backend: str, variant: str) -> GreenTarget:
    """``backend`` may be ``asyncio+uvloop``: the asyncio hub on uvloop's loop."""
    backend, _, loop = backend.partition("+")
    cls = hub_class(backend, variant)
    if loop == "uvloop":
        cls = on_uvloop(cls)
    elif loop:
        raise Unavailable(f"unknown loop {loop!r} (only asyncio+uvloop)")
    not_applicable = {}
    if backend == "selects":
        from eventhub.hubs.selects import FD_SETSIZE

        not_applicable["idle"] = f"select() cannot watch fds >= FD_SETSIZE ({FD_SETSIZE})"
    api = API
    if backend == "asyncio":
        from eventhub.asyncio import await_

        api = dataclasses.replace(API, run_coroutine=await_)
    return GreenTarget(
        f"eventhub {eventhub.__version__} {cls.__module__}.{cls.__qualname__}",
        api,
        lambda: hubs.use_hub(cls),
        not_applicable,
    )
