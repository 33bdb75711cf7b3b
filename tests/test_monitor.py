"""eventhub.monitor: the blocking greenthread is named, with its stack, on
every hub, in the main thread and off it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import eventhub
from eventhub import hubs, monitor

pytestmark = pytest.mark.timing_sensitive


def hog_the_hub(seconds: float) -> None:
    time.sleep(seconds)  # blocking: no greenlet switch meanwhile


def run_scenario(hub_class: Any) -> tuple[list[monitor.BlockingReport], Any]:
    hubs.use_hub(hub_class)
    reports: list[monitor.BlockingReport] = []
    with monitor.start(threshold=0.1, report=reports.append):
        eventhub.sleep(0.3)  # idle in the poller: never reported
        idle_reports = list(reports)
        hog = eventhub.spawn(hog_the_hub, 0.6)
        hog.wait()
        eventhub.sleep(0.05)
    assert idle_reports == []
    return reports, hog


def check(reports: list[monitor.BlockingReport], hog: Any) -> None:
    assert len(reports) == 1, reports  # one report per blocking episode
    report = reports[0]
    assert report.greenlet is hog
    assert "hog_the_hub" in report.stack
    assert report.duration >= 0.1
    assert "hog_the_hub" in str(report)


def test_monitor_reports_the_blocking_greenthread(hub_class: Any) -> None:
    check(*run_scenario(hub_class))


def test_monitor_works_off_the_main_thread(hub_class: Any) -> None:
    result: list[Any] = []

    def worker() -> None:
        try:
            result.append(run_scenario(hub_class))
        except BaseException as e:
            result.append(e)

    t = threading.Thread(target=worker)
    t.start()
    t.join(60)
    assert len(result) == 1
    if isinstance(result[0], BaseException):
        raise result[0]
    check(*result[0])


def test_monitor_reports_a_blocking_timer_callback(hub: Any) -> None:
    reports: list[monitor.BlockingReport] = []
    with monitor.start(threshold=0.1, report=reports.append):
        hub.schedule_call_global(0, hog_the_hub, 0.5)
        eventhub.sleep(0.6)
    assert len(reports) == 1
    assert "hog_the_hub" in reports[0].stack


def test_threshold_must_be_positive(hub: Any) -> None:
    with pytest.raises(ValueError):
        monitor.start(threshold=0)
