"""The compiled sleep (eventhub/_greenthread.pyx) and the pure one behave alike, on every hub."""

from __future__ import annotations

from typing import Any

import greenlet
import pytest
from conftest import run_until_dead

from eventhub import greenthread, spawn

SLEEPS = [pytest.param(greenthread.pure_sleep, id="pure", marks=pytest.mark.pure)]
if greenthread.sleep is not greenthread.pure_sleep:
    SLEEPS.append(pytest.param(greenthread.sleep, id="compiled", marks=pytest.mark.compiled))


@pytest.fixture(params=SLEEPS)
def sleep(request: pytest.FixtureRequest, hub: Any) -> Any:
    return request.param


def test_round_robin(sleep: Any) -> None:
    order: list[int] = []

    def worker(i: int) -> None:
        for _ in range(3):
            order.append(i)
            sleep(0)

    threads = [spawn(worker, i) for i in range(4)]
    for t in threads:
        t.wait()
    assert order == [0, 1, 2, 3] * 3


def test_sleep_waits_and_cancels_its_timer(sleep: Any, hub: Any) -> None:
    start = hub.clock()
    sleep(0.01)
    assert hub.clock() - start >= 0.009
    assert hub.get_timers_count() == 0 or all(t[2].called for t in hub.timers)


def test_sleep_in_the_hub_greenlet_is_an_error(sleep: Any, hub: Any) -> None:
    errors: list[BaseException] = []

    def in_loop() -> None:
        try:
            sleep(0)
        except RuntimeError as e:
            errors.append(e)

    hub.schedule_call_global(0, in_loop)
    sleep(0.001)
    assert errors and "MAINLOOP" in str(errors[0])


def test_bad_delay(sleep: Any) -> None:
    with pytest.raises(TypeError):
        sleep("1")
    with pytest.raises(ValueError):
        sleep(float("nan"))


def test_killed_while_sleeping(sleep: Any) -> None:
    from eventhub import GreenletExit

    def sleeper() -> None:
        sleep(60)

    t = spawn(sleeper)
    sleep(0)
    t.kill()
    with pytest.raises(GreenletExit):
        t.wait()


def test_sleep_resumes_through_a_subclass_switch(sleep: Any, hub: Any) -> None:
    # The compiled sleep switches to a plain greenlet in C; a class that
    # replaces switch() must still be resumed through it.
    resumed: list[str] = []

    class Traced(greenlet.greenlet):
        def switch(self, *args: Any, **kwargs: Any) -> Any:
            resumed.append("class")
            return super().switch(*args, **kwargs)

    def body() -> None:
        sleep(0)
        resumed.append("done")

    g = Traced(body, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    run_until_dead(g, sleep)
    assert resumed == ["class", "class", "done"] and g.dead


def test_sleep_notices_a_switch_added_to_the_class_later(sleep: Any, hub: Any) -> None:
    # The compiled hub remembers, per class, that switch() is greenlet's
    # own; replacing it on the class afterwards must be noticed.
    resumed: list[str] = []

    class Late(greenlet.greenlet):
        pass

    def traced(self: greenlet.greenlet, *args: Any, **kwargs: Any) -> Any:
        resumed.append("class")
        return greenlet.greenlet.switch(self, *args, **kwargs)

    def body() -> None:
        sleep(0)
        resumed.append("plain")
        Late.switch = traced  # type: ignore[method-assign]
        sleep(0)
        resumed.append("done")

    g = Late(body, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    run_until_dead(g, sleep)
    assert resumed == ["plain", "class", "done"] and g.dead


def test_sleep_resumes_through_an_instance_switch(sleep: Any, hub: Any) -> None:
    resumed: list[str] = []

    def body() -> None:
        me = greenlet.getcurrent()
        plain_switch = me.switch

        def traced(*args: Any, **kwargs: Any) -> Any:
            resumed.append("instance")
            return plain_switch(*args, **kwargs)

        me.switch = traced  # type: ignore[method-assign]
        sleep(0)
        resumed.append("done")

    g = greenlet.greenlet(body, parent=hub.greenlet)
    hub.schedule_call_global(0, g.switch)
    run_until_dead(g, sleep)
    assert resumed == ["instance", "done"] and g.dead
