"""eventhub-run: eventlet programs on eventhub's hubs, proved by the hub report of every process.

Each launch is a real ``python -m eventhub.run`` (or the ``eventhub-run``
script) starting a real program; which hub served is read from
``EVENTHUB_RUN_REPORT`` and from what the program prints.  Launches run on
every eventlet hub name eventhub replaces, in each variant built here.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import eventhub
from eventhub.run import BOOTSTRAP_DIR, report

eventlet_adapter = pytest.importorskip("eventhub.eventlet")
patch = importlib.import_module("eventhub.run.patch")

PACKAGE_ROOT = str(Path(eventhub.__file__).resolve().parent.parent)
HUB_APP = Path(__file__).parent / "run_apps" / "hub_app.py"

#: eventlet's hub names eventhub-run replaces -> the eventhub.eventlet class (and eventhub backend).
REPLACED_NAMES = {"epolls": ("EpollHub", "epolls"), "poll": ("PollHub", "poll"),
                  "selects": ("SelectHub", "selects"), "asyncio": ("AsyncioHub", "asyncio")}


def available_variants(backend: str) -> list[str]:
    module = importlib.import_module(f"eventhub.hubs.{backend}")
    variants = ["compiled"] if module.CompiledHub is not None else []
    return variants + (["pure"] if module.PureHub is not None else [])


def launcher_params() -> list[Any]:
    params = []
    for name, (cls, backend) in REPLACED_NAMES.items():
        if cls in eventlet_adapter.UNAVAILABLE:
            continue
        for variant in available_variants(backend):
            marks = [pytest.mark.compiled] if variant == "compiled" else [pytest.mark.pure]
            params.append(pytest.param(name, cls, variant, id=f"{name}-{variant}", marks=marks))
    return params


#: (eventlet hub name, eventhub.eventlet class, variant) for every launch test.
LAUNCHER_PARAMS = launcher_params()


def launcher_env(variant: str | None = None, **extra: str) -> dict[str, str]:
    """The test's environment for a launch: this eventhub importable, ``variant`` forced (None: this process's)."""
    env = {k: v for k, v in os.environ.items() if k != "EVENTLET_HUB"}
    theirs = extra.pop("PYTHONPATH", None)
    env["PYTHONPATH"] = PACKAGE_ROOT if theirs is None else os.pathsep.join([PACKAGE_ROOT, theirs])
    if variant == "pure":
        env["EVENTHUB_NO_EXTENSIONS"] = "1"
    elif variant == "compiled":
        env.pop("EVENTHUB_NO_EXTENSIONS", None)
    env.update(extra)
    return env


def launch(*args: str, variant: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m eventhub.run ARGS`` (not checked)."""
    return subprocess.run([sys.executable, "-m", "eventhub.run", *args], env=launcher_env(variant, **env),
                          capture_output=True, text=True, timeout=120)


