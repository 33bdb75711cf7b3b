"""A one-minute tour: ``python -m eventhub.demo``.

Starts an echo server and many concurrent clients on loopback in one OS
thread, on the hub eventhub would choose (or ``$EVENTHUB_HUB``), and
prints what happened.
"""

from __future__ import annotations

import argparse
import time

import eventhub
from eventhub import hubs, net


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections (default 200)")
    parser.add_argument("--messages", type=int, default=20, help="messages per connection (default 20)")
    args = parser.parse_args()
    hub = hubs.get_hub()
    started = time.perf_counter()
    total = run_demo(args.clients, args.messages)
    elapsed = time.perf_counter() - started
    print(f"hub: {type(hub).__module__}.{type(hub).__qualname__}")
    print(f"{args.clients} concurrent clients, {total} echoed messages in {elapsed:.2f} s ({total / elapsed:,.0f}/s)")


if __name__ == "__main__":
    main()
