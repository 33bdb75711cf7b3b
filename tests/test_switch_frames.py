"""``sleep(0)`` on a compiled hub pushes no Python frame, so no frame-stack chunk churns.

CPython 3.11+ keeps Python frames in 16 KiB chunks, and a call whose frame
does not fit in the current chunk allocates the next one, which its return
frees.  A greenthread whose frames end just short of a chunk's end would pay
that on every ``sleep(0)`` if the switch went through a Python-level frame:
an arena allocation and free per switch (through the stack cache, or an
mmap/munmap pair without it).  This was one suspect for the switch
workload's slow mode; the compiled ``sleep`` -> ``hub.switch`` path has no
Python frame, so it cannot happen there.

The probe: greenthreads park their frames at every 8-byte offset across
several chunk boundaries, then call ``sleep(0)`` in a loop; the stack
cache's reuse count (``_stackcache.stats()``) says how many chunks were
handed out meanwhile.  The same sweep through a one-line Python wrapper of
``sleep`` (a frame per call) shows the probe does see churn.  Runs in a
fresh interpreter per hub: the cache is process-wide.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import HUB_PARAMS, RunPython

pytest.importorskip("eventhub.hubs._stackcache", reason="the compiled extensions are not built")

SLEEPS = 20  # sleep(0) calls per position

SCRIPT = """
import json
import eventhub.hubs._stackcache as cache
from eventhub import hubs, sleep, spawn
from eventhub.hubs import {backend} as backend

hubs.use_hub(backend.CompiledHub)
assert cache.CHUNK_SIZE, "this CPython's frame-chunk size is not known"


def leaf_with(extra_locals):
    # A leaf whose frame is 8 bytes bigger per extra local: fine steps across a boundary.
    body = "".join(f"    v{{i}} = 0\\n" for i in range(extra_locals))
    namespace = {{}}
    exec(f"def leaf(sleep, n):\\n{{body}}    for _ in range(n):\\n        sleep(0)\\n", namespace)
    return namespace["leaf"]


LEAVES = [leaf_with(k) for k in range(32)]


def descend(depth, leaf, sleep_, n):
    if depth:
        return descend(depth - 1, leaf, sleep_, n)
    before = cache.stats()[1]
    leaf(sleep_, n)
    return cache.stats()[1] - before


def most_chunks_handed_out(sleep_, n={sleeps}):
    worst = 0
    for depth in range(0, 300, 3):  # a few chunk boundaries' worth of frames
        for leaf in LEAVES:
            worst = max(worst, spawn(descend, depth, leaf, sleep_, n).wait())
    return worst


def python_level_sleep(seconds):
    return sleep(seconds)


print(json.dumps(dict(direct=most_chunks_handed_out(sleep),
                      wrapped=most_chunks_handed_out(python_level_sleep))))
"""

COMPILED_PARAMS = [p for p in HUB_PARAMS if p.values[0][1] == "compiled"]


@pytest.mark.parametrize("hub_spec", COMPILED_PARAMS)
def test_sleep_0_at_a_chunk_boundary_allocates_no_chunk(run_python: RunPython, hub_spec: tuple[str, str, Any]) -> None:
    backend = hub_spec[0]
    result = run_python(["-c", SCRIPT.format(backend=backend, sleeps=SLEEPS)], timeout=300)
    report = json.loads(result.stdout)
    # At most the leaf's own frame crossed into a new chunk, once: never one per switch.
    assert report["direct"] <= 1, report
    # The probe sees churn: with a Python frame per call, some position pays a chunk per sleep(0).
    assert report["wrapped"] >= SLEEPS - 1, report
