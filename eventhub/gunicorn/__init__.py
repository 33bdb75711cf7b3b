"""A gunicorn worker for eventlet applications, running on eventhub's compiled hub.

::

    gunicorn -k eventhub.gunicorn.EventletWorker app:app

replaces gunicorn's ``-k eventlet`` worker (deprecated in gunicorn 25,
removed in 26) on gunicorn 23.0 and later.  Needs gunicorn and eventlet:
``pip install 'eventhub[gunicorn]'``.  See docs/gunicorn.md.

``EventletWorker`` is imported on first use, so the parts that need
neither gunicorn nor eventlet (``eventhub.gunicorn.accept``) import
without them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EventletWorker"]


def __getattr__(name: str) -> Any:
    if name == "EventletWorker":
        from eventhub.gunicorn.worker import EventletWorker

        return EventletWorker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
