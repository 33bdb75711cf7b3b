"""eventhub: fast greenlet event hubs (epoll, poll, select, libevent).

The greenthread API lives here, with ``to_thread`` (``eventhub.threadpool``);
hubs are in ``eventhub.hubs`` and cooperative sockets in ``eventhub.net``.
"""

from __future__ import annotations

from eventhub.event import Event
from eventhub.greenthread import GreenletExit, GreenThread, sleep, spawn, spawn_after
from eventhub.threadpool import to_thread
from eventhub.timeout import Timeout

__version__ = "0.1.0"

__all__ = [
    "Event",
    "GreenThread",
    "GreenletExit",
    "Timeout",
    "__version__",
    "sleep",
    "spawn",
    "spawn_after",
    "to_thread",
]
