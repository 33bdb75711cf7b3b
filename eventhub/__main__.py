"""``python -m eventhub``: which hub would be chosen, and which backends exist.

Prints the hub ``use_hub(None)`` picks (honouring ``EVENTHUB_HUB``), whether it
and the other accelerated pieces (sleep, Timeout, sockets, queues, locks) are
the compiled or the pure-Python variant, which CPython-specific speed
shortcuts are on, for every built-in backend whether it is available here,
compiled and/or pure, and any compiled module that is installed but does not
import (exit status 1 then).
"""

from __future__ import annotations

import importlib
import os
import sys

import eventhub
from eventhub import hubs
from eventhub.hubs._variant import IMPORT_ERRORS, load_compiled


def _describe(hub_class: type) -> str:
    return f"{hub_class.__module__}.{hub_class.__qualname__}"


def main() -> int:
    print(f"eventhub {eventhub.__version__} on Python {sys.version.split()[0]} ({sys.platform})")
    print(f"EVENTHUB_NO_EXTENSIONS: {'set: pure-Python only' if hubs.NO_EXTENSIONS else 'not set'}")
    source = f"EVENTHUB_HUB={os.environ['EVENTHUB_HUB']!r}" if os.environ.get("EVENTHUB_HUB") else "default order"
    status = 0
    try:
        chosen = hubs.resolve_hub(None)
    except hubs.HubError as e:
        print(f"chosen hub: none ({source}): {e}")
        status = 1
    else:
        print(f"chosen hub: {_describe(chosen)} ({hubs.hub_variant(chosen)}, {source})")
    from eventhub import greenthread, locks, net, queue, timeout

    sleep_variant = "pure" if greenthread.sleep is greenthread.pure_sleep else "compiled"
    net_variant = "compiled" if net._compiled is not None else "pure"
    print(f"sleep: {sleep_variant}; Timeout: {timeout.VARIANT}; socket recv/send: {net_variant}")
    print(f"Queue, LifoQueue, PriorityQueue: {queue.VARIANT}; Semaphore, BoundedSemaphore, Lock: {locks.VARIANT}")
    core = load_compiled("_core")
    if core is not None:
        shortcuts = core.cpython_shortcuts()
        off = [name for name, on in shortcuts.items() if not on]
        listed = ", ".join(f"{name}: {'on' if on else 'off'}" for name, on in shortcuts.items())
        print(f"CPython shortcuts: {listed}")
        if off:
            print("  (off: this CPython is not one eventhub/includes/pycompat.pxd knows; the general path is used)")
    print("backends:")
    for name in hubs.BUILTIN_HUBS:
        module = importlib.import_module(f"eventhub.hubs.{name}")
        compiled = "yes" if getattr(module, "CompiledHub", None) is not None else "no"
        pure = "yes" if getattr(module, "PureHub", None) is not None else "no"
        if module.is_available():
            state = f"available, runs {module.VARIANT}"
        else:
            state = f"unavailable: {module._why_unavailable()}"
        print(f"  {name:8s} compiled: {compiled:3s} pure: {pure:3s} {state}")
    for module_name, error in sorted(IMPORT_ERRORS.items()):
        print(f"installed but does not import: {module_name}: {error}")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
