"""Dropped hubs are garbage-collected even when their timers refer back to them."""

from __future__ import annotations

import gc
from typing import Any


def live(cls: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is cls)


class ForeignTimer:
    """An eventlet-style timer object (tracked by the GC, unlike ours)."""

    def __init__(self, seconds: float, cb: Any) -> None:
        self.seconds = seconds
        self.called = False
        self.cb = cb

    def __call__(self) -> None:
        self.called = True
        self.cb()


def drop_hubs_with_cycles(cls: Any) -> None:
    for _ in range(5):
        h = cls()
        h.schedule_call_global(10, h.abort)  # hub -> timer -> bound method -> hub
        h.schedule_call_local(10, h.abort)
        h.add_timer(ForeignTimer(10, h.abort))
        h.destroy()
    del h


def test_hub_with_timers_referring_to_it_is_collected(hub_class: Any) -> None:
    before = live(hub_class)
    drop_hubs_with_cycles(hub_class)
    assert live(hub_class) == before


def test_python_subclass_of_hub_is_collected(hub_class: Any) -> None:
    class Subclass(hub_class):  # type: ignore[misc]
        pass

    drop_hubs_with_cycles(Subclass)
    assert live(Subclass) == 0


def test_a_timer_held_elsewhere_keeps_working_after_its_hub_is_collected(hub_class: Any) -> None:
    h = hub_class()
    fired: list[int] = []
    timer = h.schedule_call_global(10, fired.append, 1)
    h.destroy()
    del h
    gc.collect()
    timer.cancel()  # its hub is gone: a no-op, not a crash
    assert fired == [] and not timer.pending
