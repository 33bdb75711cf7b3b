"""The benchmark suite (``python -m eventhub.bench``): structure and honesty, never speed.

The CLI runs at a tiny hidden ``--scale`` so each test takes seconds; the
assertions check that every cell did exactly the work it claims (the
workers count operations, messages and bytes), not how fast it was.
Timing plays no part, so these run beside other jobs, in one tox env
(``py311-compiled``: tox.ini says why).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
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


def runs_on_an_asyncio_loop(impl: str) -> bool:
    """Whether ``impl`` can run the await workload: asyncio itself, or greenthreads on its loop."""
    return impl in ("asyncio", "uvloop", "eventlet-asyncio") or impl.startswith(("asyncio-", "asyncio+"))


def assert_did_the_work(doc: dict[str, Any], impl: str, repeat: int = 1) -> None:
    """Every workload of ``impl`` ran, each sample counting exactly the expected operations."""
    sizes = Sizes.for_scale(SCALE)
    cells = doc["results"][impl]["workloads"]
    assert set(cells) == set(WORKLOAD_NAMES)
    for name, cell in cells.items():
        if name == "await" and not runs_on_an_asyncio_loop(impl):
            assert cell["status"] == "n/a"
            assert "asyncio loop" in cell["reason"]
            continue
        if name == "imap" and impl in ("asyncio", "uvloop"):
            assert cell["status"] == "n/a"
            assert "no pool" in cell["reason"]
            continue
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
        assert len(cell["machine_speed"]) == repeat and all(s > 0 for s in cell["machine_speed"])
        assert len(cell["cpu_share"]) == repeat and all(s > 0 for s in cell["cpu_share"])
    assert doc["results"][impl]["description"]


@pytest.mark.timeout(300)  # run_cli's own limit: every hub variant x thirteen workloads, a process per sample
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
        if cell["status"] == "ok":  # await is n/a on epolls
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


@pytest.mark.timeout(300)  # run_cli's own limit: four peers x thirteen workloads, a process per sample
def test_peers_run_every_workload_or_are_skipped_with_the_reason() -> None:
    code, doc, stderr = run_bench("--impl", ",".join(PEERS), "--baseline", "asyncio")
    assert code == 0, stderr
    assert doc["baseline"] == "asyncio"
    assert doc["targets"] == []  # no eventhub hub was selected
    for peer in PEERS:  # each peer's name is its module's
        if importable(peer):
            assert_did_the_work(doc, peer)
            baseline = doc["results"]["asyncio"]["workloads"]
            cells = doc["results"][peer]["workloads"].items()
            ratios = [c["ratio"] for name, c in cells if c["status"] == "ok" and baseline[name]["status"] == "ok"]
            assert ratios and all(r is not None and r > 0 for r in ratios)
            # No ratio where the baseline has no number (asyncio has no imap).
            assert all(c["ratio"] is None for name, c in cells if baseline[name]["status"] != "ok")
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
    assert small.tls_clients == Sizes().tls_clients
    assert small.spawn_threads == 100 and small.echo_messages == 1
    assert small.offloads == 20 and small.tls_messages == 1
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


#: Loaded by every worker through PYTHONPATH: the compiled epolls module fails to
#: import as a broken build does (CPython 3.13 once gave "undefined symbol").
BROKEN_EXTENSION_SITECUSTOMIZE = """
import sys

class _Broken:
    def find_spec(self, name, path=None, target=None):
        if name == "eventhub.hubs._epolls":
            raise ImportError("undefined symbol: made_up_by_the_test")
        return None

