"""Which asyncio event loop an asyncio hub runs on, shared by both variants.

A hub created while a loop is running in its thread *adopts* that loop: the
greenlet running the loop becomes the hub's loop greenlet, and the hub never
starts or stops the loop.  Otherwise the hub makes a loop of its own (with
its class's ``loop_factory``, default ``asyncio.new_event_loop``, so a
policy such as uvloop's applies), runs it from its MAINLOOP greenlet and
closes it when destroyed.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import stat
import sys
from typing import Any, Callable

from greenlet import getcurrent

from eventhub.hubs import get_hub
from eventhub.hubs.errors import HubError

# Bound at import: eventlet.monkey_patch() deletes ``poll`` from the select
# module, and an eventlet application may patch after this module is loaded.
_poll: Callable[[], select.poll] = select.poll
_POLLIN, _POLLPRI, _POLLOUT = select.POLLIN, select.POLLPRI, select.POLLOUT


def hub_loop() -> asyncio.AbstractEventLoop:
    """This thread's hub's asyncio loop; ``RuntimeError`` unless it is an asyncio hub."""
    hub = get_hub()
    loop = getattr(hub, "loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise RuntimeError(
            f"this needs the asyncio hub, and this thread's hub is {type(hub).__name__}: "
            "call eventhub.hubs.use_hub('asyncio') (or set EVENTHUB_HUB=asyncio) first"
        )
    return loop


def bind_loop(loop_factory: Callable[[], asyncio.AbstractEventLoop] | None) -> tuple[asyncio.AbstractEventLoop, Any]:
    """(loop, adopting greenlet or None): the running loop, else a new one."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        return running, getcurrent()
    loop = (loop_factory or asyncio.new_event_loop)()
    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise TypeError(f"loop_factory must return an asyncio event loop, not {type(loop).__name__}")
    return loop, None


class LoopUnwind(SystemExit):
    """Thrown into a destroyed hub's suspended MAINLOOP to end its ``run_forever``.

    A SystemExit, so the hub's dispatch and asyncio's callbacks let it through.
    """


def unwind(loop_greenlet: Any) -> None:
    """End a hub's MAINLOOP suspended inside ``loop.run_forever()`` now.

    Left suspended, it would keep the thread's "running loop" set (asyncio
    keeps it per thread, not per greenlet), so no other loop could run here,
    and collecting it later would reset whatever loop runs then.  Control
    comes back here when it has ended: the greenlet (a descendant, if we are
    one of its greenthreads) that calls this becomes its parent.
    """
    current = getcurrent()
    if loop_greenlet is None or loop_greenlet.dead or not loop_greenlet or loop_greenlet is current:
        return  # never started, ended, or we are it: nothing is suspended
    ancestor: Any = current
    while ancestor is not None and ancestor.parent is not loop_greenlet:
        ancestor = ancestor.parent
    if ancestor is not None:
        ancestor.parent = loop_greenlet.parent  # out from under it, or a cycle
    loop_greenlet.parent = current
    try:
        loop_greenlet.throw(LoopUnwind())
    except LoopUnwind:
        pass


def is_uvloop(loop: asyncio.AbstractEventLoop) -> bool:
    """True for a uvloop loop."""
    return type(loop).__module__.startswith("uvloop")


def dispatches_in_c(loop: asyncio.AbstractEventLoop) -> bool:
    """True unless ``loop`` is one of asyncio's own loops (pure Python dispatch).

    A loop written in C may hold pointers into its C stack while it calls
    back (uvloop's libuv does): the asyncio hub must not switch greenlets
    inside such callbacks (see ``eventhub.hubs.asyncio``).  An unknown
    loop is assumed to be such a loop.
    """
    return not isinstance(loop, asyncio.BaseEventLoop)


def loop_method(loop: asyncio.AbstractEventLoop) -> str:
    """The kernel mechanism a loop waits with: "epoll", "poll", "select", ... .

    From the selector's class for asyncio's selector loops; uvloop's libuv
    uses epoll on Linux (kqueue on the BSDs).
    """
    selector = getattr(loop, "_selector", None)
    if selector is not None:
        return type(selector).__name__.lower().removesuffix("selector")
    if is_uvloop(loop):
        return "epoll" if sys.platform.startswith("linux") else "kqueue"
    return "unknown"


