"""``python -m eventhub.bench --http`` end to end, tiny: structure and honesty, never speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from gunicorn_worker.gunicorn_server import PACKAGE_ROOT


@pytest.mark.needs_system("wrk")
def test_http_bench_measures_the_eventhub_worker_with_wrk() -> None:
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    cmd = [sys.executable, "-m", "eventhub.bench", "--http", "--json", "--apps", "hello", "-i", "eventhub",
           "--connections", "20", "--duration", "1", "--repeat", "1"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    doc = json.loads(proc.stdout)
    assert doc["mode"] == "http" and doc["baseline"] == "gevent"
    cell = doc["results"]["hello"]["20"]["eventhub"]
    assert cell["status"] == "ok", cell["reason"]
    [sample] = cell["rounds"]
    assert sample["requests"] > 0 and sample["rate"] > 0
    assert (cell["socket_errors"], cell["error_responses"]) == (0, 0)
    gevent = doc["results"]["hello"]["20"]["gevent"]  # the baseline is always run
    assert gevent["status"] in ("ok", "skipped")
    assert (cell["ratio"] is None) == (gevent["status"] != "ok")
    assert proc.returncode == 0, proc.stderr
