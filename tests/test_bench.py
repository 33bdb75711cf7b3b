"""The benchmark suite (``python -m eventhub.bench``): structure and honesty, never speed.

The CLI runs at a tiny hidden ``--scale`` so each test takes seconds; the
assertions check that every cell did exactly the work it claims (the
workers count operations, messages and bytes), not how fast it was.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from typing import Any

import pytest

import eventhub
from eventhub import hubs
from eventhub.bench import impls, report, runner, targets
from eventhub.bench.workloads import WORKLOAD_NAMES, Sizes, get_workload

#: Workers must import the eventhub under test (an installed wheel in tox), not the source tree.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(eventhub.__file__)))
SCALE = 0.002
PEERS = ("eventlet", "gevent", "asyncio", "uvloop")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m eventhub.bench ARGS`` on the eventhub under test (run from tests/, which holds none)."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    cmd = [sys.executable, "-m", "eventhub.bench", *args]
    return subprocess.run(cmd, cwd=os.path.dirname(os.path.abspath(__file__)), env=env, capture_output=True, text=True, timeout=timeout)


def run_bench(*args: str, repeat: int = 1) -> tuple[int, dict[str, Any], str]:
    """Run the CLI with --quick --json at SCALE; (exit code, JSON document, stderr)."""
    proc = run_cli("--quick", "--json", "--scale", str(SCALE), "--repeat", str(repeat), *args)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def available_hub_variants() -> set[str]:
    """Every ``backend-variant`` this process can see, as the contract-test fixture does."""
    names = set()
    for backend in hubs.BUILTIN_HUBS:
        module = importlib.import_module(f"eventhub.hubs.{backend}")
        if not module.is_available():
            continue
        for variant, cls in (("compiled", module.CompiledHub), ("pure", module.PureHub)):
            if cls is not None:
                names.add(f"{backend}-{variant}")
    return names


def importable(name: str) -> bool:
    """Whether ``name`` can be found, without importing it into the test process."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent package is missing
        return False


