"""eventlet's green sockets with their I/O and waits in C: ``GreenSocket.recv``, ``recv_into``, ``send``, ``sendall``.

Every socket an eventlet application uses (``eventlet.green.socket``,
``socket.socket`` once monkey-patched, the sockets of ``eventlet.wsgi``,
redis-py's and kombu's connections) is an ``eventlet.greenio.base.GreenSocket``,
whose I/O methods are pure Python: a ``recv`` that has to wait goes through
five Python frames and eventlet's ``trampoline()``.  ``install()`` puts the
compiled twins from ``eventhub._eventlet_greenio`` in their place on the
class: the same steps in C, and a wait on one of eventhub's compiled hubs
parked with the hub's C trampoline (see that module).  Results, exceptions
and timeouts are eventlet's; a ``GreenSocket`` subclass keeps eventlet's
methods; a hub that is not one of eventhub's compiled hubs gets eventlet's
own trampoline.

The pure-Python variant of these methods is eventlet's own: without the
compiled twin (not built, or ``EVENTHUB_NO_EXTENSIONS=1``) ``install()``
changes nothing and returns False.  ``eventhub-run`` calls ``install()``
unless told not to (``--no-fast-io``, ``EVENTHUB_RUN_FAST_IO=0``);
``uninstall()`` undoes it.
"""

from __future__ import annotations

from typing import Any

import eventlet.greenio.base

from eventhub.hubs._variant import load_compiled

__all__ = ["METHODS", "VARIANT", "install", "installed", "uninstall"]

#: The GreenSocket methods ``install()`` replaces.
METHODS = ("recv", "recv_into", "send", "sendall")

_GreenSocket: Any = eventlet.greenio.base.GreenSocket
_compiled: Any = load_compiled("_eventlet_greenio", package="eventhub")

#: "compiled" when ``install()`` has the compiled methods to put in place, else "pure" (eventlet's own).
VARIANT = "pure" if _compiled is None else "compiled"


def install() -> bool:
    """Put the compiled methods on eventlet's ``GreenSocket``.

    Returns True if they are in place; False, changing nothing, for the
    pure variant (eventlet's methods are it) or an eventlet whose green
    sockets do not work as the compiled methods expect.  Calling it again
    does nothing.
    """
    if _compiled is None or not _knows_eventlets_greensocket():
        return False
    for name in METHODS:
        setattr(_GreenSocket, name, getattr(_compiled, name))
    return True


def uninstall() -> None:
    """Undo ``install()``: eventlet's own methods again."""
    if _compiled is not None:
        for name, method in _compiled.EVENTLETS.items():
            setattr(_GreenSocket, name, method)


def installed() -> bool:
    """Whether ``install()`` is in effect."""
    return _compiled is not None and all(vars(_GreenSocket)[name] is getattr(_compiled, name) for name in METHODS)


def _knows_eventlets_greensocket() -> bool:
    """Whether this eventlet's GreenSocket has the helpers and state the compiled methods follow.

    They repeat eventlet 0.41's ``_recv_loop``/``_send_loop`` (the version
    tested); an eventlet without those helpers, or without the errno sets
    they consult, is left alone.
    """
    base = eventlet.greenio.base
    return (
        all(callable(getattr(_GreenSocket, name, None)) for name in ("_recv_loop", "_send_loop", "_trampoline",
                                                                      "_mark_as_closed", "gettimeout"))
        and isinstance(getattr(base, "SOCKET_BLOCKING", None), set)
        and isinstance(getattr(base, "SOCKET_CLOSED", None), set)
    )
