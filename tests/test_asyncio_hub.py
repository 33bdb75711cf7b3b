"""The asyncio hub's own promises beyond the contract suite."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any

import greenlet
import pytest
import uvloop
from conftest import on_uvloop

import eventhub
from eventhub import hubs, net
from eventhub.hubs import HubError
from eventhub.hubs import asyncio as asyncio_hub


def test_asyncio_hub_is_opt_in() -> None:
    assert "asyncio" in hubs.BUILTIN_HUBS
    assert "asyncio" not in hubs.DEFAULT_ORDER
    assert hubs.get_default_hub() is not asyncio_hub


def test_own_loop_is_made_by_loop_factory_and_closed_on_destroy() -> None:
    hub = on_uvloop(asyncio_hub.PureHub)()
    loop = hub.loop
    assert isinstance(loop, uvloop.Loop) and hub.owns_loop
    hub.destroy()
    assert loop.is_closed()


def test_a_bad_loop_factory_is_refused() -> None:
    bad = type("Bad", (asyncio_hub.PureHub,), {"loop_factory": staticmethod(lambda: object())})
    with pytest.raises(TypeError, match="loop_factory must return an asyncio event loop"):
        bad()


#: The asyncio hub's variants built here, each on uvloop and on asyncio's own loop.
VARIANT_CLASSES = [
    pytest.param(cls, id=variant, marks=[pytest.mark.compiled] if variant == "compiled" else [pytest.mark.pure])
    for variant, cls in (("compiled", asyncio_hub.CompiledHub), ("pure", asyncio_hub.PureHub))
    if cls is not None
]


def switches_inside_loop_dispatch(hub_class: Any) -> list[str]:
    """Run greenthreads woken by fds and by timers on a ``hub_class`` hub;
    return the fd or timer callbacks of the hub inside which a greenlet switch happened."""
    inside: list[str] = []
    switched_inside: list[str] = []

    class Watched(hub_class):  # type: ignore[misc]
        def _on_readable(self, fd: int) -> None:
            inside.append("_on_readable")
            try:
                super()._on_readable(fd)
            finally:
                inside.pop()

        def _on_timer(self) -> None:
            inside.append("_on_timer")
            try:
                super()._on_timer()
            finally:
                inside.pop()

    def trace(event: str, args: Any) -> None:
        if inside and inside[-1] not in switched_inside:
            switched_inside.append(inside[-1])

    hubs.use_hub(Watched)
    a, b = net.socketpair()
    previous = greenlet.settrace(trace)
    try:
        reader = eventhub.spawn(a.recv, 1)
        sleeper = eventhub.spawn(eventhub.sleep, 0.02)
        eventhub.sleep(0.01)  # both wait now: one on the fd, one on a timer
        b.send(b"x")
        assert reader.wait() == b"x"
        sleeper.wait()
    finally:
        greenlet.settrace(previous)
        a.close()
        b.close()
        hubs.use_hub()
    return switched_inside


@pytest.mark.parametrize("hub_class", VARIANT_CLASSES)
def test_on_uvloop_no_greenlet_switches_inside_libuv_dispatch(hub_class: Any) -> None:
    """libuv holds pointers into its C stack while it calls fd and timer
    callbacks; a greenthread switched to from there can have its frames
    where libuv's were (it crashed: see the next test).  Greenthreads are
    woken from the next pass instead."""
    assert switches_inside_loop_dispatch(on_uvloop(hub_class)) == []


@pytest.mark.parametrize("hub_class", VARIANT_CLASSES)
def test_on_asyncios_loop_fd_callbacks_wake_greenthreads_directly(hub_class: Any) -> None:
    """asyncio's loop runs every callback from its ready queue in Python: no
    deferral is needed there (and this shows the watch above sees switches)."""
    assert "_on_readable" in switches_inside_loop_dispatch(hub_class)


@pytest.mark.parametrize("hub_class", VARIANT_CLASSES)
def test_on_uvloop_a_thousand_greenthreads_woken_at_once(hub_class: Any, run_python: Any) -> None:
    """It crashed (SIGSEGV) when greenlets switched inside libuv's fd dispatch."""
    out = run_python(["-c", textwrap.dedent(f"""
        import resource, socket, uvloop, eventhub
        from eventhub import hubs, net
        from eventhub.hubs import asyncio as asyncio_hub
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
        base = asyncio_hub.{"PureHub" if hub_class is asyncio_hub.PureHub else "CompiledHub"}
        hubs.use_hub(type("OnUvloop", (base,), {{"loop_factory": staticmethod(uvloop.new_event_loop)}}))
        for _ in range(3):
            pairs = [net.socketpair() for _ in range(500)]
            readers = [eventhub.spawn(s.recv, 1) for pair in pairs for s in pair]
            eventhub.sleep(0)
            eventhub.sleep(0)
            for a, b in pairs:
                a.shutdown(socket.SHUT_WR)
                b.shutdown(socket.SHUT_WR)
            assert [r.wait() for r in readers] == [b""] * 1000
            for a, b in pairs:
                a.close()
                b.close()
        print("woken", len(readers))
    """)], check=False)
    assert (out.returncode, out.stdout, out.stderr) == (0, "woken 1000\n", "")


def test_closed_adopted_loop_gives_a_clear_error() -> None:
    async def make() -> asyncio_hub.PureHub:
        return asyncio_hub.PureHub()

    hub = asyncio.run(make())  # adopted asyncio.run()'s loop, now closed
    with pytest.raises(HubError, match="is closed"):
        hub.schedule_call_global(0, lambda: None)
