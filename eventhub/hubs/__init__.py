"""The public hub API: choose a hub, get this thread's hub, wait on fds.

Hubs are per OS thread: ``use_hub()`` and ``get_hub()`` act on the calling
thread only.  A thread's hub is destroyed (its descriptors closed) when the
thread ends; after ``os.fork()`` the child's hub of the forking thread gets
fresh kernel state (``hub.reinit()``).
"""

from __future__ import annotations

import importlib
import os
import threading
from types import ModuleType
from typing import Any, Callable, Final, TypeAlias

from greenlet import getcurrent

from eventhub.hubs._variant import NO_EXTENSIONS, variant_of
from eventhub.hubs.errors import HubDestroyed, HubError, IOClosed
from eventhub.hubs.protocol import HasFileno, HubAPI, ListenerAPI, TimerAPI

__all__ = [
    "BUILTIN_HUBS",
    "DEFAULT_ORDER",
    "COMPILED",
    "HubDestroyed",
    "HasFileno",
    "HubAPI",
    "HubError",
    "IOClosed",
    "ListenerAPI",
    "NO_EXTENSIONS",
    "VARIANT",
    "get_default_hub",
    "get_hub",
    "hub_variant",
    "notify_close",
    "notify_opened",
    "TimerAPI",
    "trampoline",
    "use_hub",
]

#: The short names ``use_hub()`` and ``EVENTHUB_HUB`` accept.
BUILTIN_HUBS: Final[tuple[str, ...]] = ("epolls", "poll", "selects", "pyevent", "asyncio")
#: The order ``get_default_hub()`` tries; pyevent and asyncio are opt-in only.
DEFAULT_ORDER: Final[tuple[str, ...]] = ("epolls", "poll", "selects")

#: True when the pure-Python variant is forced (EVENTHUB_NO_EXTENSIONS).
NO_EXTENSIONS = NO_EXTENSIONS

_local = threading.local()

#: Called after a thread's hub is replaced or dropped: the compiled core
#: caches each thread's hub and registers its forget_current_hub() here.
_hub_forgetters: list[Callable[[], None]] = []


def _forget_hub() -> None:
    for forget in _hub_forgetters:
        forget()


class _HubReaper:
    """Kept in the thread-local beside the hub: when the thread ends, CPython
    drops the thread's locals and this destroys the hub, releasing its fds
    even if reference cycles (the MAINLOOP greenlet) keep the object alive."""

    __slots__ = ("hub",)

    def __init__(self, hub: Any) -> None:
        self.hub = hub

    def __del__(self) -> None:
        hub, self.hub = self.hub, None
        try:
            _forget_hub()
        except Exception:
            pass  # interpreter shutdown: nothing is cached any more
        destroy = getattr(hub, "destroy", None)
        if destroy is not None:
            try:
                destroy()
            except Exception:
                pass  # interpreter shutdown or a broken third-party hub: nothing to do


def _reinit_after_fork() -> None:
    """In a forked child: the forking thread's hub gets its own kernel state."""
    hub = getattr(_local, "hub", None)
    reinit = getattr(hub, "reinit", None)
    if reinit is not None:
        reinit()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)


#: What ``use_hub()`` accepts: a name, a hub module, a hub class, or None.
_HubSpec: TypeAlias = str | ModuleType | type[Any] | None

#: "compiled" or "pure": the variant of the hub ``use_hub(None)`` would choose
#: (computed on first use by the module's ``__getattr__``: it imports the backends).
VARIANT: str
#: ``VARIANT == "compiled"``.
COMPILED: bool


def hub_variant(hub: _HubSpec | HubAPI = None) -> str:
    """``"compiled"`` or ``"pure"``: the variant of a hub (anything ``use_hub()``
    accepts, or an instance); None means the hub ``use_hub(None)`` would choose."""
    if hub is None or isinstance(hub, (str, ModuleType)):
        hub = resolve_hub(hub)
    return variant_of(hub)


def __getattr__(name: str) -> Any:
    # COMPILED / VARIANT are computed on first use: they import the backends.
    if name == "VARIANT":
        return hub_variant()
    if name == "COMPILED":
        return hub_variant() == "compiled"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_default_hub() -> ModuleType:
    """The first available backend module of epolls, poll, selects."""
    for name in DEFAULT_ORDER:
        module = importlib.import_module(f"eventhub.hubs.{name}")
        if module.is_available():
            return module
    raise HubError("no hub is available on this system")  # selects always is


def _hub_from_module(module: ModuleType, name: str) -> type[Any]:
    available = getattr(module, "is_available", None)
    if available is not None and not available():
        why = getattr(module, "_why_unavailable", lambda: "its is_available() returned False")()
        raise HubError(f"hub {name!r} is not available on this system: {why}")
    hub_class: type[Any] | None = getattr(module, "Hub", None)
    if hub_class is None:
        raise HubError(f"hub module {name!r} has no Hub class")
    return hub_class


