"""The frame-stack chunk cache: compiled hubs start greenthreads without an mmap each.

Installing it changes the whole process's arena allocator, so each test
runs in a fresh interpreter.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import RunPython

pytest.importorskip("eventhub.hubs._stackcache", reason="the compiled extensions are not built")

SCRIPT = """
import json, sys
import eventhub.hubs._stackcache as cache
from eventhub import Event, hubs, spawn
from eventhub.hubs import {backend} as backend

before = cache.installed()
hubs.use_hub(backend.{hub_class})
# One after another: each greenthread's chunk is free again for the next.
for _ in range(500):
    spawn(int).wait()
kept_after_serial, reused_after_serial = cache.stats()
# 300 alive at once, then all ended: more chunks come back than the cache keeps.
gate = Event()
threads = [spawn(gate.wait) for _ in range(300)]
spawn(gate.send, 1).wait()
assert [t.wait() for t in threads] == [1] * 300
kept, reused = cache.stats()
print(json.dumps(dict(before=before, installed=cache.installed(), serial=reused_after_serial,
                      kept=kept, keep=cache.KEEP)))
"""


def run(run_python: RunPython, hub_spec: tuple[str, str, Any]) -> dict[str, Any]:
    backend, variant, _ = hub_spec
    hub_class = "CompiledHub" if variant == "compiled" else "PureHub"
    result = run_python(["-c", SCRIPT.format(backend=backend, hub_class=hub_class)])
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_compiled_hub_reuses_chunks_and_keeps_few(run_python: RunPython, hub_spec: tuple[str, str, Any]) -> None:
    report = run(run_python, hub_spec)
    assert report["before"] is False  # importing eventhub alone changes nothing
    if hub_spec[1] == "pure":
        # The pure variant leaves the interpreter's allocator alone.
        assert report["installed"] is False
        assert report["serial"] == 0 and report["kept"] == 0
        return
    assert report["installed"] is True
    assert report["serial"] >= 490  # nearly every serial spawn reused the previous chunk
    assert report["kept"] == report["keep"]  # 300 came back; only KEEP stay mapped


# Four sub-interpreters (each with a GIL of its own from 3.12 on) recurse
# across frame-chunk boundaries in threads while the main interpreter keeps
# spawning greenthreads: every one of them allocates and frees chunks through
# the one process-wide arena allocator at the same time.  Without the cache's
# lock this died of "double free or corruption" or SIGSEGV on 3.12 and 3.13.
SUBINTERPRETERS = """
import json, sys, threading
import eventhub.hubs._stackcache as cache
from eventhub import hubs, spawn
from eventhub.hubs import {backend} as backend

hubs.use_hub(backend.{hub_class})
spawn(int).wait()
if sys.version_info >= (3, 13):
    import _interpreters as interpreters
    create = lambda: interpreters.create("isolated")
else:
    import _xxsubinterpreters as interpreters
    create = (lambda: interpreters.create(isolated=True)) if sys.version_info >= (3, 12) else interpreters.create
CODE = '''
def down(n):
    return 0 if n == 0 else 1 + down(n - 1)
for _ in range(1500):
    assert down(400) == 400
'''
errors = []

def run(interp):
    try:
        interpreters.run_string(interp, CODE)
    except BaseException as e:
        errors.append(repr(e))

# Created and destroyed by the main thread: 3.11 can hang creating them in threads.
interps = [create() for _ in range(4)]
threads = [threading.Thread(target=run, args=(i,)) for i in interps]
before = cache.stats()[1]
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    for _ in range(50):
        spawn(int).wait()
for t in threads:
    t.join()
for i in interps:
    interpreters.destroy(i)
print(json.dumps(dict(errors=errors, installed=cache.installed(), reused=cache.stats()[1] - before)))
"""


def test_concurrent_subinterpreters_share_the_cache_safely(
    run_python: RunPython, hub_spec: tuple[str, str, Any]
) -> None:
    backend, variant, _ = hub_spec
    hub_class = "CompiledHub" if variant == "compiled" else "PureHub"
    result = run_python(["-c", SUBINTERPRETERS.format(backend=backend, hub_class=hub_class)], timeout=120)
    report = json.loads(result.stdout)  # a crash fails run_python (non-zero exit) first
    assert report["errors"] == []
    assert report["installed"] is (variant == "compiled")
    if variant == "compiled":
        # The sub-interpreters' chunks went through the cache too: 4 x 1500
        # recursions cross a chunk boundary several times each.
        assert report["reused"] > 1000
