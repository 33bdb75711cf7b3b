"""A gunicorn worker for eventlet applications, running on eventhub's compiled hub.

::

    gunicorn -k eventhub.gunicorn.EventletWorker app:app

replaces gunicorn's ``-k eventlet`` worker (deprecated in gunicorn 25,
removed in 26) on gunicorn 23.0 and later.  Needs gunicorn and eventlet:
``pip install 'eventhub[gunicorn]'``.  See docs/gunicorn.md.
"""

from __future__ import annotations

from eventhub.gunicorn.worker import EventletWorker

__all__ = ["EventletWorker"]