sys.meta_path.insert(0, _Broken())
"""


def test_the_baseline_is_a_variant_that_ran_and_targets_without_one_side_are_not_judged(tmp_path: Any) -> None:
    (tmp_path / "sitecustomize.py").write_text(BROKEN_EXTENSION_SITECUSTOMIZE)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), PACKAGE_ROOT]))
    cmd = [sys.executable, "-m", "eventhub.bench", "--json", "--scale", "1", "--repeat", "1"]
    cmd += ["--impl", "epolls-compiled,eventlet", "--workloads", "timeout"]
    proc = subprocess.run(cmd, cwd=os.path.dirname(os.path.abspath(__file__)), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    # Compiled epolls is installed but does not import: the pure hub is the baseline, and runs.
    assert doc["baseline"] == "epolls-pure"
    assert "made_up_by_the_test" in doc["skipped"]["epolls-compiled"]
    assert "does not import" in doc["skipped"]["epolls-compiled"]
    assert doc["results"]["epolls-pure"]["workloads"]["timeout"]["ratio"] == pytest.approx(1.0)
    checks = {c["target"]: c for c in doc["targets"]}
    compiled = checks["epolls-compiled timeout >= 4x eventlet"]
    assert compiled["ratio"] is None and compiled["met"] is None
    assert compiled["why_not_judged"].startswith("epolls-compiled did not run: ")
    pure = checks["epolls-pure timeout >= 1x eventlet"]
    if not importable("eventlet"):
        assert pure["why_not_judged"].startswith("eventlet did not run: ")
    elif pure["why_not_judged"]:  # only the machine may keep it from being judged, never the compiled hub
        assert pure["why_not_judged"].startswith("the machine ran ") and pure["ratio"] is None
    else:  # judged: the pure hub and eventlet both ran, at full size
        assert pure["ratio"] > 0 and pure["met"] is not None


def test_a_scaled_down_run_judges_no_target() -> None:
    code, doc, stderr = run_bench("--impl", "epolls-pure,eventlet", "--workloads", "switch")
    assert code == 0, stderr
    checks = {c["target"]: c for c in doc["targets"]}
    assert "epolls-pure switch >= 1x eventlet" in checks
    for check in checks.values():
        assert check["ratio"] is None and check["met"] is None
        assert check["why_not_judged"] == f"a run at {SCALE:g} of the full work; targets are judged on full runs"
    proc = run_cli("--quick", "--repeat", "1", "--scale", str(SCALE), "--impl", "epolls-pure,eventlet", "--workloads", "switch")
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "epolls-pure switch >= 1x eventlet" in line)
    expected = f"- not judged (a run at {SCALE:g} of the full work; targets are judged on full runs)".split()
    assert line.split()[-len(expected) :] == expected
    assert " met" not in proc.stdout and "NOT MET" not in proc.stdout


def test_the_timer_window_scales_with_the_timer_count() -> None:
    """A quick run schedules as many timers per millisecond as a full one, so the window cannot cap its rate."""
    full, quick = Sizes(), Sizes.for_scale(0.1)
    assert quick.timers == full.timers // 10
    assert quick.timer_window == pytest.approx(full.timer_window / 10)
    assert Sizes.for_scale(1.0) == full


def test_the_asyncio_hub_targets_are_judged_against_eventlets_asyncio_hub_and_tasks() -> None:
    def cell(impl: str, workload: str, rate: float) -> runner.Cell:
        return runner.Cell(impl, workload, expected=100, counted=[100], seconds=[100 / rate])

    cells = [
        cell("asyncio-compiled", "pingpong", 33_000),
        cell("eventlet-asyncio", "pingpong", 20_000),
        cell("asyncio-compiled", "await", 130_000),
        cell("asyncio", "await", 180_000),
    ]
    checks = {c["target"]: c for c in targets.check(targets.DEFAULT_TARGETS, cells)}
    assert set(checks) == {"asyncio-compiled pingpong >= 3x eventlet-asyncio", "asyncio-compiled await >= 0.67x asyncio"}
    assert checks["asyncio-compiled pingpong >= 3x eventlet-asyncio"]["met"] is False
    assert checks["asyncio-compiled await >= 0.67x asyncio"]["ratio"] == pytest.approx(130 / 180)
    assert checks["asyncio-compiled await >= 0.67x asyncio"]["met"] is True


def test_the_toolkit_targets_are_judged_against_eventlets_and_gevents() -> None:
    def cell(impl: str, workload: str, rate: float) -> runner.Cell:
        return runner.Cell(impl, workload, expected=100, counted=[100], seconds=[100 / rate])

    cells = [
        cell("epolls-compiled", "queue", 300_000),
        cell("eventlet", "queue", 100_000),
        cell("gevent", "queue", 250_000),
        cell("epolls-compiled", "semaphore", 150_000),
        cell("eventlet", "semaphore", 50_000),
        cell("epolls-compiled", "imap", 80_000),
        cell("eventlet", "imap", 20_000),
        cell("epolls-pure", "imap", 15_000),
    ]
    checks = {c["target"]: c for c in targets.check(targets.DEFAULT_TARGETS, cells)}
    assert {name: c["met"] for name, c in checks.items()} == {
        "epolls-compiled queue >= 2x eventlet": True,
        "epolls-compiled queue >= 1.5x gevent": False,
        "epolls-compiled semaphore >= 2x eventlet": True,
        "epolls-compiled imap >= 2x eventlet": True,
        "epolls-pure imap >= 1x eventlet": False,  # the pure queue and semaphore cells were not selected
    }
    assert checks["epolls-compiled queue >= 1.5x gevent"]["ratio"] == pytest.approx(1.2)
    assert checks["epolls-compiled imap >= 2x eventlet"]["ratio"] == pytest.approx(4.0)


def test_targets_with_a_failed_or_skipped_side_are_not_judged() -> None:
    cells = [
        runner.Cell("epolls-compiled", "switch", runner.SKIPPED, "the compiled epolls hub does not import (...)"),
        runner.Cell("uvloop", "switch", expected=100, counted=[100], seconds=[1e-3]),
        runner.Cell("eventlet", "switch", runner.ERROR, "worker died of SIGSEGV"),
        runner.Cell("epolls-pure", "switch", expected=100, counted=[100], seconds=[1e-3]),
    ]
    checks = {c["target"]: c for c in targets.check(targets.DEFAULT_TARGETS, cells)}
    assert set(checks) == {
        "epolls-compiled switch >= 1.5x uvloop",
        "epolls-compiled switch >= 5x eventlet",
        "epolls-pure switch >= 1x eventlet",
    }
    for c in checks.values():
        assert c["ratio"] is None and c["met"] is None
    assert checks["epolls-compiled switch >= 1.5x uvloop"]["why_not_judged"] == (
        "epolls-compiled did not run: the compiled epolls hub does not import (...)"
    )
    assert checks["epolls-pure switch >= 1x eventlet"]["why_not_judged"] == "eventlet switch: error"
    lines = targets.format_checks(list(checks.values()))
    assert all("not judged (" in line for line in lines[1:])
    assert not any("met" in line.lower() for line in lines)


def test_without_a_baseline_that_ran_the_table_shows_no_ratios() -> None:
    cells = [
        runner.Cell("epolls-compiled", "switch", runner.SKIPPED, "not built"),
        runner.Cell("uvloop", "switch", expected=100, counted=[100], seconds=[1e-3]),
    ]
    out = report.table(cells, [get_workload("switch")], "epolls-compiled", 1, [])
    assert "no ratios: the baseline epolls-compiled did not run" in out
    assert "ratio to" not in out and "x" not in out.split("no ratios")[1].split("units")[0].replace("no ratios", "")


def _sample(cell: runner.Cell, before: float, after: float, cpu_share: float = 1.0) -> None:
    cell.counted.append(cell.expected)
    cell.seconds.append(1.0)
    cell.speeds.append((before, after))
    cell.cpu_shares.append(cpu_share)


def test_a_sample_during_which_the_machine_speed_changed_is_taken_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probes around a sample disagree: the sample is dropped and taken again, at most ``retakes`` times."""
    probes = {"steady-after-one": [(33e6, 19e6), (32e6, 33e6)], "never-steady": [(33e6, 19e6)] * 5}

    def fake_run_sample(impl: impls.Implementation, cell: runner.Cell, settings: runner.Settings) -> None:
        _sample(cell, *probes[impl.name].pop(0))

    monkeypatch.setattr(runner, "run_sample", fake_run_sample)
    chosen = [impls.Implementation(name, "eventhub", "epolls-pure") for name in probes]
    settings = runner.Settings(scale=SCALE, repeat=1, retakes=2)
    steady, unsteady = runner.run_all(chosen, [get_workload("switch")], settings, io.StringIO())
    assert steady.speeds == [(32e6, 33e6)] and steady.retaken == 1 and len(steady.counted) == 1
    assert unsteady.speeds == [(33e6, 19e6)] and unsteady.retaken == 2 and len(unsteady.counted) == 1
    assert probes["never-steady"] == [(33e6, 19e6)] * 2  # 1 sample + 2 retakes, then kept
    out = report.table([steady, unsteady], [get_workload("switch")], "steady-after-one", 1, [])
    assert "samples taken again (the machine's speed changed, or other processes took the CPU" in out
    assert "\n  steady-after-one: switch 1\n  never-steady: switch 2" in out


