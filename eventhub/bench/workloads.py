"""The benchmark workloads: names, what one operation is, and their sizes.

Every implementation runs the same workload at the same ``Sizes``; the
worker counts the operations it really performed and the orchestrator
checks the count against ``Workload.expected(sizes)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Sizes:
    """How much work each workload does; ``for_scale(1.0)`` is the full run."""

    switch_threads: int = 100
    switch_sleeps: int = 5000  # sleep(0) calls per thread
    spawn_threads: int = 100_000
    timeouts: int = 200_000
    timers: int = 200_000
    # Timers get a random delay in [0, window).  The window scales with the
    # count, so every scale schedules as many timers per millisecond and no
    # scale is capped by the window (20k timers in 50 ms could not pass 400k/s).
    timer_window: float = 0.05
    pingpong_round_trips: int = 100_000
    # Fewer than pingpong: poll() and select() scan every idle fd per call.
    idle_round_trips: int = 20_000
    idle_sockets: int = 8000  # registered, never ready: not scaled
    echo_clients: int = 200  # concurrency: not scaled
    echo_messages: int = 500  # round trips per client
    echo_message_size: int = 64
    awaits: int = 50_000  # greenthreads (asyncio: tasks) a coroutine spawns and awaits
    offloads: int = 20_000  # calls handed to the thread pool and waited for, one at a time
    tls_clients: int = 50  # concurrency: not scaled
    tls_messages: int = 100  # round trips per TLS connection
    tls_message_size: int = 256

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        """Scale the operation counts (never the concurrency), at least 1 each, and the timer window with them."""
        if scale <= 0:
            raise ValueError("scale must be positive")
        base = cls()

        def scaled(n: int) -> int:
            return max(1, round(n * scale))

        return cls(
            switch_sleeps=scaled(base.switch_sleeps),
            spawn_threads=scaled(base.spawn_threads),
            timeouts=scaled(base.timeouts),
            timers=scaled(base.timers),
            timer_window=base.timer_window * scaled(base.timers) / base.timers,
            pingpong_round_trips=scaled(base.pingpong_round_trips),
            idle_round_trips=scaled(base.idle_round_trips),
            echo_messages=scaled(base.echo_messages),
            awaits=scaled(base.awaits),
            offloads=scaled(base.offloads),
            tls_messages=scaled(base.tls_messages),
        )


@dataclass(frozen=True)
class Workload:
    """One workload: its name, the unit of its ops/s, and its expected count."""

    name: str
    unit: str
    description: str
    expected: Callable[[Sizes], int]
    #: Whether it keeps its thread busy, so that a worker with less than its
    #: CPU was disturbed (False: it waits for other threads by design).
    busy: bool = True


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "switch",
        "sleep(0)/s",
        "100 greenthreads each calling sleep(0) repeatedly",
        lambda s: s.switch_threads * s.switch_sleeps,
    ),
    Workload(
        "spawn",
        "spawn+join/s",
        "spawn greenthreads, then join every one",
        lambda s: s.spawn_threads,
    ),
    Workload(
        "timeout",
        "timeouts/s",
        "create and cancel Timeout(10)",
        lambda s: s.timeouts,
    ),
    Workload(
        "timers",
        "timers/s",
        "timers with random delays within 50 ms per 200k timers, all fired",
        lambda s: s.timers,
    ),
    Workload(
        "pingpong",
        "round trips/s",
        "two greenthreads exchanging 1-byte messages over a socketpair",
        lambda s: s.pingpong_round_trips,
    ),
    Workload(
        "idle",
        "round trips/s",
        "pingpong while 8000 other sockets are registered and idle",
        lambda s: s.idle_round_trips,
    ),
    Workload(
        "echo",
        "messages/s",
        "echo server and 200 concurrent loopback clients, 64-byte messages",
        lambda s: s.echo_clients * s.echo_messages,
    ),
    Workload(
        "await",
        "awaits/s",
        "a coroutine spawning a greenthread (asyncio: a task) and awaiting its result, in turn",
        lambda s: s.awaits,
    ),
    Workload(
        "offload",
        "round trips/s",
        "a greenthread (asyncio: a task) handing a trivial call to a worker thread and waiting for it, in turn",
        lambda s: s.offloads,
        busy=False,
    ),
    Workload(
        "tls",
        "messages/s",
        "TLS echo server and 50 concurrent loopback TLS clients, handshakes included, 256-byte messages",
        lambda s: s.tls_clients * s.tls_messages,
    ),
)

WORKLOAD_NAMES: tuple[str, ...] = tuple(w.name for w in WORKLOADS)


def get_workload(name: str) -> Workload:
    """The workload called ``name``; ``KeyError`` if there is none."""
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    raise KeyError(name)
