"""eventhub.eventlet: eventhub's hubs under eventlet's own API.

The full proof is eventlet's test suite on every class (``.ci/eventlet-suite``);
these are the direct checks of what the adapter adds.  Everything but the
import-isolation test needs eventlet and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator

import pytest
import system_packages

import eventhub
from eventhub.hubs._variant import NO_EXTENSIONS

#: Where the eventhub under test lives (the source tree, or an installed wheel under tox).
EVENTHUB_HOME = Path(eventhub.__file__).resolve().parent.parent
HAVE_EVENTLET = importlib.util.find_spec("eventlet") is not None
needs_eventlet = pytest.mark.skipif(not HAVE_EVENTLET, reason="eventlet is not installed")

#: LibeventHub only with the extensions: pyevent has no pure variant (as in conftest's hub parameters).
ADAPTER_NAMES = ("EpollHub", "PollHub", "SelectHub") + (() if NO_EXTENSIONS else ("LibeventHub",))


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter that imports the same eventhub as this one."""
    path = os.pathsep.join(p for p in (str(EVENTHUB_HOME), os.environ.get("PYTHONPATH", "")) if p)
    full_env = dict(os.environ, PYTHONPATH=path, **env)
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", textwrap.dedent(code)],
        env=full_env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_eventhub_never_imports_eventlet() -> None:
    out = run_python("""
        import pkgutil, sys, importlib
        import eventhub
        for info in pkgutil.walk_packages(eventhub.__path__, "eventhub."):
            # The eventlet adapter, its fair queues and fast I/O (eventhub.eventlet_*, and
            # eventhub._eventlet_greenio), the gunicorn worker and the launcher's patch of
            # eventlet import eventlet by design.
            if not info.name.startswith(("eventhub.eventlet", "eventhub._eventlet", "eventhub.bench",
                                         "eventhub.gunicorn.worker", "eventhub.run.patch")):
                importlib.import_module(info.name)
        print(sorted(m for m in sys.modules if m.split(".")[0] == "eventlet"))
    """)
    assert out == "[]"


def skip_if_unavailable(name: str) -> None:
    """Skip a test of the adapter class ``name`` when it cannot exist here, saying why.

    LibeventHub missing because libevent is goes through system_packages:
    skipped naming the Debian package, failed in CI.
    """
    import eventhub.eventlet as adapter

    if name not in adapter.UNAVAILABLE:
        return
    if name == "LibeventHub":
        system_packages.require("libevent")
    pytest.skip(adapter.UNAVAILABLE[name])


