"""The ``eventhub-run`` command line: check, set up the environment, exec the program."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping, Sequence

from eventhub.hubs import HubError, resolve_hub
from eventhub.run import BOOTSTRAP_DIR, ENABLE_ENV, FAIR_QUEUES_ENV, FAST_IO_ENV, REPORT_ENV, switch_wanted

__all__ = ["HUB_CLASSES", "child_environment", "main", "parser"]

#: ``--hub`` name -> the eventhub.eventlet class it puts in EVENTLET_HUB.
HUB_CLASSES = {
    "epolls": "EpollHub",
    "poll": "PollHub",
    "selects": "SelectHub",
    "pyevent": "LibeventHub",
    "asyncio": "AsyncioHub",
}

#: Exit statuses of a launch that never started the program (as env(1) and shells use them).
CANNOT_RUN = 126
NOT_FOUND = 127
#: Bad usage or environment (argparse's own).
USAGE = 2

DESCRIPTION = """\
Run COMMAND (any eventlet program: "python app.py", "python -m pkg",
"celery -A proj worker -P eventlet", ...) with eventhub's hubs in place of
eventlet's, in COMMAND's process and in every Python process it starts,
forked or run with sys.executable.  In each of them, as soon as eventlet is
imported:

  - eventlet.hubs.use_hub() gives eventhub's class for eventlet's built-in
    hubs: use_hub("epolls"|"poll"|"selects"|"asyncio") (also as a module,
    "eventlet.hubs.NAME" or eventlet's Hub class) is
    eventhub.eventlet:EpollHub|PollHub|SelectHub|AsyncioHub, and use_hub(),
    or get_hub() before any use_hub(), is the hub of --hub, else of
    EVENTLET_HUB, else eventhub.eventlet:Hub (epolls).  A third-party hub
    (a class, or "package.module:Class" in code or in EVENTLET_HUB) is
    used as given.
  - eventlet's green queues (queue.Queue/LifoQueue/PriorityQueue once
    monkey-patched, eventlet.queue's, eventlet.green.Queue's) serve the
    greenthreads waiting on them first come, first served: a get() waits
    behind earlier waiters instead of taking the item.  --no-fair-queues
    leaves them as eventlet has them.
  - eventlet's green sockets do recv, recv_into, send and sendall in C
    (compiled variant; same results and errors as eventlet's), and its
    websockets unmask a frame at once instead of byte by byte.
    --no-fast-io leaves both as eventlet has them.

How: PYTHONPATH starts with eventhub's bootstrap directory, whose
sitecustomize.py (it runs any sitecustomize it hides) patches eventlet
when it is imported; EVENTHUB_RUN=1 enables it.  A Python started with -S,
-E or -I, or one that cannot import eventhub (it warns), is not patched.
Then COMMAND replaces this process (same pid, signals, exit status).
"""

EPILOG = f"""\
environment (set by the options, read in every process under the launcher):
  EVENTLET_HUB              eventlet's hub when the program names none (--hub sets it)
  {FAIR_QUEUES_ENV}  0: leave eventlet's queues unfair (--no-fair-queues); 1: fair (default)
  {FAST_IO_ENV}      0: leave eventlet's sockets and websockets as they are (--no-fast-io);
                            1: the faster ones (default)
  {REPORT_ENV}       a file each process appends "pid= ppid= event= hub= variant=" to,
                            for each eventlet hub it creates or inherits at fork (--report)
  {ENABLE_ENV}              1 under the launcher; set it to 0 for a subprocess to run unpatched
  EVENTHUB_NO_EXTENSIONS    1: eventhub's pure-Python variant instead of the compiled one

exit status: COMMAND's; {USAGE} for bad options or no eventlet, {NOT_FOUND} if COMMAND is not found,
{CANNOT_RUN} if it cannot be run.  See docs/apps.md.
"""


def parser() -> argparse.ArgumentParser:
    """The command line's parser (``eventhub-run --help`` prints it)."""
    cli = argparse.ArgumentParser(
        prog="eventhub-run", usage="eventhub-run [OPTIONS] [--] COMMAND [ARGS...]",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--hub", choices=sorted(HUB_CLASSES), metavar="NAME",
                     help="eventhub's backend for eventlet's default hub: "
                     f"{', '.join(HUB_CLASSES)} (sets EVENTLET_HUB=eventhub.eventlet:<Class>)")
    cli.add_argument("--fair-queues", action=argparse.BooleanOptionalAction, default=None,
                     help=f"make eventlet's queues fair (default: yes, unless {FAIR_QUEUES_ENV}=0)")
    cli.add_argument("--fast-io", action=argparse.BooleanOptionalAction, default=None,
                     help="eventlet's socket I/O in C and whole-frame websocket unmasking "
                     f"(default: yes, unless {FAST_IO_ENV}=0)")
    cli.add_argument("--report", metavar="FILE",
                     help=f"append a line per eventlet hub created in each process to FILE (sets {REPORT_ENV})")
    cli.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS...]",
                     help="the program to run and its arguments")
    return cli