def test_a_sample_whose_worker_shared_its_cpu_is_taken_again(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = [(30e6, 30e6, 0.5), (30e6, 30e6, 0.97)]

    def fake_run_sample(impl: impls.Implementation, cell: runner.Cell, settings: runner.Settings) -> None:
        _sample(cell, *samples.pop(0))

    monkeypatch.setattr(runner, "run_sample", fake_run_sample)
    chosen = [impls.Implementation("x", "eventhub", "epolls-pure")]
    (cell,) = runner.run_all(chosen, [get_workload("switch")], runner.Settings(scale=SCALE, repeat=1), io.StringIO())
    assert cell.retaken == 1 and cell.cpu_shares == [0.97] and samples == []


def test_a_target_whose_cells_ran_at_different_machine_speeds_is_not_judged() -> None:
    def cell(impl: str, rate: float, machine: float) -> runner.Cell:
        c = runner.Cell(impl, "switch", expected=100)
        c.counted, c.seconds, c.speeds = [100], [100 / rate], [(machine, machine)]
        return c

    slow_subject = [cell("epolls-compiled", 1.5e6, 19e6), cell("uvloop", 1.0e6, 33e6)]
    (check,) = targets.check(targets.DEFAULT_TARGETS, slow_subject)
    assert check["ratio"] is None and check["met"] is None
    assert check["why_not_judged"] == (
        "the machine ran 1.74x faster during uvloop switch's samples than during epolls-compiled switch's"
    )
    same_speed = [cell("epolls-compiled", 1.5e6, 31e6), cell("uvloop", 1.0e6, 33e6)]
    (check,) = targets.check(targets.DEFAULT_TARGETS, same_speed)
    assert check["ratio"] == pytest.approx(1.5) and check["met"] is True and check["why_not_judged"] == ""
    out = report.table(slow_subject, [get_workload("switch")], "uvloop", 1, [])
    assert "machine speed (median per cell, a fixed Python loop): 19M-33M loops/s, 1.74x apart" in out


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
    assert checks["epolls-compiled pingpong >= 3x eventlet"]["why_not_judged"].startswith("eventlet did not run")
    assert checks["epolls-compiled pingpong >= 1.5x gevent"]["why_not_judged"] == ""
    assert checks["epolls-compiled idle >= 0.9x its pingpong"]["met"] is True
    assert "NOT MET" not in "\n".join(targets.format_checks(list(checks.values())))


def test_offload_samples_are_not_taken_again_for_an_idle_cpu() -> None:
    """offload waits for worker threads by design: only a change of the machine's speed disturbs it."""

    def sample(workload: str, speeds: tuple[float, float], cpu_share: float) -> runner.Cell:
        return runner.Cell("epolls-compiled", workload, expected=100, counted=[100], seconds=[0.1],
                           speeds=[speeds], cpu_shares=[cpu_share])  # fmt: skip

    steady = (20e6, 21e6)
    assert not sample("offload", steady, 0.3).last_sample_disturbed()
    assert sample("offload", (20e6, 33e6), 1.0).last_sample_disturbed()
    assert sample("tls", steady, 0.3).last_sample_disturbed()
    assert not sample("tls", steady, 0.95).last_sample_disturbed()


def test_thread_pool_and_tls_targets() -> None:
    def cell(impl: str, workload: str, rate: float) -> runner.Cell:
        return runner.Cell(impl, workload, expected=100, counted=[100], seconds=[100 / rate])

    cells = [
        cell("epolls-compiled", "offload", 6_000),
        cell("epolls-pure", "offload", 5_000),
        cell("eventlet", "offload", 3_000),
        cell("gevent", "offload", 4_000),
        cell("epolls-compiled", "tls", 900),
        cell("epolls-pure", "tls", 500),
        cell("eventlet", "tls", 550),
        cell("gevent", "tls", 600),
    ]
    checks = {c["target"]: (c["ratio"], c["met"]) for c in targets.check(targets.DEFAULT_TARGETS, cells)}
    assert checks == {
        "epolls-compiled offload >= 1x eventlet": (pytest.approx(2.0), True),
        "epolls-compiled offload >= 1x gevent": (pytest.approx(1.5), True),
        "epolls-pure offload >= 1x eventlet": (pytest.approx(5 / 3), True),
        "epolls-compiled tls >= 1x gevent": (pytest.approx(1.5), True),
        "epolls-pure tls >= 1x eventlet": (pytest.approx(500 / 550), False),
    }
