"""``python -m eventhub.bench --http`` without servers: reading wrk's report, the targets, a missing wrk.

tests/gunicorn_worker runs wrk against real gunicorn workers.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import eventhub
from eventhub.bench import http_report, wrk
from eventhub.bench.http_run import HttpCell, HttpSettings

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(eventhub.__file__)))

REPORT = """Running 5s test @ http://127.0.0.1:8000/
  1 threads and 1000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   120.10ms   40.00ms   1.20s    80.00%
  Latency Distribution
     50%  110.50ms
     75%  130.00ms
     90%  150.00ms
     99%    1.02s
  40000 requests in 5.00s, 6.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 7
  Non-2xx or 3xx responses: 2
Requests/sec:   8000.00
"""


def test_parse_reads_counts_latencies_and_errors() -> None:
    result = wrk.parse(REPORT)
    assert (result.requests, result.seconds) == (40000, 5.0)
    assert result.rate == 8000.0
    assert (result.p50_ms, result.p99_ms) == (110.5, 1020.0)
    assert (result.read_errors, result.timeouts, result.socket_errors, result.non_2xx) == (3, 7, 10, 2)
    assert result.errors == 12


def test_parse_without_errors_lines_counts_none() -> None:
    clean = "\n".join(line for line in REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    assert wrk.parse(clean).errors == 0


def test_parse_refuses_what_is_not_a_wrk_report() -> None:
    with pytest.raises(ValueError, match="no request count"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused")


def sample(rate: float, socket_errors: int = 0) -> wrk.WrkResult:
    return wrk.WrkResult(requests=int(rate * 5), seconds=5.0, p50_ms=1.0, p99_ms=2.0, timeouts=socket_errors)


def test_targets_compare_medians_with_gevents_and_count_errors_at_1000() -> None:
    cells = [
        HttpCell("eventhub", "hello", 100, samples=[sample(1200), sample(1100), sample(900)]),
        HttpCell("gevent", "hello", 100, samples=[sample(1000), sample(1000), sample(5000)]),
        HttpCell("eventhub", "hello", 1000, samples=[sample(1000, socket_errors=1)]),
        HttpCell("gevent", "hello", 1000, samples=[sample(1000)]),
    ]
    checks = {c["target"]: c for c in http_report.check(cells)}
    c100 = checks["eventhub hello c100 >= 1.1x gevent"]
    assert c100["ratio"] == pytest.approx(1.1) and c100["met"] is True
    assert checks["eventhub hello c1000 >= 1.1x gevent"]["met"] is False
    assert checks["eventhub hello c1000: no socket errors"] == {
        "target": "eventhub hello c1000: no socket errors",
        "socket_errors": 1,
        "met": False,
    }
    table = http_report.table(cells, ["hello"], HttpSettings(rounds=3, connections=(100, 1000)), list(checks.values()))
    assert "1.10x  met" in table and "NOT MET" in table


def test_http_bench_without_wrk_says_how_to_get_it(tmp_path: object) -> None:
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PATH=os.path.dirname(sys.executable))
    proc = subprocess.run(
        [sys.executable, "-m", "eventhub.bench", "--http", "--quick", "--apps", "hello"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "apt-get install wrk" in proc.stderr
