"""The hub fixture: every contract test runs on every (backend x variant).

A parameter exists for each backend's pure variant (marked ``pure``) and,
when it was built, its compiled variant (marked ``compiled``).  pyevent has
no pure variant (libevent is a C library: its ``PureHub`` is None), so it
contributes only ``pyevent-compiled``.  A backend not available on this system has no
parameter; ``test_variants.py`` checks that the ones that should exist do.
The asyncio hub runs on asyncio's own loop (``asyncio-*``) and on uvloop
(``asyncio-uvloop-*``, a subclass whose ``loop_factory`` makes uvloop
loops).

When the compiled extensions are in use but libevent's runtime library is
missing, ``pyevent-compiled`` is still a parameter: its tests are skipped
naming the Debian package (failed in CI, see system_packages.py), so the run
says what it did not test.

``greenthread_variant`` does the same for greenthread.py's compiled twins
(eventhub/_greenthread.pyx): a test that takes it runs once with them
(when built) and once with the pure reference.  ``toolkit_variant`` does it
for the queues' and locks' twins (eventhub/_queue.pyx, eventhub/_locks.pyx).
Their parameters are marked the same way, so ``-m "not pure"`` runs only the
compiled pieces where they are built (tox.ini says where CI does).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import greenlet
import pytest

import eventhub
import eventhub.asyncio
import eventhub.locks
import eventhub.queue
import system_packages
from eventhub import hubs
from eventhub.hubs import epolls, pyevent

#: Where the eventhub under test lives (site-packages in tox, the checkout in development).
PACKAGE_ROOT = str(Path(eventhub.__file__).resolve().parent.parent)

RunPython = Callable[..., "subprocess.CompletedProcess[str]"]

VARIANTS = ("compiled", "pure")


def on_uvloop(hub_class: Any) -> Any:
    """``hub_class`` (an asyncio hub) making its own loops with uvloop."""
    import uvloop

    return type(f"Uvloop{hub_class.__name__}", (hub_class,), {"loop_factory": staticmethod(uvloop.new_event_loop)})


def hub_params() -> list[Any]:
    params = []
    for name in hubs.BUILTIN_HUBS:
        module = importlib.import_module(f"eventhub.hubs.{name}")
        for variant in VARIANTS:
            hub_class = getattr(module, "CompiledHub" if variant == "compiled" else "PureHub")
            if hub_class is None or not module.is_available():
                continue
            marks = [pytest.mark.compiled] if variant == "compiled" else [pytest.mark.pure]
            params.append(pytest.param((name, variant, hub_class), id=f"{name}-{variant}", marks=marks))
            if name == "asyncio":
                # uvloop is a test dependency: its absence is an error, not fewer tests.
                spec = (name, variant, on_uvloop(hub_class))
                params.append(pytest.param(spec, id=f"asyncio-uvloop-{variant}", marks=marks))
    # Compiled hubs in use but no libevent: pyevent's tests are there and skipped (failed in CI), not left out.
    if epolls.CompiledHub is not None and not pyevent.is_available() and not system_packages.present("libevent"):
        marks = [pytest.mark.compiled, pytest.mark.needs_system("libevent")]
        params.append(pytest.param(("pyevent", "compiled", None), id="pyevent-compiled", marks=marks))
    return params


HUB_PARAMS = hub_params()


@pytest.hookimpl(tryfirst=True)  # before any fixture starts a server
def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.needs_system(NAME, ...)``: skip the test (fail it in CI) when NAME is missing."""
    for mark in item.iter_markers("needs_system"):
        for name in mark.args:
            system_packages.require(name)


@pytest.fixture(params=HUB_PARAMS)
def hub_spec(request: pytest.FixtureRequest) -> tuple[str, str, Any]:
    """(backend name, variant, hub class) of this test's parameter."""
    spec: tuple[str, str, Any] = request.param
    return spec


