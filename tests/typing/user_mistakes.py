"""Mistakes ``mypy --strict`` must report, one per marked line.

A trailing comment on each marked line names the mypy error code expected
there; tests/test_typing.py checks that exactly those are reported.  Never run.
"""

from __future__ import annotations

import ssl

import eventhub
from eventhub import hubs, net


def name_length(name: str) -> int:
    return len(name)


def mistakes() -> None:
    eventhub.sleep("1")  # error: [arg-type]
    hubs.use_hub(3)  # error: [arg-type]

    thread = eventhub.spawn(name_length, "eventhub")
    text: str = thread.wait()  # error: [assignment]
    thread.wait().upper()  # error: [attr-defined]
    eventhub.spawn(name_length, 1)  # error: [arg-type]

    hub = hubs.get_hub()
    hub.schedule_call_global("soon", print)  # error: [arg-type]
    hub.schedule_call_global(1.0, print).cancel(True)  # error: [call-arg]

    event: eventhub.Event[int] = eventhub.Event()
    event.send("one")  # error: [arg-type]
    eventhub.Timeout("1")  # error: [arg-type]

    hubs.trampoline(0, read="yes")  # error: [arg-type]
    hubs.trampoline("0", read=True)  # error: [arg-type]
    hubs.trampoline(0.5, read=True)  # error: [arg-type]
    sock = net.connect(("127.0.0.1", 1))
    data: str = sock.recv(10)  # error: [assignment]

    length: str = eventhub.to_thread(name_length, "eventhub")  # error: [assignment]
    eventhub.to_thread(name_length, 1)  # error: [arg-type]
    net.getaddrinfo("localhost", 80.0)  # error: [arg-type]
    tls = net.connect(("localhost", 443), tls=ssl.create_default_context())
    tls.version().upper()  # error: [union-attr]
    net.wrap_tls(sock, "context")  # error: [arg-type]
