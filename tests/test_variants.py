"""Guard tests: the compiled variant is used whenever it was built, and CI
(EVENTHUB_REQUIRE_EXTENSIONS=1) cannot silently run without it."""

from __future__ import annotations

import importlib
import os

import pytest
import system_packages
from conftest import RunPython

from eventhub import hubs
from eventhub.hubs import _variant

#: Backends with a compiled and a pure-Python variant -> their extension.
COMPILED_BACKENDS = {"epolls": "_epolls", "poll": "_poll", "selects": "_selects"}
#: Backends that exist only compiled (pyevent: libevent is a C library, so
#: there is no pure-Python twin) -> their extension.
COMPILED_ONLY_BACKENDS = {"pyevent": "_pyevent"}
#: Backends whose extension links against a system library -> its name in system_packages.
NEEDS_SYSTEM = {"pyevent": "libevent"}


def _required() -> bool:
    return os.environ.get("EVENTHUB_REQUIRE_EXTENSIONS", "") not in ("", "0")


@pytest.mark.parametrize("name", sorted(COMPILED_BACKENDS))
def test_compiled_is_the_default_when_built(name: str) -> None:
    module = importlib.import_module(f"eventhub.hubs.{name}")
    if module.CompiledHub is None:
        assert _variant.NO_EXTENSIONS or not _required(), f"{name}: compiled variant missing"
        assert module.Hub is module.PureHub
        assert module.VARIANT == "pure"
    else:
        assert module.Hub is module.CompiledHub
        assert module.VARIANT == "compiled"
        assert hubs.hub_variant(module.Hub) == "compiled"
        assert hubs.hub_variant(module.PureHub) == "pure"


@pytest.mark.parametrize("name", sorted(COMPILED_ONLY_BACKENDS))
def test_compiled_only_backend_has_no_pure_variant(name: str) -> None:
    module = importlib.import_module(f"eventhub.hubs.{name}")
    assert module.PureHub is None
    assert module.Hub is module.CompiledHub
    assert module.is_available() is (module.CompiledHub is not None)
    assert module.VARIANT == ("compiled" if module.CompiledHub is not None else "unavailable")


@pytest.mark.skipif(not _required(), reason="EVENTHUB_REQUIRE_EXTENSIONS is not set")
@pytest.mark.parametrize("name", sorted({**COMPILED_BACKENDS, **COMPILED_ONLY_BACKENDS}))
def test_required_extensions_exist(name: str) -> None:
    assert not _variant.NO_EXTENSIONS, "EVENTHUB_REQUIRE_EXTENSIONS and EVENTHUB_NO_EXTENSIONS are both set"
    if name in NEEDS_SYSTEM:
        system_packages.require(NEEDS_SYSTEM[name])
    extension = {**COMPILED_BACKENDS, **COMPILED_ONLY_BACKENDS}[name]
    importlib.import_module(f"eventhub.hubs.{extension}")  # ImportError fails the test
    module = importlib.import_module(f"eventhub.hubs.{name}")
    assert module.CompiledHub is not None
    assert module.is_available()


@pytest.mark.skipif(not _required(), reason="EVENTHUB_REQUIRE_EXTENSIONS is not set")
def test_required_pyevent_is_in_the_contract_suite() -> None:
    """CI runs the contract suite on pyevent: the hub fixture has its parameter."""
    from conftest import HUB_PARAMS

    system_packages.require("libevent")  # without it the parameter is there, its tests skipped
    assert "pyevent-compiled" in {p.id for p in HUB_PARAMS}


def test_default_variant_flag_matches_chosen_hub() -> None:
    chosen = hubs.resolve_hub(None)
    assert hubs.VARIANT == hubs.hub_variant(chosen)
    assert hubs.COMPILED is (hubs.VARIANT == "compiled")


def test_no_extensions_forces_pure_at_run_time(run_python: RunPython) -> None:
    code = "from eventhub import hubs; from eventhub.hubs import epolls; print(hubs.VARIANT, epolls.CompiledHub)"
    assert run_python(["-c", code], env={"EVENTHUB_NO_EXTENSIONS": "1"}).stdout.strip() == "pure None"


def test_main_reports_every_backend(run_python: RunPython) -> None:
    out = run_python(["-m", "eventhub"]).stdout
    assert "chosen hub:" in out
    for name in hubs.BUILTIN_HUBS:
        assert f"  {name} " in out
    assert f"({hubs.VARIANT}," in out
    from eventhub import locks, queue

    assert f"Queue, LifoQueue, PriorityQueue: {queue.VARIANT}; Semaphore, BoundedSemaphore, Lock: {locks.VARIANT}" in out


@pytest.mark.parametrize(
    "name",
    ["eventhub.hubs._core", "eventhub._net", "eventhub._timeout", "eventhub._greenthread", "eventhub._queue", "eventhub._locks",
     "eventhub._eventlet_greenio"],
)
def test_other_extensions_are_used_when_built(name: str) -> None:
    import eventhub
    from eventhub import eventlet_greenio, greenthread, locks, net, queue, timeout

    try:
        importlib.import_module(name)
    except ImportError:
        assert not _required(), f"{name} missing although EVENTHUB_REQUIRE_EXTENSIONS is set"
        return
    if _variant.NO_EXTENSIONS:
        assert net._compiled is None and timeout.VARIANT == "pure"
        assert greenthread.sleep is greenthread.pure_sleep
        assert all(vars(net.GreenSocket)[name] is method for name, method in net.PURE_METHODS.items())
        assert queue.VARIANT == locks.VARIANT == eventlet_greenio.VARIANT == "pure"
        assert eventhub.Queue is queue.PureQueue and eventhub.Semaphore is locks.PureSemaphore
    else:
        assert net._compiled is not None and timeout.Timeout is timeout.CompiledTimeout
        assert greenthread.sleep is not greenthread.pure_sleep
        assert all(vars(net.GreenSocket)[name] is getattr(net._compiled, name) for name in net.PURE_METHODS)
        assert queue.VARIANT == locks.VARIANT == eventlet_greenio.VARIANT == "compiled"
        for public, module in (("Queue", queue), ("LifoQueue", queue), ("PriorityQueue", queue),
                               ("Semaphore", locks), ("BoundedSemaphore", locks), ("Lock", locks)):
            assert getattr(eventhub, public) is getattr(module, public) is not getattr(module, f"Pure{public}")


def test_compiled_core_reads_socket_fds_in_c() -> None:
    # The compiled fast path reads a socket.socket's fd from the object
    # only if its C layout checked out at import; on the CPython we
    # support it must, or every socket wait pays three fileno() calls.
    try:
        core = importlib.import_module("eventhub.hubs._core")
    except ImportError:
        assert not _required(), "eventhub.hubs._core missing although EVENTHUB_REQUIRE_EXTENSIONS is set"
        return
    assert core._check_socket_layout() is True