@pytest.fixture
def hub_class(hub_spec: tuple[str, str, Any]) -> Any:
    return hub_spec[2]


@pytest.fixture
def hub(hub_class: Any) -> Iterator[Any]:
    """A fresh hub of this parameter's class, current in this thread."""
    hubs.use_hub(hub_class)
    h = hubs.get_hub()
    try:
        yield h
    finally:
        hubs.use_hub(hub_class)  # drop the test's hub with whatever it left behind


GREENTHREAD_VARIANTS = [pytest.param("pure", id="greenthread-pure", marks=pytest.mark.pure)]
if eventhub.greenthread.spawn is not eventhub.greenthread.pure_spawn:
    GREENTHREAD_VARIANTS.append(pytest.param("compiled", id="greenthread-compiled", marks=pytest.mark.compiled))


@pytest.fixture(params=GREENTHREAD_VARIANTS)
def greenthread_variant(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Greenthreads' compiled spawn, methods and bridge (when built), or for "pure" the reference's."""
    if request.param == "pure":
        gt = eventhub.greenthread
        for module in (gt, eventhub, eventhub.asyncio, request.module):
            for name in ("spawn", "spawn_after"):
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, getattr(gt, f"pure_{name}"))
        monkeypatch.setattr(gt.GreenThread, "run", staticmethod(gt.pure_run))
        for method in ("wait", "link", "_finish", "__await__"):
            monkeypatch.setattr(gt.GreenThread, method, getattr(gt, f"pure_{method.strip('_')}"))
        monkeypatch.setattr(gt, "_future_on", gt.pure_future_on)
    return str(request.param)


TOOLKIT_VARIANTS = [pytest.param("pure", id="toolkit-pure", marks=pytest.mark.pure)]
if eventhub.queue.VARIANT == "compiled" and eventhub.locks.VARIANT == "compiled":
    TOOLKIT_VARIANTS.append(pytest.param("compiled", id="toolkit-compiled", marks=pytest.mark.compiled))

#: module -> the toolkit classes it names, which "pure" replaces by the reference's.
TOOLKIT_CLASSES = {
    eventhub.queue: ("Queue", "LifoQueue", "PriorityQueue"),
    eventhub.locks: ("Semaphore", "BoundedSemaphore", "Lock"),
}


@pytest.fixture(params=TOOLKIT_VARIANTS)
def toolkit_variant(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The compiled queues and locks (when built), or for "pure" the reference's,
    as ``eventhub.Queue``, ``eventhub.locks.Lock``, ... (GreenPool and Condition
    take theirs from ``eventhub.locks``)."""
    if request.param == "pure":
        for module, names in TOOLKIT_CLASSES.items():
            for name in names:
                pure = getattr(module, f"Pure{name}")
                for holder in (module, eventhub, request.module):
                    if hasattr(holder, name):
                        monkeypatch.setattr(holder, name, pure)
    return str(request.param)


@pytest.fixture
def run_python(tmp_path: Path) -> RunPython:
    """Run ``python ARGS`` in a fresh process importing the eventhub under test.

    It runs in an empty directory, so a source checkout in the current
    directory (without the compiled extensions) cannot shadow the installed
    package.  Keyword ``env`` adds environment variables; ``check`` (default
    True) raises on a non-zero exit.
    """

    def run(args: list[str], env: dict[str, str] | None = None, check: bool = True, timeout: float = 60) -> Any:
        full_env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, **(env or {}))
        return subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    return run


def run_until_dead(g: greenlet.greenlet, sleep: Any) -> None:
    """Let the hub run until ``g`` ends: a loaded machine can stall past any fixed wait."""
    for _ in range(500):
        if g.dead:
            return
        sleep(0.01)


def wait_until(condition: Callable[[], Any], sleep: Any) -> None:
    """Let the hub run until ``condition()`` holds; fail if it never does."""
    for _ in range(500):
        if condition():
            return
        sleep(0.01)
    raise AssertionError("the hub never got there")
