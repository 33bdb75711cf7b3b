"""The Celery app a real ``celery worker`` runs for Celery's integration suite.

It is the app Celery's own ``celery_session_worker`` fixture would build in
the test process (``celery.contrib.testing.app.TestApp`` with the suite's
``celery_config``, its task modules and class-based tasks), so the suite's
tasks behave as they do there; only the worker is another process:
``celery -A worker_app worker -P eventlet``, run from the root of Celery's
source tree so ``t.integration.tasks`` imports.

One task is added: ``eventhub.hub_probe`` answers which hub class runs the
worker's greenthreads, the proof the suite's driver checks.
"""

from __future__ import annotations

import os
from typing import Any

from celery.contrib.testing.app import TestApp  # type: ignore[import-untyped,import-not-found,unused-ignore]

from eventhub.bench.app_hub import hub_description

app = TestApp(
    config={
        "broker_url": os.environ["TEST_BROKER"],
        "result_backend": os.environ["TEST_BACKEND"],
        "result_extended": True,
        "task_create_missing_queues": False,
    },
    enable_logging=True,
)
app.loader.import_task_module("t.integration.tasks")

from t.integration.tasks import ClassBasedAutoRetryTask  # type: ignore[import-not-found,unused-ignore]  # noqa: E402

app.register_task(ClassBasedAutoRetryTask)


@app.task(name="eventhub.hub_probe")  # type: ignore[untyped-decorator,unused-ignore]
def hub_probe() -> dict[str, Any]:
    """The hub running this task (``eventhub.bench.app_hub.hub_description``)."""
    return hub_description()