@pytest.fixture(params=ADAPTER_NAMES if HAVE_EVENTLET else [pytest.param(None, marks=needs_eventlet, id="no-eventlet")])
def hub(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An eventhub.eventlet hub, current for eventlet in this thread."""
    import eventlet.hubs

    import eventhub.eventlet as adapter

    skip_if_unavailable(request.param)
    eventlet.hubs.use_hub(getattr(adapter, request.param))
    hub = eventlet.hubs.get_hub()
    try:
        yield hub
    finally:
        eventlet.hubs.use_hub()  # eventlet's default again; drop ours with its fds
        hub.destroy()  # now, even with its loop greenlet suspended in it (not at garbage collection)


def test_eventlet_uses_the_adapter(hub: Any) -> None:
    import eventlet

    import eventhub.eventlet as adapter

    assert isinstance(hub, adapter.BACKENDS[type(hub).__name__].Hub)
    assert eventlet.hubs.get_hub() is hub


def test_spawn_sleep_and_socket_round_trip(hub: Any) -> None:
    import eventlet

    server = eventlet.listen(("127.0.0.1", 0))
    order: list[str] = []

    def echo_once() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    def sleeper(name: str, seconds: float) -> None:
        eventlet.sleep(seconds)
        order.append(name)

    serving = eventlet.spawn(echo_once)
    slow = eventlet.spawn(sleeper, "slow", 0.02)
    fast = eventlet.spawn(sleeper, "fast", 0.0)
    client = eventlet.connect(server.getsockname())
    client.sendall(b"ping")
    assert client.recv(100) == b"PING"
    serving.wait()
    slow.wait()
    fast.wait()
    assert order == ["fast", "slow"]
    client.close()
    server.close()


def test_reused_fd_throws_eventlets_own_ioclosed(hub: Any) -> None:
    import socket

    import eventlet
    import eventlet.hubs

    a, b = socket.socketpair()
    caught: list[BaseException] = []

    def wait_readable() -> None:
        try:
            eventlet.hubs.trampoline(a.fileno(), read=True)
        except BaseException as e:
            caught.append(e)

    waiter = eventlet.spawn(wait_readable)
    eventlet.sleep(0)
    eventlet.hubs.notify_opened(a.fileno())  # the OS handed this fd number out again
    eventlet.sleep(0)  # the next loop pass throws into the waiter (eventlet's hubs alike)
    waiter.wait()
    assert len(caught) == 1 and type(caught[0]) is eventlet.hubs.IOClosed
    a.close()
    b.close()


def test_notify_close_leaves_waiters_alone_like_eventlet(hub: Any) -> None:
    import socket

    import eventlet
    import eventlet.hubs

    a, b = socket.socketpair()
    woken: list[object] = []

    def wait_readable() -> None:
        try:
            woken.append(eventlet.hubs.trampoline(a.fileno(), read=True, timeout=0.05))
        except BaseException as e:
            woken.append(type(e))

    waiter = eventlet.spawn(wait_readable)
    eventlet.sleep(0)
    eventlet.hubs.notify_close(a.fileno())
    waiter.wait()
    assert woken == [eventlet.Timeout]  # not IOClosed: only the timeout ended the wait
    a.close()
    b.close()


def test_eventlet_timer_objects(hub: Any) -> None:
    import eventlet
    from eventlet.hubs import timer

    fired: list[str] = []
    kept = timer.Timer(0.01, fired.append, "kept")
    kept.schedule()
    dropped = timer.Timer(0.01, fired.append, "dropped")
    dropped.schedule()
    canceled_before = hub.timers_canceled
    dropped.cancel()
    assert hub.timers_canceled == canceled_before + 1
    eventlet.sleep(0.03)
    assert fired == ["kept"]
    assert kept.called and not kept.pending


def test_prevent_multiple_readers_follows_eventlet_debug(hub: Any) -> None:
    import socket

    import eventlet
    import eventlet.debug
    import eventlet.hubs

    a, b = socket.socketpair()
    results: list[object] = []

    def read_once() -> None:
        try:
            eventlet.hubs.trampoline(a.fileno(), read=True, timeout=1)
            results.append("readable")
        except RuntimeError as e:
            results.append(e)

    first = eventlet.spawn(read_once)
    eventlet.sleep(0)
    eventlet.spawn(read_once).wait()
    assert len(results) == 1 and "Second simultaneous read" in str(results[0])
    try:
        eventlet.debug.hub_prevent_multiple_readers(False)
        second = eventlet.spawn(read_once)
        eventlet.sleep(0)
        assert len(results) == 1  # the second reader queued behind the first, no error
        b.send(b"x")
        first.wait()
        second.wait()
    finally:
        eventlet.debug.hub_prevent_multiple_readers(True)
    assert results[1:] == ["readable", "readable"]
    a.close()
    b.close()


def test_debug_helpers_read_the_hub(hub: Any) -> None:
    import eventlet
    import eventlet.debug

    server = eventlet.listen(("127.0.0.1", 0))
    waiting = eventlet.spawn(server.accept)
    eventlet.sleep(0)
    eventlet.debug.hub_listener_stacks(True)
    assert "READERS:" in eventlet.debug.format_hub_listeners()
    assert "TIMERS:" in eventlet.debug.format_hub_timers()
    eventlet.debug.hub_listener_stacks(False)
    eventlet.debug.hub_exceptions(False)
    assert hub.debug_exceptions is False
    eventlet.debug.hub_exceptions(True)
    waiting.kill()
    server.close()


@needs_eventlet
@pytest.mark.parametrize("name", ("Hub", *ADAPTER_NAMES))
def test_eventlet_hub_environment_variable(name: str) -> None:
    import eventhub.eventlet as adapter

    skip_if_unavailable(name)
    out = run_python(
        """
        import eventlet, eventlet.hubs
        eventlet.sleep(0.001)
        hub = eventlet.hubs.get_hub()
        print(type(hub).__module__ + ":" + type(hub).__name__)
        """,
        EVENTLET_HUB=f"eventhub.eventlet:{name}",
    )
    assert out == f"eventhub.eventlet:{getattr(adapter, name).__name__}"


@needs_eventlet
@pytest.mark.parametrize("when", ["EVENTLET_HUB", "use_hub after monkey_patch"])
@pytest.mark.parametrize("name", ADAPTER_NAMES)
def test_monkey_patched_application(name: str, when: str) -> None:
    """eventlet.monkey_patch() replaces select.select and drops select.epoll/poll: the hub must not care."""
    skip_if_unavailable(name)
    hub_name = f"eventhub.eventlet:{name}"
    choose = "" if when == "EVENTLET_HUB" else f"eventlet.hubs.use_hub({hub_name!r})"
    out = run_python(
        f"""
        import eventlet
        eventlet.monkey_patch()
        import eventlet.hubs
        {choose}
        import select, socket, threading, time
        a, b = socket.socketpair()
        threading.Thread(target=lambda: (time.sleep(0.01), b.send(b"x"))).start()
        assert select.select([a], [], [], 5)[0] == [a]
        print(type(eventlet.hubs.get_hub()).__name__)
        """,
        **({"EVENTLET_HUB": hub_name} if when == "EVENTLET_HUB" else {}),
    )
    assert out == name


@needs_eventlet
def test_hub_is_eventhubs_default_backend() -> None:
    import eventhub.eventlet as adapter
    from eventhub.hubs import get_default_hub

    assert adapter.is_available()
    assert issubclass(adapter.Hub, get_default_hub().Hub)


@needs_eventlet
def test_adapters_subclass_the_chosen_variant() -> None:
    import eventhub.eventlet as adapter

    for name, backend in adapter.BACKENDS.items():
        cls = getattr(adapter, name, None)
        if cls is not None:
            extra = adapter.EXTRA_BASES.get(name, ())
            foreign = adapter.EVENTLET_BASES.get(name, ())
            assert cls.__bases__ == (adapter.EventletHubMixin, *extra, backend.Hub, *foreign)


@needs_eventlet
def test_asyncio_adapter_passes_for_eventlets_asyncio_hub_and_runs_its_helpers() -> None:
    out = run_python("""
        import asyncio
        import eventlet, eventlet.hubs, eventlet.hubs.asyncio
        from eventlet.asyncio import spawn_for_awaitable
        from eventhub.hubs import asyncio as ours
        hub = eventlet.hubs.get_hub()
        assert isinstance(hub, eventlet.hubs.asyncio.Hub) and isinstance(hub, ours.Hub)

        async def double(x):
            await asyncio.sleep(0.01)
            return 2 * x

        def green(x):
            eventlet.sleep(0.01)
            return x + 1

        async def main():
            return await eventlet.spawn(green, 41)

        print(spawn_for_awaitable(double(21)).wait(), spawn_for_awaitable(main()).wait())
    """, EVENTLET_HUB="eventhub.eventlet:AsyncioHub")
    assert out == "42 42"


@needs_eventlet
def test_unavailable_class_explains_itself() -> None:
    import eventhub.eventlet as adapter

    for name, why in adapter.UNAVAILABLE.items():
        with pytest.raises(AttributeError, match="cannot be used here"):
            getattr(adapter, name)
        assert why


@needs_eventlet
@pytest.mark.parametrize("no_extensions", ["", "1"], ids=["compiled", "pure"])
def test_importing_the_adapter_under_monkey_patching_starts_no_subprocess(no_extensions: str) -> None:
    """Probing pyevent (unavailable in the pure variant) must not fork ldconfig under a patched os/subprocess."""
    out = run_python("""
        import sys
        started = []
        sys.addaudithook(lambda event, args: started.append(args[1]) if event == "subprocess.Popen" else None)
        import eventlet
        eventlet.monkey_patch()
        import eventhub.eventlet as adapter
        eventlet.hubs.use_hub(adapter.Hub)
        eventlet.sleep(0)
        print(sorted(adapter.UNAVAILABLE), started)
    """, EVENTHUB_NO_EXTENSIONS=no_extensions)
    assert out.endswith(" []"), out  # no subprocess started
    assert ("LibeventHub" in out) is (no_extensions == "1" or not system_packages.present("libevent"))


@needs_eventlet
@pytest.mark.parametrize("name", [*ADAPTER_NAMES, "AsyncioHub"])
def test_a_green_subprocess_after_monkey_patching(name: str) -> None:
    """eventlet's own patcher test, which the asyncio hub failed: monkey_patch()
    deletes select.poll, and a hub that looked it up at run time broke."""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", textwrap.dedent("""
            import sys
            import eventlet
            eventlet.monkey_patch()
            from eventlet.green import subprocess
            subprocess.Popen([sys.executable, "-c", ""], stdin=subprocess.PIPE).wait()
            print("pass")
        """)],
        env=dict(os.environ, EVENTLET_HUB=f"eventhub.eventlet:{name}",
                 PYTHONPATH=os.pathsep.join(p for p in (str(EVENTHUB_HOME), os.environ.get("PYTHONPATH", "")) if p)),
        capture_output=True, text=True, timeout=60,
    )
    import eventhub.eventlet as adapter

    if name in adapter.UNAVAILABLE:  # e.g. LibeventHub in the pure variant: a clear error, not a crash
        assert result.returncode == 1 and result.stdout == "", result
        assert f"eventhub.eventlet.{name} cannot be used here" in result.stderr, result.stderr
        return
    assert (result.returncode, result.stdout, result.stderr) == (0, "pass\n", "")


@needs_eventlet
@pytest.mark.parametrize("name", [*ADAPTER_NAMES, "AsyncioHub"])
def test_a_forked_child_gets_its_own_eventlet_hub_state(name: str) -> None:
    """eventlet keeps its hub apart from eventhub.hubs, so the adapter reinits it after fork.

    Without that, parent and child share one epoll set and steal each
    other's events (eventlet's tests/isolated/hub_fork.py failed now and then).
    """
    skip_if_unavailable(name)
    out = run_python(f"""
        import os
        import eventlet, eventlet.hubs
        import eventhub.eventlet as adapter
        eventlet.hubs.use_hub(adapter.{name})
        hub = eventlet.hubs.get_hub()
        calls = []
        original = type(hub).reinit
        type(hub).reinit = lambda self: (calls.append(self), original(self))[1]
        eventlet.sleep(0)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if calls == [hub] else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), len(calls))
    """)
    assert out == "0 0"  # the child's hub was reinitialised once; the parent's not at all
