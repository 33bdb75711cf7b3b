"""An eventlet program that chooses its hub itself, run under ``eventhub-run`` by ``tests/test_run.py``.

``python hub_app.py [--hub NAME] [--patch-first]``: calls
``eventlet.hubs.use_hub(NAME)`` (none: eventlet's default hub) and
``eventlet.monkey_patch()``, in that order (``--patch-first``: the other
way round, so a default hub exists before ``use_hub`` replaces it), makes a
loopback round trip through the hub, and prints a JSON line with its pid and
the class of eventlet's hub; then does the same in an ``os.fork()`` child and
in a ``sys.executable`` child.  Exits non-zero if any of them fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback

import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
import eventlet.hubs  # type: ignore[import-untyped,import-not-found,unused-ignore]


def round_trip_and_say(role: str) -> None:
    """One echo through a loopback socket, served by this process's hub; then print which hub it was."""
    server = eventlet.listen(("127.0.0.1", 0))

    def echo_once() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(conn.recv(16))

    serving = eventlet.spawn(echo_once)
    with eventlet.connect(server.getsockname()) as client:
        client.sendall(b"ping")
        if client.recv(16) != b"ping":
            raise RuntimeError("the echo went wrong")
    serving.wait()
    server.close()
    hub = type(eventlet.hubs.get_hub())
    print(json.dumps({"role": role, "pid": os.getpid(), "hub": f"{hub.__module__}:{hub.__qualname__}"}), flush=True)


def main() -> None:
    cli = argparse.ArgumentParser()
    cli.add_argument("--hub")
    cli.add_argument("--patch-first", action="store_true")
    cli.add_argument("--role", default="parent")
    args = cli.parse_args()
    if args.patch_first:
        eventlet.monkey_patch()
    if args.hub is not None:
        eventlet.hubs.use_hub(args.hub)
    if not args.patch_first:
        eventlet.monkey_patch()
    role = args.role
    round_trip_and_say(role)
    if role != "parent":
        return
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            round_trip_and_say("forked")
        except BaseException:
            traceback.print_exc()
            status = 1
        os._exit(status)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"the forked child failed: status {status}")
    child = [sys.executable, "-W", "ignore", __file__, *sys.argv[1:], "--role", "child"]
    subprocess.run(child, check=True, timeout=60)


if __name__ == "__main__":
    main()
