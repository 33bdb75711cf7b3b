"""asyncio and uvloop as benchmark targets: the same workloads as coroutines.

Equivalents chosen for greenlet primitives: a greenthread is a Task,
``sleep(0)`` is ``await asyncio.sleep(0)``, a Timeout is ``asyncio.timeout()``
(an object plus a ``call_at`` handle, cancelled on exit, like a greenlet
Timeout), a hub timer is ``loop.call_later``, cooperative socket calls are
``loop.sock_recv``/``loop.sock_sendall``, the echo and TLS tests use the
streams API (``start_server``/``open_connection``, with ``ssl=`` for TLS),
and the thread pool is ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import tempfile
import time
from typing import Any, Callable, Coroutine

from eventhub.bench import certs
from eventhub.bench.green import Sample, WorkloadError, contexts_of
from eventhub.bench.target import Unavailable
from eventhub.bench.workloads import Sizes

Workload = Callable[[Sizes], Coroutine[Any, Any, Sample]]


async def switch(sizes: Sizes) -> Sample:
    sleep = asyncio.sleep

    async def loop(n: int) -> int:
        for _ in range(n):
            await sleep(0)
        return n

    start = time.perf_counter()
    tasks = [asyncio.create_task(loop(sizes.switch_sleeps)) for _ in range(sizes.switch_threads)]
    count = 0
    for task in tasks:
        count += await task
    return count, time.perf_counter() - start


async def spawn(sizes: Sizes) -> Sample:
    async def task() -> int:
        return 1

    create_task = asyncio.create_task
    start = time.perf_counter()
    tasks = [create_task(task()) for _ in range(sizes.spawn_threads)]
    count = 0
    for t in tasks:
        count += await t
    return count, time.perf_counter() - start


async def timeout(sizes: Sizes) -> Sample:
    make = asyncio.timeout
    count = 0
    start = time.perf_counter()
    for _ in range(sizes.timeouts):
        async with make(10) as cm:
            if cm.when() is not None:
                count += 1
    return count, time.perf_counter() - start


async def timers(sizes: Sizes) -> Sample:
    n = sizes.timers
    rng = random.Random(n)
    delays = [rng.random() * sizes.timer_window for _ in range(n)]
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    fired = 0

    def callback() -> None:
        nonlocal fired
        fired += 1
        if fired == n:
            done.set_result(None)

    call_later = loop.call_later
    start = time.perf_counter()
    for delay in delays:
        call_later(delay, callback)
    await done
    return fired, time.perf_counter() - start


async def _ping(sock: socket.socket, n: int) -> int:
    loop = asyncio.get_running_loop()
    send, recv = loop.sock_sendall, loop.sock_recv
    count = 0
    for _ in range(n):
        await send(sock, b"x")
        if await recv(sock, 1) == b"x":
            count += 1
    return count


async def _pong(sock: socket.socket, n: int) -> None:
    loop = asyncio.get_running_loop()
    send, recv = loop.sock_sendall, loop.sock_recv
    for _ in range(n):
        await send(sock, await recv(sock, 1))


async def _pingpong(n: int) -> Sample:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    try:
        start = time.perf_counter()
        ponger = asyncio.create_task(_pong(b, n))
        count = await asyncio.create_task(_ping(a, n))
        elapsed = time.perf_counter() - start
        await ponger
    finally:
        a.close()
        b.close()
    return count, elapsed


async def pingpong(sizes: Sizes) -> Sample:
    return await _pingpong(sizes.pingpong_round_trips)


async def idle(sizes: Sizes) -> Sample:
    loop = asyncio.get_running_loop()
    pairs = [socket.socketpair() for _ in range(sizes.idle_sockets // 2)]
    socks = [s for pair in pairs for s in pair]
    for s in socks:
        s.setblocking(False)
    readers = [asyncio.create_task(loop.sock_recv(s, 1)) for s in socks]
    await asyncio.sleep(0)  # every reader is now registered with the loop
    try:
        return await _pingpong(sizes.idle_round_trips)
    finally:
        for a, b in pairs:
            a.shutdown(socket.SHUT_WR)
            b.shutdown(socket.SHUT_WR)
        leftovers = [await r for r in readers]
        for s in socks:
            s.close()
        if any(leftovers):
            raise WorkloadError("an idle socket received data")


async def echo(sizes: Sizes) -> Sample:
    return await _echo(sizes.echo_clients, sizes.echo_messages, sizes.echo_message_size, None, None)


async def _echo(
    clients: int, messages: int, size: int, server_ssl: ssl.SSLContext | None, client_ssl: ssl.SSLContext | None
) -> Sample:
    """``clients`` concurrent stream connections to an echo server, ``messages`` round trips each (TLS with contexts)."""
    echoed = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal echoed
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            echoed += len(data)
        writer.close()

    async def client(port: int, m: int) -> int:
        hostname = certs.HOSTNAME if client_ssl is not None else None
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ssl, server_hostname=hostname)
        message = b"m" * size
        done = 0
        for _ in range(m):
            writer.write(message)
            await writer.drain()
            if len(await reader.readexactly(size)) == size:
                done += 1
        writer.close()
        await writer.wait_closed()
        return done

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ssl, backlog=max(1024, 2 * clients))
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    connections = [asyncio.create_task(client(port, messages)) for _ in range(clients)]
    count = 0
    for c in connections:
        count += await c
    elapsed = time.perf_counter() - start
    server.close()
    await server.wait_closed()
    if echoed != count * size:
        raise WorkloadError(f"the server echoed {echoed} bytes for {count} messages of {size}")
    return count, elapsed


async def await_task(sizes: Sizes) -> Sample:
    async def task() -> int:
        return 1

    create_task = asyncio.get_running_loop().create_task
    count = 0
    start = time.perf_counter()
    for _ in range(sizes.awaits):
        count += await create_task(task())
    return count, time.perf_counter() - start


async def offload(sizes: Sizes) -> Sample:
    to_thread = asyncio.to_thread

    def call() -> int:
        return 1

    async def loop(n: int) -> int:
        count = 0
        for _ in range(n):
            count += await to_thread(call)
        return count

    await to_thread(call)  # the pool's first thread starts outside the timing
    start = time.perf_counter()
    count = await asyncio.create_task(loop(sizes.offloads))
    return count, time.perf_counter() - start


async def tls_echo(sizes: Sizes) -> Sample:
    with tempfile.TemporaryDirectory() as directory:
        server_context, client_context = contexts_of(ssl.SSLContext)(*certs.make(directory))
    return await _echo(sizes.tls_clients, sizes.tls_messages, sizes.tls_message_size, server_context, client_context)


WORKLOAD_FUNCTIONS: dict[str, Workload] = {
    "switch": switch,
    "spawn": spawn,
    "timeout": timeout,
    "timers": timers,
    "pingpong": pingpong,
    "idle": idle,
    "echo": echo,
    "await": await_task,
    "offload": offload,
    "tls": tls_echo,
}


class AsyncioTarget:
    """asyncio on the loop ``loop_factory`` makes (None: asyncio's default)."""

    def __init__(self, description: str, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None) -> None:
        self.description = description
        self.loop_factory = loop_factory

    def run(self, workload: str, sizes: Sizes) -> Sample:
        with asyncio.Runner(loop_factory=self.loop_factory) as runner:
            return runner.run(WORKLOAD_FUNCTIONS[workload](sizes))


def load(loop: str) -> AsyncioTarget:
    """``loop`` is "asyncio" (the default selector loop) or "uvloop"."""
    import platform

    if loop == "uvloop":
        try:
            import uvloop
        except ImportError as e:
            raise Unavailable(f"cannot import uvloop: {e}") from None
        return AsyncioTarget(f"uvloop {getattr(uvloop, '__version__', '')}", uvloop.new_event_loop)
    return AsyncioTarget(f"asyncio (Python {platform.python_version()}, selector loop)", None)
