"""Each speed shortcut past CPython's public API engages on this interpreter.

The shortcuts (eventhub/includes/pycompat.pxd) are chosen per CPython
version at build time and fall back to the general path on a version they
do not know.  That fallback is silent by design, so these tests are what
notice when a shortcut stops engaging on a supported version: the class
memos, the socket fd read in C, the frame-chunk cache (test_stackcache.py)
and the ready-batch hand-off.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import greenlet
import pytest

from conftest import HUB_PARAMS, RunPython
from eventhub import net, sleep, spawn

core = pytest.importorskip("eventhub.hubs._core", reason="the compiled extensions are not built")

#: The versions pycompat.pxd knows (EH_CPYTHON_KNOWN), which CI runs.
KNOWN = sys.version_info[:2] in ((3, 11), (3, 12), (3, 13), (3, 14))

COMPILED_PARAMS = [p for p in HUB_PARAMS if p.values[0][1] == "compiled"]


def test_every_shortcut_is_on_for_a_known_cpython() -> None:
    assert KNOWN, f"CPython {sys.version_info[:2]} is not one pycompat.pxd knows: add it there and here"
    assert core.cpython_shortcuts() == {
        "class memo": True,
        "socket fd read in C": True,
        "frame-chunk cache": True,
        "recv's bytes shrunk in place": True,
    }
    assert core._check_socket_layout() is True


MEMOS = """
import json, socket
from greenlet import greenlet
from eventhub import hubs, net, sleep, spawn
from eventhub.greenthread import GreenThread
from eventhub.hubs import {backend} as backend
import eventhub.hubs._core as core

hubs.use_hub(backend.CompiledHub)
before = {{k: v is not None for k, v in core._class_memos().items()}}
a, b = socket.socketpair()

def waiter():
    sleep(0)  # the timer switch and the switch-out check
    return net.GreenSocket(sock=a).recv(10)  # the compiled wait's switch and throw checks

g = spawn(waiter)
for _ in range(3):
    sleep(0)  # until g waits for its fd
b.send(b"x")
assert g.wait() == b"x"
after = core._class_memos()
print(json.dumps(dict(before=before, after={{k: v in (GreenThread, greenlet) for k, v in after.items()}})))
"""


@pytest.mark.parametrize("hub_spec", COMPILED_PARAMS)
def test_class_memos_remember_the_greenthread_class(run_python: RunPython, hub_spec: tuple[str, str, Any]) -> None:
    report = json.loads(run_python(["-c", MEMOS.format(backend=hub_spec[0])]).stdout)
    assert report["before"] == dict.fromkeys(report["before"], False)
    # Every hot-path memo now answers for a greenlet class (the last one it
    # was asked about) without a type lookup.
    assert report["after"] == dict.fromkeys(report["after"], True)


@pytest.mark.parametrize("hub_spec", HUB_PARAMS)
def test_a_ready_batch_hands_off_from_greenthread_to_greenthread(hub: Any, hub_spec: tuple[str, str, Any]) -> None:
    """Compiled epolls switches from a greenthread that blocks again straight to the next one the batch woke."""
    pairs = [socket.socketpair() for _ in range(4)]

    def echo_twice(sock: socket.socket) -> None:
        gsock = net.GreenSocket(sock=sock)
        for _ in range(2):
            gsock.recv(10)

    threads = [spawn(echo_twice, reader) for reader, _ in pairs]
    sleep(0)
    sleep(0)  # all four wait on their fds now
    switches: list[tuple[Any, Any]] = []

    def trace(event: str, args: Any) -> None:
        if event == "switch":
            switches.append(args)

    old = greenlet.settrace(trace)
    try:
        for _, writer in pairs:
            writer.send(b"x")  # one batch wakes all four
        sleep(0.05)
    finally:
        greenlet.settrace(old)
    for thread in threads:
        assert not thread.dead  # each waits for its second message
    direct = [(a, b) for a, b in switches if a in threads and b in threads]
    if hub_spec[:2] == ("epolls", "compiled"):
        assert len(direct) >= 3  # each woken greenthread handed on to the next
    else:
        assert direct == []  # the other hubs go back to the loop between greenthreads
    for _, writer in pairs:
        writer.send(b"y")
    for thread in threads:
        thread.wait()
    for reader, writer in pairs:
        reader.close()
        writer.close()
