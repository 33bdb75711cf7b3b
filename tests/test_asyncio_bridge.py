"""eventhub.asyncio: greenthreads and coroutines awaiting each other on the
asyncio hub, on every asyncio hub parameter (both variants, asyncio's loop
and uvloop), with greenthreads' compiled twins and with the reference."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any, Iterator

import pytest
from conftest import HUB_PARAMS
from greenlet import GreenletExit

import eventhub
from eventhub import hubs
from eventhub.asyncio import await_, hub_loop, spawn_for_awaitable

pytestmark = pytest.mark.usefixtures("greenthread_variant")

ASYNCIO_PARAMS = [p for p in HUB_PARAMS if p.values[0][0] == "asyncio"]

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


@pytest.fixture(params=ASYNCIO_PARAMS)
def aio_hub(request: pytest.FixtureRequest) -> Iterator[Any]:
    hub_class = request.param[2]
    hubs.use_hub(hub_class)
    try:
        yield hubs.get_hub()
    finally:
        hubs.use_hub(hub_class)


async def double_later(x: int, delay: float = 0.01) -> int:
    await asyncio.sleep(delay)
    return 2 * x


def test_await_returns_a_coroutines_result(aio_hub: Any) -> None:
    assert await_(double_later(21)) == 42


def test_await_raises_a_coroutines_exception(aio_hub: Any) -> None:
    async def fail() -> None:
        await asyncio.sleep(0)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        await_(fail())


def test_greenthreads_run_while_a_greenthread_awaits(aio_hub: Any) -> None:
    ticks: list[int] = []

    def ticker() -> None:
        for i in range(3):
            ticks.append(i)
            eventhub.sleep(0.001)

    g = eventhub.spawn(ticker)
    assert await_(double_later(1, 0.05)) == 2
    g.wait()
    assert ticks == [0, 1, 2]


def test_spawn_for_awaitable(aio_hub: Any) -> None:
    g = spawn_for_awaitable(double_later(5))
    assert g.wait() == 10


def test_killing_the_greenthread_cancels_the_coroutine(aio_hub: Any) -> None:
    cancelled = asyncio.Event()
    reached: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
            reached.append("end")
        except asyncio.CancelledError:
            cancelled.set()
            raise

    g = spawn_for_awaitable(forever())
    eventhub.sleep(0.01)
    g.kill()
    assert await_(asyncio.wait_for(cancelled.wait(), 5)) is True
    assert reached == []
    with pytest.raises(GreenletExit):
        g.wait()


def test_timeout_in_await_cancels_and_raises_timeout(aio_hub: Any) -> None:
    task_holder: list[asyncio.Task[Any]] = []

    async def slow() -> None:
        task_holder.append(asyncio.current_task())  # type: ignore[arg-type]
        await asyncio.sleep(60)

    with pytest.raises(eventhub.Timeout):
        with eventhub.Timeout(0.02):
            await_(slow())
    eventhub.sleep(0.01)
    assert task_holder and task_holder[0].cancelled()


def test_coroutine_awaits_a_greenthread(aio_hub: Any) -> None:
    def work(x: int) -> int:
        eventhub.sleep(0.01)
        return x + 1

    async def main() -> int:
        return await eventhub.spawn(work, 41)

    assert await_(main()) == 42


def test_greenthread_exception_crosses_into_the_coroutine(aio_hub: Any) -> None:
    def fail() -> None:
        eventhub.sleep(0)
        raise ValueError("from a greenthread")

    async def main() -> str:
        try:
            await eventhub.spawn(fail)
        except ValueError as e:
            return str(e)
        return "no exception"

    aio_hub.set_timer_exceptions(False)  # the greenthread's error is expected
    assert await_(main()) == "from a greenthread"


def test_cancelling_the_task_kills_the_greenthread(aio_hub: Any) -> None:
    killed: list[bool] = []

    def forever() -> None:
        try:
            eventhub.sleep(60)
        except GreenletExit:
            killed.append(True)
            raise

    gt = eventhub.spawn(forever)

    async def waiter() -> None:
        await gt

    async def main() -> bool:
        task = asyncio.ensure_future(waiter())
        await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert await_(main()) is True
    eventhub.sleep(0.01)
    assert killed == [True] and gt.dead


def test_killed_greenthread_cancels_the_awaiting_coroutine(aio_hub: Any) -> None:
    gt = eventhub.spawn(eventhub.sleep, 60)

    async def main() -> str:
        try:
            await gt
        except asyncio.CancelledError:
            return "cancelled"
        return "returned"

    outcome = spawn_for_awaitable(main())
    eventhub.sleep(0.01)
    gt.kill()
    assert outcome.wait() == "cancelled"


def test_contextvars_do_not_leak_across(aio_hub: Any) -> None:
    seen: list[str] = []

    async def coro() -> None:
        seen.append(var.get())
        var.set("coroutine")
        await asyncio.sleep(0)
        seen.append(var.get())

    def green() -> str:
        var.set("greenthread")
        await_(coro())
        return var.get()

    assert eventhub.spawn(green).wait() == "greenthread"  # the coroutine's set() stayed in its task
    # As asyncio.create_task: the task starts from a copy of its creator's context.
    assert seen == ["greenthread", "coroutine"]
    assert var.get() == "unset"  # nothing leaked into the main greenlet either


def test_await_from_the_loops_greenlet_is_an_error(aio_hub: Any) -> None:
    errors: list[BaseException] = []

    async def misuse() -> None:
        coroutine = double_later(1)
        try:
            await_(coroutine)
        except RuntimeError as e:
            errors.append(e)
        coroutine.close()  # refused, so never awaited

    await_(misuse())
    assert errors and "await_() blocks" in str(errors[0])


def test_bridge_refuses_other_hubs() -> None:
    hubs.use_hub("selects")
    coroutine = double_later(1)
    try:
        with pytest.raises(RuntimeError, match="needs the asyncio hub"):
            await_(coroutine)
    finally:
        coroutine.close()  # refused, so never awaited: close it, as its owner
        hubs.use_hub(None)


def test_hub_adopts_a_running_loop_and_greenthreads_run_on_it(hub_class_aio: Any) -> None:
    """asyncio first: a hub created inside asyncio.run() uses that loop."""
    result: list[Any] = []

    def worker() -> int:
        eventhub.sleep(0.01)
        return 7

    async def main() -> None:
        hubs.use_hub(hub_class_aio)
        hub: Any = hubs.get_hub()  # an asyncio hub: loop, owns_loop
        assert hub.loop is asyncio.get_running_loop()
        assert not hub.owns_loop
        result.append(await eventhub.spawn(worker))
        result.append(await spawn_for_awaitable(double_later(4)))

    def in_thread() -> None:  # a fresh thread: no hub, no loop yet
        try:
            asyncio.run(main())
        except BaseException as e:
            result.append(e)
        finally:
            hubs.use_hub(None)

    t = threading.Thread(target=in_thread)
    t.start()
    t.join(30)
    assert result == [7, 8]


@pytest.fixture(params=[p.values[0][2] for p in ASYNCIO_PARAMS if "uvloop" not in p.id],
                ids=[p.id for p in ASYNCIO_PARAMS if "uvloop" not in p.id])
def hub_class_aio(request: pytest.FixtureRequest) -> Any:
    return request.param


def sleep_then_return(i: int) -> int:
    eventhub.sleep(0.01)
    return i


def test_one_asyncio_hub_per_thread_several_at_once(aio_hub: Any) -> None:
    hub_class = type(aio_hub)
    results: list[Any] = []

    def run() -> None:
        hubs.use_hub(hub_class)
        try:
            gts = [eventhub.spawn(sleep_then_return, i) for i in range(5)]
            results.append((sum(g.wait() for g in gts), await_(double_later(3)), hub_loop()))
        except BaseException as e:
            results.append(e)
        finally:
            hubs.use_hub(None)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r[:2] for r in results] == [(10, 6)] * 3
    assert len({id(r[2]) for r in results}) == 3


def test_call_threadsafe_wakes_the_loop(aio_hub: Any) -> None:
    done: eventhub.Event[str] = eventhub.Event()

    def other_thread() -> None:
        aio_hub.call_threadsafe(done.send, "from a thread")

    threading.Timer(0.02, other_thread).start()
    with eventhub.Timeout(5):
        assert done.wait() == "from a thread"
