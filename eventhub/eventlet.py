"""eventhub's hubs driving eventlet applications.

Eventlet picks a third-party hub from ``EVENTLET_HUB=package.module:Class``
(or ``eventlet.hubs.use_hub("package.module:Class")``), so one environment
variable moves an eventlet application onto eventhub::

    EVENTLET_HUB=eventhub.eventlet:Hub python app.py

``Hub`` is the backend eventhub itself would pick (epolls, else poll, else
selects), compiled when built; ``EpollHub``, ``PollHub``, ``SelectHub``,
``LibeventHub`` and ``AsyncioHub`` name one backend each.  ``AsyncioHub``
(eventhub's asyncio hub) is also a subclass of eventlet's own
``eventlet.hubs.asyncio.Hub``, so eventlet's asyncio helpers
(``eventlet.asyncio.spawn_for_awaitable``, ``await greenthread``) and its
tests, which check for that class, accept it.  A backend that is not available on
this system (``LibeventHub`` without the libevent extension, ``EpollHub``
off Linux) is listed in ``UNAVAILABLE`` with the reason, and asking this
module for it raises ``AttributeError`` carrying that reason.

Each class is an eventhub hub class plus ``EventletHubMixin``, which changes
only where eventlet's expectations differ from eventhub's own:

- greenthreads whose fd was reused get eventlet's ``eventlet.hubs.IOClosed``
  (eventlet's green sockets catch that exact class);
- a second reader or writer on one fd is refused only while
  ``eventlet.debug.hub_prevent_multiple_readers`` is on (and the hub's own
  ``prevent_multiple_readers`` attribute is true);
- ``notify_close(fd)`` does nothing, as in eventlet: waiters on an fd closed
  by another greenthread are not woken with ``IOClosed`` (eventlet's
  sockets would turn that into ``EOFError`` in readers, which eventlet
  applications do not expect); they learn of a reuse through
  ``mark_as_reopened`` like on eventlet's own hubs.

Importing ``eventhub`` never imports eventlet; importing this module does.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

try:
    import eventlet.hubs
    import eventlet.hubs.asyncio
    import eventlet.hubs.hub
    import eventlet.patcher
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("eventhub.eventlet adapts eventhub's hubs to eventlet, which is not installed") from e

from eventhub import hubs as _hubs
from eventhub.hubs import get_default_hub


def _import_unpatched(name: str) -> ModuleType:
    """Import a hub backend module as if ``eventlet.monkey_patch()`` had not run yet.

    It has run already when an application calls ``use_hub()`` after
    monkey-patching: ``select`` then lacks ``epoll`` and ``poll`` and has a
    green ``select()``, which eventhub's backends bind at import.  So they are
    imported with eventlet's saved original ``select`` in ``sys.modules``.
    """
    if not eventlet.patcher.is_monkey_patched("select"):
        return importlib.import_module(name)
    patched = sys.modules["select"]
    sys.modules["select"] = eventlet.patcher.original("select")
    try:
        return importlib.import_module(name)
    finally:
        sys.modules["select"] = patched


epolls = _import_unpatched("eventhub.hubs.epolls")
poll = _import_unpatched("eventhub.hubs.poll")
selects = _import_unpatched("eventhub.hubs.selects")
pyevent = _import_unpatched("eventhub.hubs.pyevent")
asyncio_hub = _import_unpatched("eventhub.hubs.asyncio")


class EventletHubMixin:
    """What eventlet expects of a hub beyond eventhub's hub contract.

    Put first in the bases, before an eventhub hub class; it overrides only
    the hooks ``BaseHub`` offers for this (``IOClosed``,
    ``multiple_readers_prevented``) and ``notify_close``.
    """

    IOClosed: type[BaseException] = eventlet.hubs.IOClosed

    prevent_multiple_readers: bool

    @staticmethod
    def is_available() -> bool:
        """Eventlet asks this of a hub passed as a class; an adapter class exists only where it works."""
        return True

    def multiple_readers_prevented(self) -> bool:
        """True unless eventlet's switch (or the hub's own attribute) allows it."""
        return bool(eventlet.hubs.hub.g_prevent_multiple_readers) and self.prevent_multiple_readers

    def notify_close(self, fileno: int) -> None:
        """Ignore an announced close, as eventlet's hubs do (see the module doc)."""


