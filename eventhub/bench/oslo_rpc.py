"""One sample of the oslo.messaging RPC benchmark, measured in the process that runs it.

``python -m eventhub.bench.oslo_rpc --transport rabbit-memory --mode call``
monkey-patches with eventlet, as an OpenStack service does, starts an
oslo.messaging RPC server (its default executor, whose threads are
greenthreads once patched) and ``--clients`` greenthreads that each keep one
request in flight for ``--warm-up`` then ``--duration`` seconds, and prints
one JSON object: requests completed in the measured window, their rate,
latency percentiles, errors, and the hub eventlet ran on.

- ``call``: ``RPCClient.call()`` to an ``echo`` endpoint; latency is the
  call's round trip, and a wrong answer or an exception is an error.
- ``cast``: ``RPCClient.cast()`` to a ``record`` endpoint, which tells the
  casting greenthread it has run; latency is cast to handled, and a cast not
  handled within ``--timeout`` is an error.

Transports (both run in this process, no broker needed):

- ``rabbit-memory``: oslo.messaging's rabbit driver over kombu's in-memory
  transport (``kombu+memory:////``);
- ``fake``: oslo.messaging's fake driver (``fake:``).

Which hub eventlet runs on is whatever this process was started with: run
under ``eventhub-run`` for eventhub's (the ``hub`` field says which served it).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Any

#: --transport name -> oslo.messaging transport URL.
TRANSPORTS = {"rabbit-memory": "kombu+memory:////", "fake": "fake:"}
MODES = ("call", "cast")
TOPIC = "eventhub-bench"


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); ``values`` sorted, not empty."""
    rank = max(1, math.ceil(fraction * len(values)))
    return values[min(rank, len(values)) - 1]


def hub_name(hub: Any) -> tuple[str, str]:
    """``module:Class`` of eventlet's hub, and ``compiled``/``pure`` for eventhub's hubs, ``-`` for another."""
    cls = type(hub)
    name = f"{cls.__module__}:{cls.__qualname__}"
    if not cls.__module__.startswith("eventhub."):
        return name, "-"
    from eventhub.hubs._variant import variant_of

    return name, variant_of(hub)


def run(transport_name: str, mode: str, clients: int, warm_up: float, duration: float, timeout: float) -> dict[str, Any]:
    """Measure; returns the fields printed as JSON.  eventlet must be monkey-patching already."""
    import threading

    import eventlet  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import oslo_messaging  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from oslo_config import cfg  # type: ignore[import-untyped,import-not-found,unused-ignore]

    # The global configuration, as in a service: some of oslo.messaging's options live only there.
    conf = cfg.CONF
    conf(args=[], project="eventhub-bench", default_config_files=[], default_config_dirs=[])
    transport = oslo_messaging.get_rpc_transport(conf, url=TRANSPORTS[transport_name])
    handled: dict[tuple[int, int], Any] = {}  # (client, sequence number) -> the Event its caster waits on

    class Endpoint:
        def echo(self, ctxt: dict[str, Any], value: int) -> int:
            return value

        def record(self, ctxt: dict[str, Any], client: int, sequence: int) -> None:
            waiter = handled.pop((client, sequence), None)
            if waiter is not None:
                waiter.set()

    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=TOPIC, server="bench"), [Endpoint()],
        access_policy=oslo_messaging.DefaultRPCAccessPolicy,
    )
    server.start()
    client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=TOPIC), timeout=timeout)

    start = time.perf_counter()
    measure_from = start + warm_up
    stop_at = measure_from + duration
    latencies: list[float] = []
    errors: list[str] = []

    def one_call(me: int, sequence: int) -> None:
        value = me * 1_000_000 + sequence
        if client.call({}, "echo", value=value) != value:
            raise AssertionError("echo returned another value")

    def one_cast(me: int, sequence: int) -> None:
        done = threading.Event()
        handled[(me, sequence)] = done
        client.cast({}, "record", client=me, sequence=sequence)
        if not done.wait(timeout):
            handled.pop((me, sequence), None)
            raise TimeoutError(f"cast not handled within {timeout}s")

    request = one_call if mode == "call" else one_cast

    def client_loop(me: int) -> None:
        sequence = 0
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                return
            sequence += 1
            try:
                request(me, sequence)
            except Exception as e:  # counted and shown; the loop goes on, as a service's caller would
                if began >= measure_from:
                    errors.append(f"{type(e).__name__}: {e}")
                continue
            if began >= measure_from:
                latencies.append(time.perf_counter() - began)

    pool = eventlet.GreenPool(clients)
    for me in range(clients):
        pool.spawn(client_loop, me)
    pool.waitall()
    ended = time.perf_counter()
    server.stop()
    server.wait()
    transport.cleanup()

    latencies.sort()
    measured = max(min(ended, stop_at + timeout) - measure_from, 1e-9)
    hub, variant = hub_name(eventlet.hubs.get_hub())
    return {
        "transport": transport_name,
        "mode": mode,
        "clients": clients,
        "requests": len(latencies),
        "seconds": measured,
        "rate": len(latencies) / measured,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else None,
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else None,
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "hub": hub,
        "variant": variant,
        "oslo_messaging": _version("oslo.messaging"),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m eventhub.bench.oslo_rpc", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--transport", choices=sorted(TRANSPORTS), default="rabbit-memory")
    cli.add_argument("--mode", choices=MODES, default="call")
    cli.add_argument("--clients", type=int, default=50, help="greenthreads, each with one request in flight")
    cli.add_argument("--warm-up", type=float, default=1.0, metavar="SECONDS", help="not measured (default 1)")
    cli.add_argument("--duration", type=float, default=5.0, metavar="SECONDS", help="measured (default 5)")
    cli.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                     help="a request unanswered this long is an error (default 10)")
    return cli


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.clients < 1 or args.warm_up < 0 or args.duration <= 0 or args.timeout <= 0:
        cli.error("--clients must be at least 1, --duration and --timeout positive, --warm-up not negative")
    import logging

    import eventlet

    eventlet.monkey_patch()
    # oslo.messaging logs every failed request; the errors are counted instead.
    logging.basicConfig(level=logging.CRITICAL)
    result = run(args.transport, args.mode, args.clients, args.warm_up, args.duration, args.timeout)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