def resolve_hub(hub: _HubSpec = None) -> type[Any]:
    """Turn anything ``use_hub()`` accepts into a hub class (see ``use_hub``)."""
    if hub is None:
        hub = os.environ.get("EVENTHUB_HUB") or get_default_hub()
    if isinstance(hub, str):
        return _hub_from_name(hub)
    if isinstance(hub, ModuleType):
        return _hub_from_module(hub, hub.__name__)
    if isinstance(hub, type):
        return hub
    raise TypeError(f"use_hub() takes a hub name, module or class, not {type(hub).__name__}")


def _hub_from_name(name: str) -> type[Any]:
    valid = ", ".join(repr(n) for n in BUILTIN_HUBS)
    if name in BUILTIN_HUBS:
        return _hub_from_module(importlib.import_module(f"eventhub.hubs.{name}"), name)
    modname, sep, attr = name.partition(":")
    if not name or (not sep and "." not in modname) or not modname or (sep and not attr):
        raise HubError(f"unknown hub {name!r}: use one of {valid} or 'package.module[:Class]'")
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise HubError(f"cannot import hub module {modname!r}: {e}") from e
    if not sep:
        return _hub_from_module(module, name)
    try:
        hub_class: type[Any] = getattr(module, attr)
    except AttributeError:
        raise HubError(f"hub module {modname!r} has no attribute {attr!r}") from None
    return hub_class


def use_hub(hub: _HubSpec = None) -> None:
    """Choose this thread's hub; the old hub is destroyed with its listeners and timers.

    ``hub`` is a built-in name (``"epolls"``, ``"poll"``, ``"selects"``,
    ``"pyevent"``, ``"asyncio"``), ``"package.module"`` (its ``Hub``) or
    ``"package.module:Class"``, a module with a ``Hub`` attribute, a hub
    class, or None: then ``$EVENTHUB_HUB`` if set and non-empty, else
    ``get_default_hub()``.  Raises ``HubError`` for an unknown, empty or
    unavailable hub.
    """
    hub_class = resolve_hub(hub)
    old = getattr(_local, "hub", None)
    _local.hub_class = hub_class
    if old is not None:
        del _local.hub
        _forget_hub()
        reaper = _local.__dict__.pop("reaper", None)
        if reaper is not None:
            reaper.hub = None
        # Even a loop suspended mid-run is dropped for good: release its fds
        # now rather than whenever the garbage collector finds the cycle.
        destroy = getattr(old, "destroy", None)
        if destroy is not None:
            destroy()


def get_hub() -> HubAPI:
    """This thread's hub, created on first use from ``use_hub()``'s choice."""
    try:
        current: HubAPI = _local.hub
        return current
    except AttributeError:
        pass
    hub_class = getattr(_local, "hub_class", None)
    if hub_class is None:
        hub_class = _local.hub_class = resolve_hub(None)
    hub: HubAPI = hub_class()
    _local.hub = hub
    _local.reaper = _HubReaper(hub)
    return hub


def _current_hub() -> HubAPI | None:
    hub: HubAPI | None = getattr(_local, "hub", None)
    return hub


def trampoline(
    fd: int | HasFileno,
    read: bool = False,
    write: bool = False,
    timeout: float | None = None,
    timeout_exc: BaseException | type[BaseException] | None = None,
    mark_as_closed: Callable[[], Any] | None = None,
) -> Any:
    """Suspend the current greenthread until ``fd`` is readable or writable.

    Exactly one of ``read``/``write``.  After ``timeout`` seconds,
    ``timeout_exc`` (default ``TimeoutError("timed out")``) is raised here.
    Raises ``IOClosed`` if the fd is closed or reused meanwhile.
    """
    if read == write:
        raise ValueError("trampoline() needs exactly one of read=True or write=True")
    hub = get_hub()
    current = getcurrent()
    if hub.greenlet is current:
        raise RuntimeError("do not call blocking functions (trampoline) from the hub's own greenlet")
    timer = None
    if timeout is not None:
        if timeout_exc is None:
            timeout_exc = TimeoutError("timed out")
        timer = hub.schedule_call_global(timeout, current.throw, timeout_exc)
    try:
        listener = hub.add(hub.READ if read else hub.WRITE, fd, current.switch, current.throw, mark_as_closed)
        try:
            return hub.switch()
        finally:
            hub.remove(listener)
    finally:
        if timer is not None:
            timer.cancel()


def notify_close(fd: int) -> None:
    """``fd`` is about to be closed: greenthreads waiting on it get ``IOClosed``."""
    hub = _current_hub()
    if hub is not None:
        hub.notify_close(fd)


def notify_opened(fd: int) -> None:
    """The OS returned ``fd`` anew: greenthreads waiting on the old one get ``IOClosed``."""
    hub = _current_hub()
    if hub is not None:
        hub.mark_as_reopened(fd)