def printed(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """hub_app's JSON lines, by role."""
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return {line["role"]: line for line in lines}


@pytest.mark.parametrize(("hub_name", "hub_class", "variant"), LAUNCHER_PARAMS)
def test_a_program_choosing_its_hub_runs_on_eventhubs_in_every_process(
        tmp_path: Path, hub_name: str, hub_class: str, variant: str) -> None:
    """use_hub(NAME), then monkey_patch(), in the program, its fork() child and its sys.executable child."""
    log = tmp_path / "hubs.log"
    result = launch("--report", str(log), sys.executable, "-W", "ignore", str(HUB_APP), "--hub", hub_name,
                    variant=variant)
    roles = printed(result)
    assert sorted(roles) == ["child", "forked", "parent"]
    expected = f"eventhub.eventlet:{hub_class}"
    assert {role: line["hub"] for role, line in roles.items()} == dict.fromkeys(roles, expected)

    lines = report.read(log)
    by_pid: dict[int, list[report.HubLine]] = {}
    for line in lines:
        by_pid.setdefault(line.pid, []).append(line)
    assert sorted(by_pid) == sorted(line["pid"] for line in roles.values())
    assert {role: [(line.event, line.hub, line.variant) for line in by_pid[info["pid"]]]
            for role, info in roles.items()} == {
        "parent": [("created", expected, variant)],
        "forked": [("forked", expected, variant)],
        "child": [("created", expected, variant)],
    }
    assert by_pid[roles["forked"]["pid"]][0].ppid == roles["parent"]["pid"]


@pytest.mark.parametrize("variant", available_variants("poll"))
def test_use_hub_after_monkey_patching_replaces_the_hub_with_eventhubs(tmp_path: Path, variant: str) -> None:
    """monkey_patch() makes a default hub first; the program's use_hub("poll") then replaces it."""
    log = tmp_path / "hubs.log"
    roles = printed(launch("--report", str(log), sys.executable, "-W", "ignore", str(HUB_APP), "--hub", "poll",
                           "--patch-first", variant=variant))
    assert {line["hub"] for line in roles.values()} == {"eventhub.eventlet:PollHub"}
    default = f"eventhub.eventlet:{eventlet_adapter.Hub.__name__}"
    by_pid: dict[int, list[tuple[str, str]]] = {}
    for line in report.read(log):
        assert line.variant == variant
        by_pid.setdefault(line.pid, []).append((line.event, line.hub))
    assert [by_pid[roles[role]["pid"]] for role in ("parent", "forked", "child")] == [
        [("created", default), ("created", "eventhub.eventlet:PollHub")],  # the last one is the one in use
        [("forked", "eventhub.eventlet:PollHub")],
        [("created", default), ("created", "eventhub.eventlet:PollHub")],
    ]


@pytest.mark.parametrize("variant", available_variants("selects"))
def test_the_hub_option_sets_the_default_hub(tmp_path: Path, variant: str) -> None:
    log = tmp_path / "hubs.log"
    roles = printed(launch("--hub", "selects", "--report", str(log), sys.executable, "-W", "ignore",
                           str(HUB_APP), variant=variant))
    assert {line["hub"] for line in roles.values()} == {"eventhub.eventlet:SelectHub"}
    assert {(line.hub, line.variant) for line in report.read(log)} == {("eventhub.eventlet:SelectHub", variant)}


def test_without_options_the_default_is_eventhubs_default(tmp_path: Path) -> None:
    roles = printed(launch(sys.executable, "-W", "ignore", str(HUB_APP)))
    assert {line["hub"] for line in roles.values()} == {f"eventhub.eventlet:{eventlet_adapter.Hub.__name__}"}


@pytest.mark.compiled
@pytest.mark.skipif("LibeventHub" in eventlet_adapter.UNAVAILABLE, reason="the libevent hub is not built here")
def test_the_hub_option_reaches_the_libevent_hub(tmp_path: Path) -> None:
    roles = printed(launch("--hub", "pyevent", sys.executable, "-W", "ignore", str(HUB_APP)))
    assert {line["hub"] for line in roles.values()} == {"eventhub.eventlet:LibeventHub"}


@pytest.mark.parametrize("form", ["console script on PATH", "python -m"])
def test_programs_started_as_console_scripts_or_modules_are_covered(tmp_path: Path, form: str) -> None:
    log = tmp_path / "hubs.log"
    if form == "python -m":
        command = [sys.executable, "-W", "ignore", "-m", "hub_app", "--hub", "poll"]
        env = {"PYTHONPATH": str(HUB_APP.parent)}
    else:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        script = bin_dir / "their-server"  # as pip writes console scripts: a shebang to the environment's Python
        script.write_text(f"#!{sys.executable} -W ignore\nimport runpy, sys\nsys.argv[0] = {str(HUB_APP)!r}\n"
                          f"runpy.run_path({str(HUB_APP)!r}, run_name='__main__')\n")
        script.chmod(0o755)
        command = ["their-server", "--hub", "poll"]
        env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}
    roles = printed(launch("--report", str(log), *command, **env))
    assert {line["hub"] for line in roles.values()} == {"eventhub.eventlet:PollHub"}
    assert {line.pid for line in report.read(log)} == {line["pid"] for line in roles.values()}


def test_a_warning_eventlet_issues_at_import_is_attributed_as_without_the_launcher(tmp_path: Path) -> None:
    """The bootstrap's frames count as import machinery: filters by module and line see the program's."""
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent("""
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import eventlet
        print(sorted({(w.category.__name__, w.filename, w.lineno) for w in caught}))
    """))
    plain = subprocess.run([sys.executable, str(app)], env=launcher_env(), capture_output=True, text=True,
                           timeout=120)
    launched = launch(sys.executable, str(app))
    assert plain.returncode == launched.returncode == 0, plain.stderr + launched.stderr
    assert f"('EventletDeprecationWarning', {str(app)!r}, 5)" in plain.stdout
    assert launched.stdout == plain.stdout


THIRD_PARTY = """
import eventlet.hubs.poll

class TheirHub(eventlet.hubs.poll.Hub):
    '''A third-party hub built on eventlet's own poll hub.'''
"""


