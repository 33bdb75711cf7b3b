"""``python -m eventhub.bench --apps``: the command line, the oslo RPC benchmark's checks and report.

The tests at the end run real oslo.messaging RPC samples on both hubs; they
need oslo.messaging (tox's ``oslo`` env installs it).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest

import eventhub
from eventhub.bench import apps, apps_oslo, cli, oslo_rpc
from eventhub.bench.runner import ERROR, OK, SKIPPED

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(eventhub.__file__)))
QUICK = apps.AppSettings(rounds=1, duration=0.5, warm_up=0.2, time_limit=120)


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    return subprocess.run([sys.executable, "-m", "eventhub.bench", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_list_names_each_application_benchmark() -> None:
    proc = bench("--apps", "--list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("oslo: oslo.messaging RPC server")


def test_an_unknown_application_is_refused_with_the_choices() -> None:
    proc = bench("--apps", "nova")
    assert proc.returncode == 2
    assert "unknown application nova (choose from oslo" in proc.stderr


def test_connections_goes_with_http_only() -> None:
    proc = bench("--apps", "oslo", "--connections", "10")
    assert proc.returncode == 2
    assert "--connections goes with --http" in proc.stderr
    proc = bench("--duration", "3")
    assert proc.returncode == 2
    assert "--duration with --http or --apps" in proc.stderr


def test_load_refuses_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown application 'x'"):
        apps.load("x")


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([1.0], 0.99, 1.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0), ([float(i) for i in range(1, 101)], 0.99, 99.0)],
)
def test_percentile_is_the_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert oslo_rpc.percentile(values, fraction) == expected


def result(rate: float, p99: float, errors: int = 0, hub: str = "eventhub.eventlet:EpollHub") -> dict[str, Any]:
    return {"rate": rate, "p50_ms": p99 / 2, "p99_ms": p99, "errors": errors, "hub": hub, "variant": "compiled"}


def cells_for(subject: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> list[apps_oslo.RpcCell]:
    cells = []
    for transport, mode in apps_oslo.WORKLOADS:
        cells.append(apps_oslo.RpcCell("eventhub", transport, mode, samples=subject))
        cells.append(apps_oslo.RpcCell("eventlet", transport, mode, samples=baseline))
    return cells


def test_targets_judge_median_rate_p99_and_errors() -> None:
    cells = cells_for([result(130, 9), result(120, 11), result(500, 10)], [result(100, 10), result(100, 12), result(10, 8)])
    checks = {c["target"]: c for c in apps_oslo.check(cells)}
    rate = checks["eventhub oslo rabbit-memory call: rate >= 1.2x eventlet"]
    assert rate["ratio"] == pytest.approx(1.3) and rate["met"] is True
    p99 = checks["eventhub oslo rabbit-memory call: p99 no worse than eventlet"]
    assert (p99["p99_ms"], p99["baseline_p99_ms"], p99["met"]) == (10, 10, True)
    assert checks["eventhub oslo fake cast: no errors"]["met"] is True

    worse = cells_for([result(110, 20, errors=1)], [result(100, 10)])
    checks = {c["target"]: c for c in apps_oslo.check(worse)}
    assert checks["eventhub oslo fake call: rate >= 1.2x eventlet"]["met"] is False
    assert checks["eventhub oslo fake call: p99 no worse than eventlet"]["met"] is False
    assert checks["eventhub oslo fake call: no errors"] == {
        "target": "eventhub oslo fake call: no errors", "errors": 1, "met": False,
    }
    text = apps_oslo.table(worse, QUICK, list(checks.values()))
    assert "1.10x  NOT MET" in text and "20.0 ms vs 10.0 ms  NOT MET" in text


def test_an_unmeasured_cell_is_not_judged_and_says_why() -> None:
    cells = cells_for([], [result(100, 10)])
    for cell in cells:
        if cell.impl == "eventhub":
            cell.status, cell.reason = ERROR, "the sample ran on eventlet.hubs.epolls:Hub, not on eventhub.eventlet:*"
    checks = apps_oslo.check(cells)
    assert {c["met"] for c in checks} == {None}
    text = apps_oslo.table(cells, QUICK, checks)
    assert "eventhub fake cast: error: the sample ran on eventlet.hubs.epolls:Hub" in text
    assert "not measured" in text


def fake_sample_process(monkeypatch: pytest.MonkeyPatch, printed: dict[str, Any] | str, status: int = 0) -> None:
    """Make every sample a process that prints ``printed`` (JSON unless a str) and exits with ``status``."""
    line = printed if isinstance(printed, str) else json.dumps(printed)
    code = f"import sys; print({line!r}); sys.exit({status})"
    monkeypatch.setattr(apps_oslo, "sample_command", lambda *args: [sys.executable, "-c", code])


def test_a_sample_from_the_wrong_hub_is_an_error_not_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sample_process(monkeypatch, result(1000, 1, hub="eventlet.hubs.epolls:Hub"))
    subject = next(i for i in apps_oslo.IMPLS if i.name == "eventhub")
    with pytest.raises(RuntimeError, match="ran on eventlet.hubs.epolls:Hub, not on eventhub.eventlet:"):
        apps_oslo.take_sample(subject, apps_oslo.RpcCell("eventhub", "fake", "call"), QUICK)
    baseline = next(i for i in apps_oslo.IMPLS if i.name == "eventlet")
    assert apps_oslo.take_sample(baseline, apps_oslo.RpcCell("eventlet", "fake", "call"), QUICK)["rate"] == 1000


def test_a_failed_sample_process_is_reported_with_its_last_words(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "import sys; sys.stderr.write('RecursionError: too deep\\n'); sys.exit(3)"
    monkeypatch.setattr(apps_oslo, "sample_command", lambda *args: [sys.executable, "-c", code])
    with pytest.raises(RuntimeError, match="exited with status 3: RecursionError: too deep"):
        apps_oslo.take_sample(apps_oslo.IMPLS[0], apps_oslo.RpcCell("eventlet", "fake", "cast"), QUICK)


def test_run_interleaves_rounds_and_fails_on_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apps_oslo, "missing", lambda: None)
    taken: list[str] = []

    def sample(impl: apps_oslo.Impl, cell: apps_oslo.RpcCell, settings: apps.AppSettings) -> dict[str, Any]:
        taken.append(f"{impl.name} {cell.transport} {cell.mode}")
        if impl.name == "eventhub" and cell.transport == "fake" and cell.mode == "cast":
            raise RuntimeError("the sample ran over 1s")
        return result(120 if impl.name == "eventhub" else 100, 5)

    monkeypatch.setattr(apps_oslo, "take_sample", sample)
    progress = io.StringIO()
    report = apps_oslo.run(apps.AppSettings(rounds=2, duration=1, warm_up=0), progress)
    assert taken[:2] == ["eventlet rabbit-memory call", "eventhub rabbit-memory call"]
    assert taken.count("eventhub fake cast") == 1  # an errored cell is not sampled again
    assert taken.count("eventlet fake cast") == 2
    assert report.failed
    assert report.data["results"]["fake call"]["eventhub"]["ratio"] == pytest.approx(1.2)
    assert report.data["results"]["fake cast"]["eventhub"]["status"] == ERROR
    assert "error: the sample ran over 1s" in progress.getvalue()


def test_without_oslo_messaging_every_cell_is_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apps_oslo, "missing", lambda: "oslo_messaging is not installed")
    report = apps_oslo.run(QUICK, io.StringIO())
    assert not report.failed
    statuses = {h["status"] for per_hub in report.data["results"].values() for h in per_hub.values()}
    assert statuses == {SKIPPED}
    assert "eventhub fake call: skipped: oslo_messaging is not installed" in report.text


def test_cli_prints_one_json_document_for_the_selected_apps(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(apps_oslo, "missing", lambda: "oslo_messaging is not installed")
    assert cli.main(["--apps", "oslo", "--json", "--quick"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "apps" and list(doc["apps"]) == ["oslo"]
    assert (doc["apps"]["oslo"]["rounds"], doc["apps"]["oslo"]["duration"]) == (1, 2.0)


# Real samples: oslo.messaging's RPC server and clients in a fresh process, on each hub.

# Two of the four workloads (each transport, each mode), to keep the env short.
@pytest.mark.parametrize(("transport", "mode"), [("rabbit-memory", "call"), ("fake", "cast")])
@pytest.mark.parametrize("impl", apps_oslo.IMPLS, ids=lambda i: i.name)
def test_a_real_sample_runs_on_the_hub_it_claims(impl: apps_oslo.Impl, transport: str, mode: str) -> None:
    pytest.importorskip("oslo_messaging", reason="tox -e oslo installs oslo.messaging")
    sample = apps_oslo.take_sample(impl, apps_oslo.RpcCell(impl.name, transport, mode), QUICK)
    assert sample["hub"].startswith(impl.hub_prefix)  # take_sample checks it too; this says what it is
    assert (sample["transport"], sample["mode"], sample["clients"]) == (transport, mode, apps_oslo.CLIENTS[transport])
    assert sample["requests"] > 0 and sample["errors"] == 0, sample["first_errors"]
    assert sample["p50_ms"] <= sample["p99_ms"]
    if impl.name == "eventhub":
        assert sample["variant"] in ("compiled", "pure")
