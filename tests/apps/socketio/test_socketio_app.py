"""A Socket.IO server (python-socketio, eventlet mode, ``eventlet.wsgi``) on eventhub's hub, with real clients.

The server is ``eventhub.bench.sio_server`` run under ``eventhub-run`` on
eventhub's compiled hub and on its pure-Python hub, and plainly on
eventlet's own epolls hub: every test runs on each, so a behaviour that
differs from eventlet's hub fails on eventhub's only.  The clients are
python-socketio's own ``AsyncClient`` over websockets, in this process, and
for the thousand-client test in two client processes.  Each server is asked
which hub serves it, and under the launcher its hub report is read too.

Needs python-socketio and aiohttp (tox's ``socketio`` env installs them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import socketio  # type: ignore[import-untyped,import-not-found,unused-ignore]

from eventhub.bench.app_procs import EVENTHUB, EVENTHUB_PURE, EVENTLET, HubChoice
from eventhub.bench.sio_procs import SioClients, SioServer


ACK_TIMEOUT = 30.0
#: How long a message that must not arrive is waited for.
QUIET = 0.5
CROWD = 1000
CROWD_PROCESSES = 2
CROWD_ROOMS = 10
CROWD_TIMEOUT = 120.0

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=[EVENTHUB, EVENTHUB_PURE, EVENTLET], ids=lambda h: h.name)
def server(request: pytest.FixtureRequest) -> Iterator[SioServer]:
    hub: HubChoice = request.param
    with SioServer(hub) as running:
        yield running


class Received:
    """The ``room_message`` events one client got."""

    def __init__(self, client: Any) -> None:
        self.messages: list[Any] = []
        self._arrived = asyncio.Event()
        client.on("room_message", self._on_message)

    def _on_message(self, data: Any) -> None:
        self.messages.append(data)
        self._arrived.set()

    async def wait_for(self, count: int) -> list[Any]:
        async with asyncio.timeout(ACK_TIMEOUT):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[Any]:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, transports=["websocket"], wait_timeout=ACK_TIMEOUT)
    try:
        yield client
    finally:
        if client.connected:
            await client.disconnect()


async def call(client: Any, event: str, data: Any = None) -> Any:
    return await client.call(event, data, timeout=ACK_TIMEOUT)


async def server_stats(url: str) -> dict[str, int]:
    async with connected(url) as client:
        stats: dict[str, int] = await call(client, "stats")
    stats["connected"] -= 1  # this client
    return stats


async def settled_stats(url: str, connected_count: int) -> dict[str, int]:
    """The server's counts once ``connected_count`` other clients are connected.

    The server runs a client's ``disconnect`` handler a moment after the
    client has left, so counts are read until they settle.  Every test
    disconnects its clients, so each starts and ends with none.
    """
    async with asyncio.timeout(ACK_TIMEOUT):
        while (stats := await server_stats(url))["connected"] != connected_count:
            await asyncio.sleep(0.1)
    return stats


def test_the_server_runs_on_the_hub_it_was_started_on(server: SioServer) -> None:
    async def scenario() -> dict[str, Any]:
        async with connected(server.url) as client:
            described: dict[str, Any] = await call(client, "hub")
            return described

    described = asyncio.run(scenario())
    assert server.proof(described) == []
    assert described["eventhub"] == server.hub.launcher


@pytest.mark.parametrize(
    "payload",
    ["text", "ünïcødé ✓", {"nested": {"list": [1, 2.5, None, True]}}, [1, "two", {"three": 3}], b"\x00\x01binary\xff",
     {"blob": b"x" * 100_000}],
    ids=["str", "unicode", "dict", "list", "bytes", "large-bytes"],
)
def test_emit_with_ack_returns_the_payload(server: SioServer, payload: Any) -> None:
    async def scenario() -> Any:
        async with connected(server.url) as client:
            return await call(client, "echo", payload)

    assert asyncio.run(scenario()) == payload


def test_acks_match_their_emits_when_many_are_in_flight(server: SioServer) -> None:
    async def scenario() -> list[Any]:
        async with connected(server.url) as client:
            return list(await asyncio.gather(*(call(client, "echo", {"n": n}) for n in range(200))))

    assert asyncio.run(scenario()) == [{"n": n} for n in range(200)]


def test_broadcast_reaches_exactly_the_room(server: SioServer) -> None:
    async def scenario() -> tuple[list[list[Any]], list[list[Any]]]:
        async with (connected(server.url) as a1, connected(server.url) as a2, connected(server.url) as a3,
                    connected(server.url) as b1, connected(server.url) as loner):
            clients = [a1, a2, a3, b1, loner]
            received = [Received(c) for c in clients]
            for client in (a1, a2, a3):
                assert await call(client, "join", "a") == "a"
            assert await call(b1, "join", "b") == "b"
            await call(a1, "broadcast", {"room": "a", "data": "to a"})
            await asyncio.gather(*(r.wait_for(1) for r in received[:3]))
            await asyncio.sleep(QUIET)
            first = [list(r.messages) for r in received]
            assert await call(a2, "leave", "a") == "a"
            await call(b1, "broadcast", {"room": "a", "data": "to a again"})
            await asyncio.gather(received[0].wait_for(2), received[2].wait_for(2))
            await asyncio.sleep(QUIET)
            return first, [list(r.messages) for r in received]

    first, second = asyncio.run(scenario())
    assert first == [["to a"], ["to a"], ["to a"], [], []]
    assert second == [["to a", "to a again"], ["to a"], ["to a", "to a again"], [], []]


def test_disconnects_from_either_side_reach_the_other(server: SioServer) -> None:
    async def scenario() -> None:
        before = await settled_stats(server.url, 0)
        async with connected(server.url):
            assert (await settled_stats(server.url, 1))["connects"] > before["connects"]
        after = await settled_stats(server.url, 0)
        assert after["disconnects"] > before["disconnects"]

        kicked = asyncio.Event()
        async with connected(server.url) as client:
            client.on("disconnect", lambda *reason: kicked.set())
            await settled_stats(server.url, 1)
            await call(client, "kick")
            async with asyncio.timeout(ACK_TIMEOUT):
                await kicked.wait()
            assert not client.connected
        await settled_stats(server.url, 0)

    asyncio.run(scenario())


def test_a_thousand_clients_at_once(server: SioServer) -> None:
    """1000 clients connect together, each echoes with an ack, every one gets two broadcasts, all leave."""

    async def broadcast_to_everyone() -> dict[str, int]:
        async with connected(server.url) as sender:
            await call(sender, "broadcast", {"room": "all", "data": "everyone"})
            for room in range(CROWD_ROOMS):
                await call(sender, "broadcast", {"room": f"room{room}", "data": f"room {room}"})
            stats: dict[str, int] = await call(sender, "stats")
            return stats

    asyncio.run(settled_stats(server.url, 0))
    with SioClients(server.url, CROWD, CROWD_PROCESSES, CROWD_ROOMS, CROWD_TIMEOUT) as crowd:
        ready = crowd.ready()
        assert [a["errors"] for a in ready] == [[]] * CROWD_PROCESSES
        assert sum(a["connected"] for a in ready) == CROWD
        echoed = crowd.step("echo")
        assert sum(a["ok"] for a in echoed) == CROWD, [a["errors"] for a in echoed]
        during = asyncio.run(broadcast_to_everyone())
        assert during["connected"] >= CROWD + 1  # the crowd and the sender at once
        got = crowd.step(f"expect 2 {CROWD_TIMEOUT:g}")
        assert sum(a["ok"] for a in got) == CROWD, [a["errors"] for a in got]
        left = crowd.step("quit")
        assert sum(a["disconnected"] for a in left) == CROWD, [a["errors"] for a in left]
    asyncio.run(settled_stats(server.url, 0))
