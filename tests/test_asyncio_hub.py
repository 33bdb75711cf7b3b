"""The asyncio hub's own promises beyond the contract suite."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from conftest import on_uvloop

from eventhub import hubs
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


@pytest.mark.skipif(asyncio_hub.CompiledHub is None, reason="the compiled asyncio hub is not built")
@pytest.mark.compiled
def test_compiled_hub_refuses_uvloop_with_a_clear_error() -> None:
    with pytest.raises(HubError, match="does not run on uvloop yet"):
        on_uvloop(asyncio_hub.CompiledHub)()


def test_closed_adopted_loop_gives_a_clear_error() -> None:
    async def make() -> asyncio_hub.PureHub:
        return asyncio_hub.PureHub()

    hub = asyncio.run(make())  # adopted asyncio.run()'s loop, now closed
    with pytest.raises(HubError, match="is closed"):
        hub.schedule_call_global(0, lambda: None)
