"""pytest plugin: Celery's integration suite against a worker running in another process.

Celery's ``celery_session_worker`` fixture starts a worker in a thread of the
test process.  Loaded with ``-p suite_plugin``, this plugin makes it use the
real ``celery worker`` the suite's driver started instead: the fixture's
``start_worker`` only checks, as Celery's does, that a worker answers the
``celery.ping`` task, and yields no in-process worker object.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import celery.contrib.testing.worker  # type: ignore[import-untyped,import-not-found,unused-ignore]
from celery.contrib.testing.tasks import ping  # type: ignore[import-untyped,import-not-found,unused-ignore]
from celery.result import _set_task_join_will_block, allow_join_result  # type: ignore[import-untyped,import-not-found,unused-ignore]

PING_TIMEOUT = 30.0


@contextmanager
def use_running_worker(app: Any, **options: Any) -> Iterator[None]:
    """Stand-in for ``start_worker``: the worker is already running elsewhere."""
    with allow_join_result():
        answer = ping.delay().get(timeout=PING_TIMEOUT)
    if answer != "pong":
        raise RuntimeError(f"the external worker answered celery.ping with {answer!r}")
    _set_task_join_will_block(False)  # as start_worker does: the test process is not a worker
    yield None


celery.contrib.testing.worker.start_worker = use_running_worker
