"""A Socket.IO server (python-socketio) on eventlet's or gevent's WSGI server.

``python -m eventhub.bench.sio_server --mode eventlet|gevent [--port N]``
monkey-patches the process for its mode (as such servers are deployed),
serves one ``socketio.Server`` through ``eventlet.wsgi.server`` (mode
``eventlet``) or gevent's ``pywsgi.WSGIServer`` (mode ``gevent``) on
127.0.0.1, prints ``listening PORT`` once it accepts connections and serves
until it is signalled.  Under ``eventhub-run`` the eventlet mode runs on
eventhub's hub; the ``hub`` event says which hub serves it.  The Socket.IO
tests (tests/apps/socketio) and ``python -m eventhub.bench --apps socketio``
start it.

Events it handles (each acknowledged with the value after ``->``):

- ``echo``, data -> data;
- ``join`` / ``leave``, room -> room;
- ``broadcast``, ``{"room": r, "data": d}`` -> None, after emitting
  ``room_message`` with ``d`` to every client in room ``r`` (the sender too
  if it is in it);
- ``hub`` -> ``{"class": "module:Class", "eventhub": bool, "variant": str, "pid": int}``:
  the hub serving this client;
- ``stats`` -> ``{"connected": n, "connects": total, "disconnects": total}``;
- ``kick`` -> None, then the server disconnects the client.
"""

from __future__ import annotations

import argparse
import resource
import sys
from typing import Any

from eventhub.bench.app_hub import hub_description

MODES = ("eventlet", "gevent")
#: Connections the WSGI server serves at once (each websocket holds one greenthread).
MAX_CONNECTIONS = 20_000
BACKLOG = 4096


def raise_fd_limit() -> None:
    """Allow as many open files as the hard limit does (a thousand clients need more than 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def make_server(mode: str) -> Any:
    """The ``socketio.Server`` with the events above, for ``mode``'s async model."""
    import socketio  # type: ignore[import-untyped,import-not-found,unused-ignore]

    sio = socketio.Server(async_mode=mode)
    counts = {"connected": 0, "connects": 0, "disconnects": 0}

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        counts["connected"] += 1
        counts["connects"] += 1
        return True

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def disconnect(sid: str, reason: Any = None) -> None:
        counts["connected"] -= 1
        counts["disconnects"] += 1

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def echo(sid: str, data: Any) -> Any:
        return data

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def join(sid: str, room: str) -> str:
        sio.enter_room(sid, room)
        return room

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def leave(sid: str, room: str) -> str:
        sio.leave_room(sid, room)
        return room

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def broadcast(sid: str, message: dict[str, Any]) -> None:
        sio.emit("room_message", message["data"], to=message["room"])

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def hub(sid: str) -> dict[str, Any]:
        return hub_description()

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def stats(sid: str) -> dict[str, int]:
        return dict(counts)

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    def kick(sid: str) -> None:
        sio.start_background_task(sio.disconnect, sid)

    return sio


def announce(port: int) -> None:
    print(f"listening {port}", flush=True)


def serve_eventlet(port: int) -> None:
    import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]

    eventlet.monkey_patch()
    import eventlet.wsgi  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import socketio

    app = socketio.WSGIApp(make_server("eventlet"))
    listener = eventlet.listen(("127.0.0.1", port), backlog=BACKLOG)
    announce(listener.getsockname()[1])
    eventlet.wsgi.server(listener, app, log_output=False, max_size=MAX_CONNECTIONS)


def serve_gevent(port: int) -> None:
    from gevent import monkey  # type: ignore[import-untyped,import-not-found,unused-ignore]

    monkey.patch_all()
    import socketio
    from gevent import pywsgi

    app = socketio.WSGIApp(make_server("gevent"))
    server = pywsgi.WSGIServer(("127.0.0.1", port), app, log=None, backlog=BACKLOG)
    server.init_socket()
    announce(server.address[1])
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventhub.bench.sio_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="eventlet", help="the async model and its WSGI server")
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    raise_fd_limit()
    (serve_gevent if args.mode == "gevent" else serve_eventlet)(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
