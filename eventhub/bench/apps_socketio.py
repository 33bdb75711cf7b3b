"""``--apps socketio``: a Socket.IO server with 1,000 websocket clients on eventhub's hub, eventlet's hub and gevent.

Each sample starts a fresh server, ``eventhub.bench.sio_server`` (one
python-socketio ``Server``; eventlet mode on ``eventlet.wsgi`` under
``eventhub-run`` or plainly on eventlet's epolls hub, or the same app in
gevent mode on gevent's ``pywsgi``), and ``CLIENTS`` python-socketio
clients in ``CLIENT_PROCESSES`` processes (``eventhub.bench.sio_clients``),
spread over rooms of ``CLIENTS // ROOMS``.  Once all are connected, each
client in a closed loop emits ``echo`` and waits for its acknowledgement,
every ``BROADCAST_EVERY``-th time a broadcast to its room instead, for
``--warm-up`` seconds and then ``--duration`` seconds measured.  Messages/s
counts acknowledgements and room deliveries received; latency is an echo's
round trip or a broadcast's delay to each receiver.  The server says which
hub serves it (under the launcher its hub report must agree); a sample on
another hub is an error, never a number.  Rounds interleave the hubs.
"""

from __future__ import annotations

from typing import TextIO

from eventhub.bench import app_cells
from eventhub.bench.app_cells import Cell, Sample, Target
from eventhub.bench.app_procs import EVENTHUB, EVENTLET, GEVENT, HubChoice
from eventhub.bench.apps import AppReport, AppSettings
from eventhub.bench.runner import SKIPPED, missing_module
from eventhub.bench.sio_procs import SioClients, SioServer

DESCRIPTION = "Socket.IO server: 1,000 websocket clients, echo with ack and room broadcast: messages/s, latency"

CLIENTS = 1000
CLIENT_PROCESSES = 2
ROOMS = 100
BROADCAST_EVERY = 10
#: Seconds a client process may take to answer a step beyond the step's own length.
STEP_TIMEOUT = 120.0
HUBS: tuple[HubChoice, ...] = (EVENTHUB, EVENTLET, GEVENT)
TARGETS = (Target("eventhub", "eventlet", 1.35),)


def missing(hub: HubChoice) -> str | None:
    """Why the server or its clients cannot run here on ``hub``, or None."""
    green = "gevent" if hub is GEVENT else "eventlet"
    module = missing_module(("socketio", "aiohttp", green))
    return f"{module} is not installed (pip install python-socketio aiohttp {green})" if module else None


def take_sample(hub: HubChoice, settings: AppSettings) -> Sample:
    """One fresh server and its clients; what the clients measured.  ``RuntimeError`` says why nothing."""
    timeout = STEP_TIMEOUT + settings.warm_up + settings.duration
    with SioServer(hub) as server, SioClients(server.url, CLIENTS, CLIENT_PROCESSES, ROOMS, timeout) as clients:
        ready = clients.ready()
        connected = sum(a["connected"] for a in ready)
        if connected != CLIENTS:
            raise RuntimeError(f"{connected} of {CLIENTS} clients connected: {ready[0]['errors'][:3]}")
        described = clients.step("hub")[0]["hub"]
        problems = server.proof(described)
        if problems:
            raise RuntimeError("; ".join(problems))
        if settings.warm_up > 0:
            clients.step(f"load {settings.warm_up:g} {BROADCAST_EVERY}")
        measured = clients.step(f"load {settings.duration:g} {BROADCAST_EVERY}")
        clients.step("quit")
    latencies = [x for a in measured for x in a["echo_ms"] + a["room_ms"]]
    errors = sum(a["error_count"] for a in measured)
    try:
        return Sample.of(len(latencies), settings.duration, latencies, errors, described)
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def run(settings: AppSettings, progress: TextIO) -> AppReport:
    """``settings.rounds`` samples on each hub, interleaved; the table, JSON and verdict."""
    cells = {hub.name: Cell(hub.name) for hub in HUBS}
    for hub in HUBS:
        reason = missing(hub)
        if reason:
            cells[hub.name].status, cells[hub.name].reason = SKIPPED, reason
    by_name = {hub.name: hub for hub in HUBS}

    # ProcessError (a server or client process did not answer) is a RuntimeError too.
    app_cells.measure(cells, settings.rounds, lambda name: take_sample(by_name[name], settings),
                      lambda name: f"socketio on {name}", "messages/s", progress)
    checks = app_cells.check("socketio", cells, TARGETS)
    descriptions = {hub.name: hub.description for hub in HUBS}
    title = (f"Socket.IO server (python-socketio), {CLIENTS:,} websocket clients in {CLIENT_PROCESSES} processes, "
             f"rooms of {CLIENTS // ROOMS}: echo with ack, every {BROADCAST_EVERY}th a room broadcast; "
             f"{settings.duration:g}s measured after {settings.warm_up:g}s; medians of {settings.rounds} rounds")
    return AppReport(
        app="socketio",
        text=app_cells.table(title, "msgs/s", cells, "eventlet", descriptions, checks),
        data={"app": "socketio", "description": DESCRIPTION, "clients": CLIENTS, "rooms": ROOMS,
              "broadcast_every": BROADCAST_EVERY, "rounds": settings.rounds, "duration": settings.duration,
              "warm_up": settings.warm_up, "hubs": descriptions,
              "results": {name: cell.as_json(cells["eventlet"]) for name, cell in cells.items()}, "targets": checks},
        failed=app_cells.failed(cells),
    )
