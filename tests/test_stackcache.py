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