def assert_did_the_work(doc: dict[str, Any], impl: str, repeat: int = 1) -> None:
    """Every workload of ``impl`` ran, each sample counting exactly the expected operations."""
    sizes = Sizes.for_scale(SCALE)
    cells = doc["results"][impl]["workloads"]
    assert set(cells) == set(WORKLOAD_NAMES)
    for name, cell in cells.items():
        if impl.startswith("selects-") and name == "idle":
            assert cell["status"] == "n/a"
            assert "FD_SETSIZE" in cell["reason"]
            continue
        assert cell["status"] == "ok", (impl, name, cell["reason"])
        expected = get_workload(name).expected(sizes)
        assert cell["expected_ops"] == expected > 0
        assert cell["counted_ops"] == [expected] * repeat
        assert len(cell["samples"]) == repeat and all(s > 0 for s in cell["samples"])
        assert cell["median"] == pytest.approx(sorted(cell["samples"])[repeat // 2])
    assert doc["results"][impl]["description"]


def test_every_available_hub_variant_runs_every_workload() -> None:
    hub_impls = [i.name for i in impls.DEFAULT if i.kind == "eventhub"]
    code, doc, stderr = run_bench("--impl", ",".join(hub_impls))
    assert code == 0, stderr
    assert doc["mode"] == "default"
    assert doc["scale"] == SCALE and doc["repeat"] == 1
    assert list(doc["workloads"]) == list(WORKLOAD_NAMES)
    assert set(doc["results"]) == set(hub_impls)
    available = available_hub_variants()
    assert {"epolls-pure", "poll-pure", "selects-pure"} <= available
    ran = {name for name, r in doc["results"].items() if name not in doc["skipped"]}
    assert available <= ran
    for impl in ran:
        assert_did_the_work(doc, impl)
    for impl, reason in doc["skipped"].items():
        assert reason, impl
        assert all(c["status"] == "skipped" for c in doc["results"][impl]["workloads"].values())
    # The baseline is compiled epolls when built, else pure epolls; its ratios are 1.
    assert doc["baseline"] == ("epolls-compiled" if "epolls-compiled" in ran else "epolls-pure")
    for cell in doc["results"][doc["baseline"]]["workloads"].values():
        assert cell["ratio"] == pytest.approx(1.0)
    assert "[1/" in stderr  # progress goes to stderr


def test_repeats_give_one_sample_each_and_the_median() -> None:
    code, doc, stderr = run_bench("--impl", "epolls-pure", "--workloads", "switch,timeout", repeat=3)
    assert code == 0, stderr
    cell = doc["results"]["epolls-pure"]["workloads"]["switch"]
    assert len(cell["samples"]) == 3 and cell["median"] == sorted(cell["samples"])[1]
    assert stderr.count("on epolls-pure") == 6  # a fresh worker per sample, round-robin
    # The pure variant really is the pure hub, in a process without extensions.
    assert doc["results"]["epolls-pure"]["description"].endswith("eventhub.hubs.epolls.PureHub")


def test_peers_run_every_workload_or_are_skipped_with_the_reason() -> None:
    code, doc, stderr = run_bench("--impl", ",".join(PEERS), "--baseline", "asyncio")
    assert code == 0, stderr
    assert doc["baseline"] == "asyncio"
    assert doc["targets"] == []  # no eventhub hub was selected
    for peer in PEERS:  # each peer's name is its module's
        if importable(peer):
            assert_did_the_work(doc, peer)
            ratios = [c["ratio"] for c in doc["results"][peer]["workloads"].values()]
            assert all(r is not None and r > 0 for r in ratios)
        else:
            assert "cannot import" in doc["skipped"][peer]


def test_eventlet_mode_compares_eventlets_hub_with_eventhubs_adapter() -> None:
    if not importable("eventlet"):
        pytest.skip("eventlet is not installed")
    code, doc, stderr = run_bench("--eventlet", "--workloads", "switch,pingpong")
    assert code == 0, stderr
    assert doc["mode"] == "eventlet"
    assert doc["baseline"] == "eventlet-epolls"
    assert set(doc["results"]) == {"eventlet-epolls", "eventlet-eventhub"}
    assert doc["results"]["eventlet-epolls"]["description"].endswith("eventlet.hubs.epolls.Hub")
    for cell in doc["results"]["eventlet-epolls"]["workloads"].values():
        assert cell["status"] == "ok" and cell["ratio"] == pytest.approx(1.0)
    adapter = doc["results"]["eventlet-eventhub"]
    if importable("eventhub.eventlet"):
        assert adapter["description"].startswith("eventlet ")
        assert "eventhub" in adapter["description"]
        for cell in adapter["workloads"].values():
            assert cell["status"] == "ok" and cell["ratio"] > 0
    else:
        assert "cannot import eventhub.eventlet" in doc["skipped"]["eventlet-eventhub"]


def test_the_table_shows_rates_ratios_and_why_cells_are_missing() -> None:
    proc = run_cli(
        "--quick", "--scale", str(SCALE), "--repeat", "1", "--impl", "selects-pure,pyevent-compiled", "--workloads", "switch,idle"
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ops/s, median of 1" in out
    assert "ratio to epolls-" in out
    assert "selects-pure idle: n/a: select() cannot watch fds >= FD_SETSIZE" in out
    if not importable("eventhub.hubs._pyevent"):
        assert "pyevent-compiled:" in out.split("skipped implementations:")[1]


def test_a_crashing_worker_is_reported_not_fatal() -> None:
    ghost = impls.Implementation("no-such-impl", "eventhub", "nosuch-pure")
    settings = runner.Settings(scale=SCALE, repeat=1, time_limit=60)
    cell = runner.Cell(ghost.name, "switch", expected=get_workload("switch").expected(settings.sizes))
    runner.run_sample(ghost, cell, settings)
    assert cell.status == runner.ERROR
    assert "KeyError" in cell.reason


def test_a_worker_killed_by_a_signal_or_the_time_limit_is_an_error() -> None:
    settings = runner.Settings(scale=SCALE, repeat=1, time_limit=5)
    crashed = runner.Cell("x", "switch", expected=1)
    runner.judge(crashed, settings, -11, "Fatal Python error: Segmentation fault\n")
    assert crashed.status == runner.ERROR
    assert crashed.reason == "worker died of SIGSEGV: Fatal Python error: Segmentation fault"
    hung = runner.Cell("x", "switch", expected=1)
    runner.judge(hung, settings, -9, "", timed_out=True)
    assert hung.reason == "worker was killed after the --time-limit of 5s: no output on stderr"


def test_a_miscounting_worker_is_an_error() -> None:
    cell = runner.Cell("x", "switch", expected=10, counted=[10, 9], seconds=[1.0, 1.0])
    settings = runner.Settings(scale=SCALE, repeat=2)
    runner.judge(cell, settings, 0, "")
    assert cell.status == runner.ERROR and "expected 10" in cell.reason
    assert cell.median is None


def test_sizes_scale_counts_but_not_concurrency() -> None:
    small = Sizes.for_scale(0.001)
    assert small.switch_threads == Sizes().switch_threads
    assert small.echo_clients == Sizes().echo_clients
    assert small.idle_sockets == Sizes().idle_sockets
    assert small.spawn_threads == 100 and small.echo_messages == 1
    with pytest.raises(ValueError):
        Sizes.for_scale(0)


def test_selecting_implementations_by_pattern() -> None:
    names = [i.name for i in impls.select(impls.DEFAULT, ["epolls-*", "uvloop"])]
    assert names == ["epolls-compiled", "epolls-pure", "uvloop"]
    assert "pyevent-pure" not in [i.name for i in impls.DEFAULT]
    with pytest.raises(ValueError, match="no implementation matches"):
        impls.select(impls.DEFAULT, ["nope"])


def test_format_rate() -> None:
    assert report.format_rate(1_234_567) == "1.23M"
    assert report.format_rate(45_678) == "45.7k"
    assert report.format_rate(12) == "12"


def test_speed_targets_are_checked_on_same_run_medians() -> None:
    def cell(impl: str, workload: str, rate: float | None) -> runner.Cell:
        if rate is None:
            return runner.Cell(impl, workload, runner.SKIPPED, "not built")
        return runner.Cell(impl, workload, expected=100, counted=[100], seconds=[100 / rate])

    cells = [
        cell("epolls-compiled", "pingpong", 90_000),
        cell("epolls-compiled", "idle", 85_000),
        cell("gevent", "pingpong", 50_000),
        cell("eventlet", "pingpong", None),
    ]
    checks = {c["target"]: c for c in targets.check(targets.DEFAULT_TARGETS, cells)}
    assert set(checks) == {
        "epolls-compiled pingpong >= 1.5x gevent",
        "epolls-compiled pingpong >= 3x eventlet",
        "epolls-compiled idle >= 0.9x its pingpong",
    }
    assert checks["epolls-compiled pingpong >= 1.5x gevent"]["ratio"] == pytest.approx(1.8)
    assert checks["epolls-compiled pingpong >= 1.5x gevent"]["met"] is True
    assert checks["epolls-compiled pingpong >= 3x eventlet"]["met"] is None
    assert checks["epolls-compiled idle >= 0.9x its pingpong"]["met"] is True
    assert "NOT MET" not in "\n".join(targets.format_checks(list(checks.values())))