def _reinit_after_fork() -> None:
    """In a forked child: eventlet's hub of the forking thread, if it is one of
    these classes, gets its own kernel state (its own epoll set, waker, ...).

    eventhub does this for the hub ``eventhub.hubs`` knows of, but eventlet
    keeps its hub in a thread-local of its own: without this, parent and
    child would share one epoll instance and take each other's events.
    """
    hub = getattr(eventlet.hubs._threadlocal, "hub", None)
    ours: object = _hubs._current_hub()  # eventhub.hubs reinitialized that one already
    if isinstance(hub, EventletHubMixin) and hub is not ours:
        hub.reinit()  # type: ignore[attr-defined]


os.register_at_fork(after_in_child=_reinit_after_fork)


#: Backend modules by the name of the class that adapts them.
BACKENDS: dict[str, ModuleType] = {
    "EpollHub": epolls,
    "PollHub": poll,
    "SelectHub": selects,
    "LibeventHub": pyevent,
    "AsyncioHub": asyncio_hub,
}


class EventletAsyncioMixin:
    """What eventlet's asyncio helpers need beyond ``EventletHubMixin``.

    Listed before eventlet's ``eventlet.hubs.asyncio.Hub`` in the bases (that
    class is there only for ``isinstance``): its ``_post_initialize`` would
    replace the hub's loop with a new one, so this one only undoes, as it
    does, monkey-patching inside asyncio's modules.
    """

    def _post_initialize(self) -> None:
        """Called by eventlet after creating the hub: asyncio must use the unpatched stdlib."""
        eventlet.patcher._unmonkey_patch_asyncio_all()


#: Adapter class name -> bases beyond EventletHubMixin and the backend's Hub.
EXTRA_BASES: dict[str, tuple[type, ...]] = {
    "AsyncioHub": (EventletAsyncioMixin,),
}
#: Adapter class name -> eventlet classes it must pass isinstance() for (last in the bases).
EVENTLET_BASES: dict[str, tuple[type, ...]] = {
    "AsyncioHub": (eventlet.hubs.asyncio.Hub,),
}

#: Adapter class name -> why that backend cannot be used on this system.
UNAVAILABLE: dict[str, str] = {}


def _adapt(name: str, backend: ModuleType) -> type | None:
    """The eventlet-facing subclass of ``backend.Hub``, or None if unavailable."""
    if backend.Hub is None or not backend.is_available():
        why = getattr(backend, "_why_unavailable", lambda: "its is_available() is False")()
        UNAVAILABLE[name] = f"{backend.__name__} is not available: {why}"
        return None
    doc = f"eventlet hub on eventhub's {backend.__name__.rsplit('.', 1)[-1]} backend ({backend.Hub.__qualname__})."
    bases = (EventletHubMixin, *EXTRA_BASES.get(name, ()), backend.Hub, *EVENTLET_BASES.get(name, ()))
    return type(name, bases, {"__module__": __name__, "__doc__": doc})


# Declared for type checkers; only the available ones are bound, below.
EpollHub: Any
PollHub: Any
SelectHub: Any
LibeventHub: Any
AsyncioHub: Any

_ADAPTED: dict[str, type] = {}
for _name, _backend in BACKENDS.items():
    _cls = _adapt(_name, _backend)
    if _cls is not None:
        _ADAPTED[_name] = _cls
globals().update(_ADAPTED)

#: The backend eventhub's own ``get_default_hub()`` picks, adapted.
Hub: Any = next(cls for name, cls in _ADAPTED.items() if BACKENDS[name] is get_default_hub())

__all__ = ["BACKENDS", "UNAVAILABLE", "EventletHubMixin", "Hub", "is_available", *_ADAPTED]


def __getattr__(name: str) -> Any:
    if name in UNAVAILABLE:
        raise AttributeError(f"eventhub.eventlet.{name} cannot be used here: {UNAVAILABLE[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_available() -> bool:
    """Eventlet asks this of a hub module: True, as ``Hub`` exists (selects always works)."""
    return Hub is not None