def closed_loop_error(loop: asyncio.AbstractEventLoop) -> HubError:
    """The error for scheduling on a hub whose loop was closed under it."""
    return HubError(
        f"the asyncio loop this hub runs on ({loop!r}) is closed; "
        "call eventhub.hubs.use_hub('asyncio') for a hub on a live loop"
    )


def queues_io_after_callbacks(loop: asyncio.AbstractEventLoop) -> bool:
    """True for asyncio's selector loops: the handles of one poll run after
    the callbacks already queued, so a hub pass can run between a poll and
    the dispatch of what it found (uvloop dispatches I/O inside its poll)."""
    return getattr(loop, "_selector", None) is not None


def still_ready(fileno: int, write: bool) -> bool:
    """Whether ``fileno`` is ready now (a zero-timeout poll of that one fd)."""
    poller = _poll()
    poller.register(fileno, _POLLOUT if write else _POLLIN | _POLLPRI)
    return bool(poller.poll(0))


def file_identity(fileno: int) -> tuple[int, int] | None:
    """(device, inode) of the socket open on ``fileno``, None if it is no socket;
    ``OSError(EBADF)`` if ``fileno`` is not open.

    Tells the socket a registration was made for from another file that got
    the same fd number after a close the hub was not told of.  Only a
    socket's inode is its own: eventfds, timerfds and other anonymous
    files share one inode, and a named FIFO has the same one on every open.
    """
    st = os.fstat(fileno)
    return (st.st_dev, st.st_ino) if stat.S_ISSOCK(st.st_mode) else None


def forget_fd(loop: asyncio.AbstractEventLoop, fileno: int, reading: bool, writing: bool) -> None:
    """Remove ``fileno``'s reader and writer from ``loop``, even if it was closed.

    asyncio's selector loop changes the kernel registration before its own
    record, so a failure (the fd closed behind its back: ENOENT, EBADF)
    leaves a record the next ``add_reader`` of that number would trust;
    then the record is dropped from the selector directly.
    """
    try:
        if reading:
            loop.remove_reader(fileno)
        if writing:
            loop.remove_writer(fileno)
    except OSError:
        selector = getattr(loop, "_selector", None)
        if selector is None:
            raise
        try:
            selector.unregister(fileno)  # ignores the kernel's refusal itself
        except (KeyError, ValueError):
            pass


def drop_stale_registration(loop: asyncio.AbstractEventLoop, fileno: int) -> None:
    """``fileno`` was just unregistered from ``loop``: if it is closed, make sure
    the kernel forgot it too.

    Unregistering a closed fd fails, and asyncio ignores that; if a dup of
    it keeps the file open, epoll keeps reporting it and the loop spins.
    A fresh selector (``refresh_selector``) is the only way out.
    """
    try:
        fcntl.fcntl(fileno, fcntl.F_GETFD)
    except OSError:
        refresh_selector(loop)


def refresh_selector(loop: asyncio.AbstractEventLoop) -> bool:
    """After fork, or to drop a stale registration: give a selector-based loop a kernel selector of its own.

    The child inherits the parent's epoll descriptor, shared with the
    parent: registering or dropping an fd through it would change the
    parent's loop.  A new selector of the same class takes over every
    registration (this reaches into ``BaseSelectorEventLoop._selector``:
    asyncio has no public way).  False for a loop without one (uvloop,
    whose libuv loop handles fork itself).
    """
    selector = getattr(loop, "_selector", None)
    if selector is None or not hasattr(selector, "get_map"):
        return False
    fresh = type(selector)()
    for key in list(selector.get_map().values()):
        try:
            fresh.register(key.fileobj, key.events, key.data)
        except OSError:
            pass  # closed behind the loop's back: nothing to watch any more
    loop._selector = fresh  # type: ignore[attr-defined]
    # Only this process's reference to the shared descriptor goes; the
    # parent's registrations are untouched.
    inner = getattr(selector, "_selector", None)
    if inner is not None and hasattr(inner, "close"):
        inner.close()
    return True
