"""How fast the machine itself is running, timed around every sample.

On a shared machine (a VM whose host runs other work too) the speed of the
CPU can change by itself, for seconds at a time.  On
the machine these notes come from, a fixed pure-Python loop, and a plain C
loop just the same, ran at one of two speeds about 1.7x apart, switching
between them mid-run whatever this machine was running; the benchmarks
followed (``switch``: ~2.7M against ~1.5M ``sleep(0)``/s on the compiled
epolls hub, at the same instruction count per ``sleep(0)``).  Two cells
sampled at different machine speeds give a ratio off by that much.

So every worker times ``probe()`` just before and just after its sample.
A sample during which the speed changed is taken again, and a speed target
whose two cells ran at different machine speeds is not judged.  Likewise a
sample during which the worker did not have a CPU to itself (its CPU time
fell short of the wall-clock time: other processes ran on its CPU) is
taken again: a workload that keeps its one thread busy (all but
``offload``, which waits for worker threads by design) gets ~100% of a CPU
when alone on it.
"""

from __future__ import annotations

import time

#: Iterations of the probe loop: ~10 ms on a 2020s server core.
PROBE_LOOPS = 300_000

#: Speeds within this factor of each other count as the same machine speed:
#: above the probe's own jitter (the best of two loops stayed within ~1.25x
#: in a steady mode), below the ~1.7x between the machine's modes.
TOLERANCE = 1.3


def _loop_rate() -> float:
    start = time.perf_counter()
    x = 0
    for i in range(PROBE_LOOPS):
        x += i & 7
    return PROBE_LOOPS / max(time.perf_counter() - start, 1e-9)


def probe() -> float:
    """The machine's speed now: iterations per second of a fixed pure-Python loop, by the wall clock.

    The faster of two runs, so a few milliseconds of preemption by another
    process do not pass for a change of the machine's speed.
    """
    return max(_loop_rate(), _loop_rate())


#: A sample whose worker had less than this share of a CPU was disturbed.
MIN_CPU_SHARE = 0.8


def apart(a: float, b: float) -> float:
    """How many times faster the faster of two speeds is (1.0: equal)."""
    low, high = sorted((a, b))
    return high / low if low > 0 else float("inf")


def same(a: float, b: float) -> bool:
    """Whether two speeds are the same machine speed, within ``TOLERANCE``."""
    return apart(a, b) <= TOLERANCE