def child_environment(options: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment COMMAND runs with: ``environ`` plus what ``options`` ask for.

    Raises ValueError for a setting that cannot be honoured.
    """
    env = dict(environ)
    bootstrap = str(BOOTSTRAP_DIR)
    # An empty entry is the current directory: kept, as Python would read it.
    path = [entry for entry in env["PYTHONPATH"].split(os.pathsep) if entry != bootstrap] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join([bootstrap, *path])
    env[ENABLE_ENV] = "1"
    if options.hub is not None:
        try:
            resolve_hub(options.hub)  # eventhub's backend must be there
        except HubError as e:
            raise ValueError(f"--hub {options.hub}: {e}") from None
        env["EVENTLET_HUB"] = f"eventhub.eventlet:{HUB_CLASSES[options.hub]}"
    for variable, wanted in ((FAIR_QUEUES_ENV, options.fair_queues), (FAST_IO_ENV, options.fast_io)):
        if wanted is None:
            wanted = switch_wanted(variable, env)
        env[variable] = "1" if wanted else "0"
    if options.report is not None:
        report = os.path.abspath(options.report)  # the program may change directory
        if not os.path.isdir(os.path.dirname(report)):
            raise ValueError(f"--report {options.report}: there is no directory {os.path.dirname(report)}")
        env[REPORT_ENV] = report
    return env


def _find_command(name: str, env: Mapping[str, str]) -> str | None:
    """COMMAND's path, looked up on the child's PATH unless it names a file."""
    if os.sep in name:
        return name if os.path.isfile(name) else None
    return shutil.which(name, path=env.get("PATH", os.defpath))


def _eventlet_missing() -> bool:
    try:
        return importlib.util.find_spec("eventlet") is None
    except (ImportError, ValueError):  # a broken or blocked entry in sys.modules
        return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``eventhub-run``; returns only when COMMAND could not be started (its status otherwise)."""
    cli = parser()
    options = cli.parse_args(argv)
    command = list(options.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        cli.print_usage(sys.stderr)
        print("eventhub-run: error: no COMMAND given", file=sys.stderr)
        return USAGE
    if _eventlet_missing():
        print(f"eventhub-run: eventlet is not installed for {sys.executable}: there is no eventlet "
              "program to run on eventhub's hubs (pip install eventlet, in the environment of eventhub)",
              file=sys.stderr)
        return USAGE
    try:
        env = child_environment(options, os.environ)
    except ValueError as e:
        print(f"eventhub-run: error: {e}", file=sys.stderr)
        return USAGE
    path = _find_command(command[0], env)
    if path is None:
        print(f"eventhub-run: command not found: {command[0]}", file=sys.stderr)
        return NOT_FOUND
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(path, command, env)
    except OSError as e:
        print(f"eventhub-run: cannot run {command[0]}: {e.strerror or e}", file=sys.stderr)
        return CANNOT_RUN
