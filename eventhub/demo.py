"""A one-minute tour: ``eventhub-demo`` (or ``python -m eventhub.demo``).

Starts an echo server and many concurrent clients on loopback in one OS
thread, on the hub eventhub would choose (or ``$EVENTHUB_HUB``), and
prints what happened, which hub ran it, and, when that is the pure-Python
variant, why.
"""

from __future__ import annotations

import argparse
import os
import time

import eventhub
from eventhub import hubs, net
from eventhub.hubs._variant import IMPORT_ERRORS, NO_EXTENSIONS


def run_demo(clients: int = 200, messages: int = 20) -> int:
    """Echo ``messages`` messages over each of ``clients`` connections; return the round trips."""
    listener = net.listen(("127.0.0.1", 0), backlog=clients + 16)
    port = listener.getsockname()[1]

    def echo(conn: net.GreenSocket, addr: object) -> None:
        while data := conn.recv(4096):
            conn.sendall(data)

    def client(n: int) -> int:
        with net.connect(("127.0.0.1", port)) as sock:
            for i in range(messages):
                msg = f"client {n} message {i}".encode()
                sock.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    got += sock.recv(4096)
                if got != msg:
                    raise AssertionError(f"echo mismatch: {got!r} != {msg!r}")
        return messages

    server = eventhub.spawn(net.serve, listener, echo)
    workers = [eventhub.spawn(client, n) for n in range(clients)]
    total = sum(w.wait() for w in workers)
    listener.close()
    server.wait()
    return total


def why_pure() -> str:
    """Why the pure-Python hubs run here: the likeliest cause first."""
    if NO_EXTENSIONS:
        return "EVENTHUB_NO_EXTENSIONS is set"
    if IMPORT_ERRORS:
        return "; ".join(f"{name} does not import: {error}" for name, error in sorted(IMPORT_ERRORS.items()))
    package = os.path.dirname(os.path.abspath(eventhub.__file__))
    if os.path.exists(os.path.join(package, os.pardir, "setup.py")):
        return (
            f"eventhub was imported from the source tree {package}, which has no compiled extensions "
            "(python adds the current directory to sys.path): run from another directory, or run eventhub-demo"
        )
    return "the extensions were not built when eventhub was installed: reinstall it with a C compiler"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections (default 200)")
    parser.add_argument("--messages", type=int, default=20, help="messages per connection (default 20)")
    args = parser.parse_args()
    hub = hubs.get_hub()
    started = time.perf_counter()
    total = run_demo(args.clients, args.messages)
    elapsed = time.perf_counter() - started
    variant = hubs.hub_variant(hub)
    print(f"hub: {type(hub).__module__}.{type(hub).__qualname__} ({variant})")
    if variant == "pure":
        print(f"  pure-Python, several times slower than compiled: {why_pure()}")
    print(f"{args.clients} concurrent clients, {total} echoed messages in {elapsed:.2f} s ({total / elapsed:,.0f}/s)")


if __name__ == "__main__":
    main()
