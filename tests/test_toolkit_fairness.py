"""Waiters are served first come, first served: the scenarios of fairness_scenarios.py.

On every hub, with the compiled and the pure queues and semaphores; and
on eventlet's own classes, where they fail, which shows they can.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import RunPython
from fairness_scenarios import FAIR, Api

import eventhub


def eventhub_api() -> Api:
    return Api(eventhub.spawn, lambda t: t.wait(), eventhub.sleep, eventhub.Queue, eventhub.Semaphore)


@pytest.mark.parametrize("scenario", list(FAIR), ids=lambda s: s.__name__)
def test_waiters_are_served_in_order(hub: Any, toolkit_variant: str, scenario: Callable[[Api], Any]) -> None:
    with eventhub.Timeout(10):
        assert scenario(eventhub_api()) == FAIR[scenario]


@pytest.mark.parametrize("queue_class", ["LifoQueue", "PriorityQueue"])
def test_every_queue_class_serves_getters_in_order(hub: Any, toolkit_variant: str, queue_class: str) -> None:
    from fairness_scenarios import getters_in_order, late_get_takes_the_item

    api = Api(eventhub.spawn, lambda t: t.wait(), eventhub.sleep, getattr(eventhub, queue_class), eventhub.Semaphore)
    with eventhub.Timeout(10):
        assert getters_in_order(api) == FAIR[getters_in_order]
        assert late_get_takes_the_item(api) == "the waiter"


def test_the_scenarios_catch_eventlets_unfairness(run_python: RunPython) -> None:
    """eventlet's Queue hands items to whoever asks first and wakes its waiters
    in no set order; its Semaphore lets a late acquire() take a released permit."""
    tests = str(Path(__file__).parent)
    out = run_python([f"{tests}/fairness_scenarios.py"], env={"EVENTLET_HUB": "epolls"}).stdout
    verdicts = dict(line.split()[:2] for line in out.splitlines())
    assert set(verdicts) == {scenario.__name__ for scenario in FAIR}
    unfair = {name for name, verdict in verdicts.items() if verdict == "unfair"}
    assert unfair >= {
        "getters_in_order",
        "late_get_takes_the_item",
        "putters_in_order",
        "late_put_takes_the_slot",
        "late_acquire_takes_the_permit",
    }, out
