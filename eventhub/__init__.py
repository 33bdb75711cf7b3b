"""eventhub: fast greenlet event hubs (epoll, poll, select, libevent).

The greenthread API and the toolkit built on it live here: queues, locks
and a pool, all fair to their waiters and safe to call from other OS
threads, and ``to_thread`` (``eventhub.threadpool``) for blocking calls.
Hubs are in ``eventhub.hubs`` and cooperative sockets in ``eventhub.net``.
"""

from __future__ import annotations

from eventhub.event import Event
from eventhub.greenthread import GreenletExit, GreenThread, sleep, spawn, spawn_after
from eventhub.locks import BoundedSemaphore, Condition, Lock, Semaphore
from eventhub.pool import GreenPool
from eventhub.queue import LifoQueue, PriorityQueue, Queue
from eventhub.threadpool import to_thread
from eventhub.timeout import Timeout

__version__ = "0.1.0"

__all__ = [
    "BoundedSemaphore",
    "Condition",
    "Event",
    "GreenPool",
    "GreenThread",
    "GreenletExit",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "Semaphore",
    "Timeout",
    "__version__",
    "sleep",
    "spawn",
    "spawn_after",
    "to_thread",
]
