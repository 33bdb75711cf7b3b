"""Many real Socket.IO clients (python-socketio's ``AsyncClient``, websocket transport) in one process.

``python -m eventhub.bench.sio_clients URL --clients N [--first I] [--rooms K]``
connects N clients to the Socket.IO server at URL all at once; client ``i``
(numbered from ``--first``) joins rooms ``all`` and ``room<i % K>``.  Then
it prints one JSON line per step and reads commands, one per line, from
stdin, so that a parent can drive several such processes in step:

- (on start) ``{"step": "ready", "connected": n, "errors": [...]}``;
- ``hub`` -> ``{"step": "hub", "hub": {...}}``: the server's answer to the
  first client's ``hub`` event (the hub serving it);
- ``echo`` -> ``{"step": "echo", "ok": n, "errors": [...]}``: each client
  emits ``echo`` with a payload of its own and checks the acknowledgement;
- ``expect COUNT SECONDS`` -> ``{"step": "expect", "ok": n, "errors": [...]}``:
  waits until every client has received COUNT ``room_message`` events in
  all (``ok`` counts those that did within SECONDS);
- ``load SECONDS BROADCAST_EVERY`` -> ``{"step": "load", "echo_ms": [...],
  "room_ms": [...], "errors": [...]}``: for SECONDS, each client emits
  ``echo`` and waits for its acknowledgement, again and again, every
  BROADCAST_EVERY-th time a ``broadcast`` to its ``room<i % K>`` instead;
  ``echo_ms`` are the acknowledgements' round trips, ``room_ms`` the
  delays from a broadcast's sending to each ``room_message`` it caused
  (``time.monotonic()`` is the system-wide clock, the same in every
  process);
- ``quit`` -> ``{"step": "quit", "disconnected": n, "errors": [...]}``:
  every client disconnects; then the process exits.

The server's events are those of ``eventhub.bench.sio_server``.  Errors
are strings, at most ``MAX_ERRORS`` of them per step (``error_count``
counts them all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from eventhub.bench.sio_server import raise_fd_limit

MAX_ERRORS = 20
CONNECT_TIMEOUT = 60.0
ACK_TIMEOUT = 30.0


class Errors:
    """The errors of one step: the first few, and how many in all."""

    def __init__(self) -> None:
        self.first: list[str] = []
        self.count = 0

    def add(self, what: str, error: BaseException | str) -> None:
        self.count += 1
        if len(self.first) < MAX_ERRORS:
            detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            self.first.append(f"{what}: {detail}")

    def fields(self) -> dict[str, Any]:
        return {"errors": self.first, "error_count": self.count}


class Client:
    """One Socket.IO client: its number, its rooms, what it received."""

    def __init__(self, index: int, rooms: int) -> None:
        import socketio  # type: ignore[import-untyped,import-not-found,unused-ignore]

        self.index = index
        self.room = f"room{index % rooms}"
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received = 0
        self.room_ms: list[float] | None = None  # set while measuring
        self.arrived = asyncio.Event()
        self.sio.on("room_message", self._on_room_message)

    def _on_room_message(self, data: Any) -> None:
        self.received += 1
        if self.room_ms is not None and isinstance(data, dict) and "sent" in data:
            self.room_ms.append((time.monotonic() - data["sent"]) * 1000.0)
        self.arrived.set()

    async def connect(self, url: str) -> None:
        await self.sio.connect(url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT)
        for room in ("all", self.room):
            if await self.sio.call("join", room, timeout=ACK_TIMEOUT) != room:
                raise RuntimeError(f"join {room} was not acknowledged")

    async def echo(self) -> None:
        payload = {"client": self.index, "text": "ü" * 8, "numbers": list(range(8))}
        answer = await self.sio.call("echo", payload, timeout=ACK_TIMEOUT)
        if answer != payload:
            raise RuntimeError(f"echo came back as {answer!r}")

    async def wait_for(self, count: int) -> None:
        while self.received < count:
            self.arrived.clear()
            await self.arrived.wait()

    async def load(self, until: float, broadcast_every: int, echo_ms: list[float]) -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            sent = time.monotonic()
            if broadcast_every and n % broadcast_every == 0:
                await self.sio.call("broadcast", {"room": self.room, "data": {"sent": sent}}, timeout=ACK_TIMEOUT)
            else:
                await self.sio.call("echo", {"sent": sent}, timeout=ACK_TIMEOUT)
                echo_ms.append((time.monotonic() - sent) * 1000.0)


async def _each(clients: list[Client], what: str, step: Any, errors: Errors) -> int:
    """Run ``step(client)`` for every client at once; the number that succeeded."""
    results = await asyncio.gather(*(step(c) for c in clients), return_exceptions=True)
    for client, result in zip(clients, results):
        if isinstance(result, BaseException):
            errors.add(f"client {client.index} {what}", result)
    return sum(1 for r in results if not isinstance(r, BaseException))


def _say(step: str, **fields: Any) -> None:
    print(json.dumps({"step": step, **fields}), flush=True)


async def run(url: str, count: int, first: int, rooms: int) -> None:
    clients = [Client(first + i, rooms) for i in range(count)]
    errors = Errors()
    connected = await _each(clients, "connect", lambda c: c.connect(url), errors)
    _say("ready", connected=connected, **errors.fields())
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        words = line.split()
        errors = Errors()
        if not words or words[0] == "quit":
            disconnected = await _each(clients, "disconnect", lambda c: c.sio.disconnect(), errors)
            _say("quit", disconnected=disconnected, **errors.fields())
            return
        if words[0] == "hub":
            _say("hub", hub=await clients[0].sio.call("hub", timeout=ACK_TIMEOUT))
        elif words[0] == "echo":
            ok = await _each(clients, "echo", lambda c: c.echo(), errors)
            _say("echo", ok=ok, **errors.fields())
        elif words[0] == "expect":
            expected, seconds = int(words[1]), float(words[2])
            ok = await _each(clients, "expect", lambda c: asyncio.wait_for(c.wait_for(expected), seconds), errors)
            _say("expect", ok=ok, **errors.fields())
        elif words[0] == "load":
            seconds, broadcast_every = float(words[1]), int(words[2])
            echo_ms: list[float] = []
            room_ms: list[float] = []
            for client in clients:
                client.room_ms = room_ms
            until = time.monotonic() + seconds
            await _each(clients, "load", lambda c: c.load(until, broadcast_every, echo_ms), errors)
            await asyncio.sleep(0.5)  # the last broadcasts' deliveries
            for client in clients:
                client.room_ms = None
            _say("load", echo_ms=[round(x, 3) for x in echo_ms], room_ms=[round(x, 3) for x in room_ms],
                 **errors.fields())
        else:
            _say("error", **{"errors": [f"unknown command {line.strip()!r}"], "error_count": 1})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventhub.bench.sio_clients", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the server, http://127.0.0.1:PORT")
    parser.add_argument("--clients", type=int, required=True, help="clients in this process")
    parser.add_argument("--first", type=int, default=0, help="the number of this process's first client")
    parser.add_argument("--rooms", type=int, default=10, help="clients are spread over room0 ... room<K-1>")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.rooms < 1:
        parser.error("--clients and --rooms must be at least 1")
    raise_fd_limit()
    asyncio.run(run(args.url, args.clients, args.first, args.rooms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