@pytest.mark.parametrize("how", ["EVENTLET_HUB", "use_hub(class)", "use_hub(string)"])
def test_a_third_party_hub_is_used_as_given(tmp_path: Path, how: str) -> None:
    (tmp_path / "theirhub.py").write_text(THIRD_PARTY)
    choose = {"EVENTLET_HUB": "", "use_hub(class)": "eventlet.hubs.use_hub(theirhub.TheirHub)",
              "use_hub(string)": "eventlet.hubs.use_hub('theirhub:TheirHub')"}[how]
    (tmp_path / "app.py").write_text(textwrap.dedent(f"""
        import eventlet, eventlet.hubs, eventlet.hubs.poll
        import theirhub
        {choose}
        eventlet.sleep(0.001)
        hub = eventlet.hubs.get_hub()
        # Built on eventlet's class, which eventhub-run leaves as it is.
        print(type(hub).__name__, theirhub.TheirHub.__mro__[1] is eventlet.hubs.poll.Hub,
              eventlet.hubs.poll.Hub.__module__)
    """))
    log = tmp_path / "hubs.log"
    env = {"EVENTLET_HUB": "theirhub:TheirHub"} if how == "EVENTLET_HUB" else {}
    result = launch("--report", str(log), sys.executable, "-W", "ignore", str(tmp_path / "app.py"),
                    PYTHONPATH=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["TheirHub", "True", "eventlet.hubs.poll"]
    assert [(line.hub, line.variant) for line in report.read(log)] == [("theirhub:TheirHub", "-")]


@pytest.mark.parametrize("name", ["epolls", "poll", "selects", "asyncio"])
def test_every_way_of_naming_eventlets_builtin_hub_is_replaced(name: str) -> None:
    import eventlet.hubs

    ours = patch.REPLACED[importlib.import_module(f"eventlet.hubs.{name}")]
    module = importlib.import_module(f"eventlet.hubs.{name}")
    for form in (name, f" {name} ", f"eventlet.hubs.{name}", f"eventlet.hubs.{name}:Hub", module, module.Hub):
        assert patch.replacement_for(form) is ours, form
    assert ours.__module__ == "eventhub.eventlet"


def test_what_is_not_eventlets_builtin_hub_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import eventlet.hubs.poll

    subclass = type("Sub", (eventlet.hubs.poll.Hub,), {})
    for form in ("kqueue", "eventlet.hubs.poll:Other", "pkg.mod:Cls", "eventhub.eventlet:PollHub", subclass,
                 eventlet_adapter.PollHub, "", 42):
        assert patch.replacement_for(form) is form, form
    monkeypatch.delenv("EVENTLET_HUB", raising=False)
    assert patch.replacement_for(None) is eventlet_adapter.Hub
    monkeypatch.setenv("EVENTLET_HUB", "poll")
    assert patch.replacement_for(None) is eventlet_adapter.PollHub
    monkeypatch.setenv("EVENTLET_HUB", "pkg.mod:Cls")
    assert patch.replacement_for(None) == "pkg.mod:Cls"


def test_an_application_imported_eventlet_sees_the_patch_before_its_first_line_runs(tmp_path: Path) -> None:
    """The patch is in place when ``import eventlet`` returns; EVENTHUB_RUN=0 turns it off for a child."""
    code = ("import eventlet.hubs, eventhub.run.patch as p, eventhub.eventlet_queue as q; "
            "print(eventlet.hubs.use_hub is p.use_hub, q.installed())")
    on = launch(sys.executable, "-W", "ignore", "-c", code)
    off = launch("--no-fair-queues", sys.executable, "-W", "ignore", "-c", code)
    child = "import eventlet.hubs; print(type(eventlet.hubs.get_hub()).__module__)"
    unpatched = launch(sys.executable, "-c", "import os, subprocess, sys; subprocess.run([sys.executable, '-W', "
                       f"'ignore', '-c', {child!r}], env=dict(os.environ, EVENTHUB_RUN='0'), check=True)")
    assert (on.stdout, off.stdout, unpatched.stdout) == ("True True\n", "True False\n", "eventlet.hubs.epolls\n"), (
        on.stderr + off.stderr + unpatched.stderr)


@pytest.mark.parametrize("variant", [pytest.param(v, marks=getattr(pytest.mark, v)) for v in available_variants("epolls")])
def test_fast_io_is_on_by_default_and_off_when_asked(variant: str) -> None:
    """The compiled socket methods (compiled variant only) at eventlet's import; the whole-frame
    unmasking when the program imports eventlet.websocket; neither with --no-fast-io or the variable at 0."""
    code = ("import eventlet, eventhub.eventlet_greenio as g, sys; print(g.installed(), 'eventlet.websocket' in "
            "sys.modules); import eventlet.websocket, eventhub.eventlet_websocket as w; print(w.installed())")
    on = launch(sys.executable, "-W", "ignore", "-c", code, variant=variant)
    off = launch("--no-fast-io", sys.executable, "-W", "ignore", "-c", code, variant=variant)
    off_by_env = launch(sys.executable, "-W", "ignore", "-c", code, variant=variant, EVENTHUB_RUN_FAST_IO="0")
    compiled = str(variant == "compiled")
    assert on.stdout == f"{compiled} False\nTrue\n", on.stderr
    assert off.stdout == off_by_env.stdout == "False False\nFalse\n", off.stderr + off_by_env.stderr


def test_call_after_import_runs_as_the_import_ends_and_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventhub.run import after_import

    (tmp_path / "eventhub_test_late.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "eventhub_test_late", raising=False)
    seen: list[Any] = []
    after_import.call_after_import("eventhub_test_late", lambda: seen.append(sys.modules["eventhub_test_late"].VALUE))
    assert seen == []
    late = importlib.import_module("eventhub_test_late")
    assert seen == [7]  # before the import returned, with the module loaded
    assert late.__spec__ is not None and late.__loader__ is late.__spec__.loader
    assert type(late.__loader__).__name__ == "SourceFileLoader"  # its own, not the hook's
    importlib.reload(late)
    assert seen == [7]  # once
    after_import.call_after_import("eventhub_test_late", lambda: seen.append("now"))
    assert seen == [7, "now"]  # already imported: at once
    monkeypatch.delitem(sys.modules, "eventhub_test_late")


def test_a_sitecustomize_the_bootstrap_hides_still_runs(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text("import builtins\nbuiltins.THEIR_SITECUSTOMIZE = 'ran'\n")
    result = launch(sys.executable, "-c", "print(THEIR_SITECUSTOMIZE)", PYTHONPATH=str(tmp_path))
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr


def test_a_python_that_cannot_import_eventhub_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "eventhub"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('not this eventhub')\n")
    # The program starts a Python that finds this broken eventhub first (right after the bootstrap;
    # and in its current directory, which "python -c" searches first).
    child = "import eventlet.hubs; print(type(eventlet.hubs.get_hub()).__module__)"
    result = launch(sys.executable, "-c", f"""if 1:
        import os, subprocess, sys
        bootstrap, *rest = os.environ["PYTHONPATH"].split(os.pathsep)
        path = os.pathsep.join([bootstrap, {str(tmp_path)!r}, *rest])
        subprocess.run([sys.executable, "-W", "ignore", "-c", {child!r}], env=dict(os.environ, PYTHONPATH=path),
                       cwd={str(tmp_path)!r}, check=True)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "eventlet.hubs.epolls\n"
    assert "cannot import eventhub (not this eventhub): eventlet runs on its own hubs" in result.stderr


def test_the_program_keeps_its_python_path(tmp_path: Path) -> None:
    """The bootstrap goes first; the program's PYTHONPATH follows, empty entries (the current directory) too."""
    (tmp_path / "theirs.py").write_text("WHERE = 'theirs'\n")
    result = launch(sys.executable, "-c", "import os, sys, theirs; print(os.environ['PYTHONPATH']); "
                    "print(theirs.WHERE)", PYTHONPATH=f"{tmp_path}{os.pathsep}")
    assert result.returncode == 0, result.stderr
    path, where = result.stdout.splitlines()
    assert path.split(os.pathsep) == [str(BOOTSTRAP_DIR), PACKAGE_ROOT, str(tmp_path), ""]
    assert where == "theirs"


def test_patching_after_eventlets_hub_exists_is_refused(tmp_path: Path) -> None:
    """The bootstrap patches as eventlet's import ends; later, a hub may hold listeners: refuse, never drop it."""
    code = ("import eventlet.hubs; eventlet.hubs.get_hub(); from eventhub.run import patch\n"
            "try:\n    patch.apply(fair_queues=False, fast_io=False, report_path=None)\nexcept RuntimeError as e:\n    print(e)")
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=launcher_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.stdout == "eventhub-run: eventlet's hub was created before eventhub could take its place\n"


def test_help_says_what_it_changes() -> None:
    result = launch("--help")
    assert result.returncode == 0
    for words in ("use_hub(", "eventhub.eventlet:EpollHub", "third-party", "forked", "sys.executable",
                  "first come, first served", "--no-fair-queues", "EVENTHUB_RUN_FAIR_QUEUES",
                  "--no-fast-io", "EVENTHUB_RUN_FAST_IO", "recv, recv_into, send and sendall",
                  "EVENTHUB_RUN_REPORT", "EVENTLET_HUB", "PYTHONPATH", "sitecustomize"):
        assert words in result.stdout, words


def test_the_console_script_is_the_same_launcher(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("eventhub-run")
    assert script.exists(), "eventhub-run is not installed next to this Python"
    log = tmp_path / "hubs.log"
    result = subprocess.run([str(script), "--report", str(log), sys.executable, "-W", "ignore", str(HUB_APP), "--hub", "poll"],
                            env=launcher_env(), capture_output=True, text=True, timeout=120)
    assert {line["hub"] for line in printed(result).values()} == {"eventhub.eventlet:PollHub"}
    assert report.read(log)[-1].hub == "eventhub.eventlet:PollHub"


def test_the_program_replaces_the_launcher_and_its_exit_status_is_returned() -> None:
    result = launch(sys.executable, "-c", "import os, sys; print(os.getppid()); sys.exit(7)")
    assert result.returncode == 7
    assert int(result.stdout) == os.getpid()  # no launcher process in between


@pytest.mark.parametrize(("args", "env", "status", "message"), [
    ([], {}, 2, "no COMMAND given"),
    (["no-such-command-here"], {}, 127, "command not found: no-such-command-here"),
    ([str(HUB_APP)], {}, 126, "cannot run"),  # not executable
    (["--hub", "nope", "true"], {}, 2, "invalid choice"),
    (["--report", "/no/such/dir/hubs.log", "true"], {}, 2, "there is no directory /no/such/dir"),
    (["true"], {"EVENTHUB_RUN_FAIR_QUEUES": "yes"}, 2, "EVENTHUB_RUN_FAIR_QUEUES must be 0 or 1"),
    (["true"], {"EVENTHUB_RUN_FAST_IO": "on"}, 2, "EVENTHUB_RUN_FAST_IO must be 0 or 1"),
])
def test_bad_usage_is_refused_clearly(args: list[str], env: dict[str, str], status: int, message: str) -> None:
    result = launch(*args, **env)
    assert result.returncode == status
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_without_eventlet_it_refuses(tmp_path: Path) -> None:
    """A Python with eventhub and greenlet but no eventlet: nothing to run on eventhub's hubs."""
    import greenlet

    site = tmp_path / "site"
    site.mkdir()
    for package in (Path(eventhub.__file__).parent, Path(greenlet.__file__).parent):
        (site / package.name).symlink_to(package)
    # -S: no site-packages (where eventlet is) and no bootstrap; -E: no PYTHONPATH from the test's environment.
    result = subprocess.run(
        [sys.executable, "-S", "-E", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); "
         "sys.argv[1:] = sys.argv[2:]; import runpy; runpy.run_module('eventhub.run', run_name='__main__')",
         "-", sys.executable, "-c", "print('ran')"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "eventlet is not installed" in result.stderr
    assert result.stdout == ""


def test_the_bootstrap_directory_holds_only_sitecustomize() -> None:
    """Everything in it shadows a module of the program's: it must stay this one file."""
    assert sorted(p.name for p in BOOTSTRAP_DIR.iterdir() if p.name != "__pycache__") == ["sitecustomize.py"]


def test_the_report_reads_what_was_appended_and_refuses_what_was_not(tmp_path: Path) -> None:
    log = tmp_path / "hubs.log"
    assert report.read(log) == []
    lines = [report.HubLine(1, 0, "created", "eventhub.eventlet:PollHub", "compiled"),
             report.HubLine(2, 1, "forked", "eventhub.eventlet:PollHub", "compiled")]
    for line in lines:
        report.append(log, line)
    assert log.read_text().splitlines()[0] == "pid=1 ppid=0 event=created hub=eventhub.eventlet:PollHub variant=compiled"
    assert report.read(log) == lines
    with log.open("a") as f:
        f.write("pid=x ppid=0 event=created hub=h variant=-\n")
    with pytest.raises(ValueError, match=":3: not a hub report line"):
        report.read(log)


def test_report_lines_from_many_processes_do_not_mix(tmp_path: Path) -> None:
    log = tmp_path / "hubs.log"
    writer = ("import sys; from eventhub.run import report\n"
              "for i in range(200): report.append(sys.argv[1], report.HubLine(i, int(sys.argv[2]), 'created', "
              "'m:' + 'C' * 500, 'pure'))")
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(log), str(n)], env=launcher_env())
             for n in range(4)]
    assert [p.wait(60) for p in procs] == [0] * 4
    lines = report.read(log)
    assert len(lines) == 800
    assert sorted((line.ppid, line.pid) for line in lines) == sorted((n, i) for n in range(4) for i in range(200))
