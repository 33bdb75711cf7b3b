"""The parts the Celery and Socket.IO benchmarks and suites share: hub choices and their proofs, medians, targets.

The benchmarks themselves run real applications (``python -m eventhub.bench
--apps celery,socketio``); tests/apps runs the applications' suites.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eventhub.bench import app_cells
from eventhub.bench.app_cells import Cell, Sample, Target
from eventhub.bench.app_procs import EVENTHUB, EVENTHUB_PURE, EVENTLET, GEVENT, HUB_ENV
from eventhub.bench.runner import ERROR, OK
from eventhub.run import report


def described(cls: str, variant: str, pid: int = 42) -> dict[str, Any]:
    return {"class": cls, "variant": variant, "pid": pid, "eventhub": cls.startswith("eventhub.")}


def test_a_launcher_choice_runs_the_program_under_eventhub_run_with_its_report(tmp_path: Path) -> None:
    command = EVENTHUB.command(["celery", "worker"], tmp_path / "hubs.txt")
    assert "--report" in command and str(tmp_path / "hubs.txt") in command
    assert command[-3:] == ["--", "celery", "worker"]
    assert command[0].endswith("eventhub-run") or command[1:3] == ["-m", "eventhub.run"]
    assert EVENTLET.command(["celery", "worker"], tmp_path / "hubs.txt") == ["celery", "worker"]


def test_each_choice_clears_what_would_move_it_to_another_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HUB_ENV:
        monkeypatch.setenv(name, "leaked")
    assert not set(HUB_ENV) & set(EVENTHUB.environment())
    assert EVENTLET.environment()["EVENTLET_HUB"] == "epolls"
    assert EVENTHUB_PURE.environment({"X": "1"})["EVENTHUB_NO_EXTENSIONS"] == "1"
    assert EVENTHUB_PURE.environment({"X": "1"})["X"] == "1"


def test_the_proof_holds_for_the_hub_asked_for(tmp_path: Path) -> None:
    hubs = tmp_path / "hubs.txt"
    report.append(hubs, report.HubLine(42, 1, "created", "eventhub.eventlet:EpollHub", "compiled"))
    assert EVENTHUB.proof(described("eventhub.eventlet:EpollHub", "compiled"), 42, hubs) == []
    assert EVENTLET.proof(described("eventlet.hubs.epolls:Hub", "-"), 42) == []
    assert GEVENT.proof(described("gevent.hub:Hub", "-"), 42) == []


@pytest.mark.parametrize(
    ("choice", "answer", "pid", "wrong"),
    [
        (EVENTHUB, described("eventlet.hubs.epolls:Hub", "-"), 42, "ran on eventlet.hubs.epolls:Hub"),
        (EVENTHUB, described("eventhub.eventlet:EpollHub", "pure"), 42, "(pure), not on eventhub.eventlet:EpollHub (compiled)"),
        (EVENTHUB_PURE, described("eventhub.eventlet:EpollHub", "compiled"), 42, "not on eventhub.eventlet:EpollHub (pure)"),
        (EVENTLET, described("eventhub.eventlet:EpollHub", "compiled"), 42, "not on eventlet.hubs.epolls:Hub"),
        (GEVENT, described("eventlet.hubs.epolls:Hub", "-"), 42, "not on gevent."),
        (EVENTHUB, described("eventhub.eventlet:EpollHub", "compiled", pid=7), 42, "described by pid 7, not by the application's 42"),
    ],
)
def test_the_proof_names_what_is_wrong(choice: Any, answer: dict[str, Any], pid: int, wrong: str) -> None:
    problems = choice.proof(answer, pid)
    assert len(problems) == 1 and wrong in problems[0], problems


def test_the_hub_report_must_hold_the_application_and_only_the_hub_asked_for(tmp_path: Path) -> None:
    hubs = tmp_path / "hubs.txt"
    answer = described("eventhub.eventlet:EpollHub", "compiled")
    assert EVENTHUB.proof(answer, 42, hubs) == [f"hub report {hubs}: no line from pid 42"]
    report.append(hubs, report.HubLine(42, 1, "created", "eventhub.eventlet:EpollHub", "compiled"))
    report.append(hubs, report.HubLine(43, 42, "created", "eventlet.hubs.poll:Hub", "-"))
    assert EVENTHUB.proof(answer, 42, hubs) == ["hub report: pid 43 ran eventlet.hubs.poll:Hub (-)"]


@pytest.mark.parametrize(("values", "fraction", "expected"), [([3.0], 0.99, 3.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
                                                               ([float(i) for i in range(1, 201)], 0.99, 198.0)])
def test_percentile_is_the_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert app_cells.percentile(values, fraction) == expected


def test_a_sample_is_its_rate_and_latency_percentiles() -> None:
    sample = Sample.of(200, 4.0, [float(i) for i in range(100, 0, -1)], 3, described("gevent.hub:Hub", "-"))
    assert (sample.rate, sample.p50_ms, sample.p99_ms, sample.errors) == (50.0, 50.0, 99.0, 3)
    assert (sample.hub, sample.variant) == ("gevent.hub:Hub", "-")
    with pytest.raises(ValueError, match="nothing measured"):
        Sample.of(0, 4.0, [], 0, {})


def sample(rate: float, p99: float, errors: int = 0) -> Sample:
    return Sample(rate, p99 / 2, p99, errors, "x:Hub", "-")


def test_targets_judge_median_rate_ratio_p99_and_errors() -> None:
    cells = {
        "eventhub": Cell("eventhub", samples=[sample(130, 9), sample(120, 11), sample(500, 10, errors=1)]),
        "eventlet": Cell("eventlet", samples=[sample(100, 10), sample(100, 12), sample(10, 8)]),
    }
    checks = {c["target"]: c for c in app_cells.check("app", cells, (Target("eventhub", "eventlet", 1.25),))}
    assert checks["app eventhub: rate >= 1.25x eventlet"]["ratio"] == pytest.approx(1.3)
    assert checks["app eventhub: rate >= 1.25x eventlet"]["met"] is True
    assert checks["app eventhub: p99 no worse than eventlet"]["met"] is True  # median 10 vs 10
    assert checks["app eventhub: no errors"] == {"target": "app eventhub: no errors", "errors": 1, "met": False}


def test_an_unmeasured_hub_judges_nothing() -> None:
    cells = {"eventhub": Cell("eventhub", samples=[sample(130, 9)]), "gevent": Cell("gevent", status=ERROR, reason="x")}
    checks = app_cells.check("app", cells, (Target("eventhub", "gevent", 1.3),))
    assert [c["met"] for c in checks] == [None, None, True]


def test_measure_interleaves_rounds_and_stops_sampling_a_failed_hub() -> None:
    taken: list[str] = []

    def take(name: str) -> Sample:
        taken.append(name)
        if name == "b" and taken.count("b") == 2:
            raise RuntimeError("the server did not start")
        return sample(100, 10)

    cells = {"a": Cell("a"), "b": Cell("b")}
    progress = io.StringIO()
    app_cells.measure(cells, 3, take, lambda name: f"app on {name}", "ops/s", progress)
    assert taken == ["a", "b", "a", "b", "a"]
    assert (cells["a"].status, len(cells["a"].samples)) == (OK, 3)
    assert (cells["b"].status, cells["b"].reason) == (ERROR, "the server did not start")
    assert "round 2: app on b: error: the server did not start" in progress.getvalue()
    table = app_cells.table("title", "ops/s", cells, "a", {"a": "A", "b": "B"}, [])
    assert "  b: error: the server did not start" in table


def test_apps_list_names_the_celery_and_socketio_benchmarks() -> None:
    listed = subprocess.run([sys.executable, "-m", "eventhub.bench", "--apps", "--list"], capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "\ncelery: Celery worker: 10,000 I/O-bound tasks" in listed.stdout
    assert "\nsocketio: Socket.IO server: 1,000 websocket clients" in listed.stdout
