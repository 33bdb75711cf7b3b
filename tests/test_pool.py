"""eventhub.GreenPool: bounded concurrency and ordered maps.

On every hub, with the compiled and the pure semaphore it counts with
(``toolkit_variant``) and greenthreads (``greenthread_variant``).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

import eventhub
from eventhub import GreenPool, Timeout, sleep, spawn

SLOW = 10


@pytest.fixture
def variants(hub: Any, toolkit_variant: str, greenthread_variant: str) -> None:
    """Every hub, with both toolkit and both greenthread variants."""


class Gauge:
    """Counts calls in flight and the most there ever were."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def call(self, x: int, pause: float = 0.001) -> int:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            sleep(pause)
            return x * x
        finally:
            self.now -= 1


def test_spawn_waits_while_the_pool_is_full(variants: None) -> None:
    gate: eventhub.Event[None] = eventhub.Event()
    pool = GreenPool(2)
    assert pool.size == 2 and pool.free() == 2 and pool.running() == 0
    first = pool.spawn(gate.wait)
    second = pool.spawn(sleep, 0.001)
    assert pool.free() == 0 and pool.running() == 2
    spawned: list[eventhub.GreenThread[str]] = []

    def third() -> str:
        return "third"

    waiting = spawn(lambda: spawned.append(pool.spawn(third)))
    sleep(0)
    assert not spawned and not waiting.dead  # no room yet
    with Timeout(SLOW):
        second.wait()  # its end makes room
        waiting.wait()
        assert spawned[0].wait() == "third"
        gate.send(None)
        first.wait()
    pool.waitall()
    assert pool.running() == 0 and pool.free() == 2


def test_spawners_get_room_in_the_order_they_came(variants: None) -> None:
    pool = GreenPool(1)
    order: list[int] = []
    pool.spawn(sleep, 0.005)

    def spawner(i: int) -> None:
        pool.spawn(order.append, i)

    spawners = [spawn(spawner, i) for i in range(8)]
    with Timeout(SLOW):
        for s in spawners:
            s.wait()
        pool.waitall()
    assert order == list(range(8))


def test_spawn_returns_the_greenthread(variants: None) -> None:
    pool = GreenPool()
    gt = pool.spawn(divmod, 7, 2)
    assert isinstance(gt, eventhub.GreenThread)
    assert gt.wait() == (3, 1)

    def keyword_only(*, x: int) -> int:
        return x + 1

    assert pool.spawn(keyword_only, x=1).wait() == 2


def test_imap_gives_results_in_order_with_bounded_concurrency(variants: None) -> None:
    pool = GreenPool(4)
    gauge = Gauge()
    results = list(pool.imap(gauge.call, range(40)))
    assert results == [x * x for x in range(40)]
    assert gauge.most == 4


def test_imap_keeps_at_most_size_calls_ahead_of_its_consumer(variants: None) -> None:
    pool = GreenPool(3)
    started: list[int] = []

    def record(x: int) -> int:
        started.append(x)
        return x

    it = pool.imap(record, range(100))
    assert started == []  # nothing runs before the first next()
    consumed = []
    for x in it:
        consumed.append(x)
        sleep(0.001)  # a slow consumer: the calls must not run ahead unbounded
        assert len(started) - len(consumed) <= 3
        if len(consumed) == 10:
            break
    assert consumed == list(range(10))
    pool.waitall()
    assert len(started) <= 13


def test_imap_with_several_iterables_stops_at_the_shortest(variants: None) -> None:
    pool = GreenPool(5)
    assert list(pool.imap(pow, [2, 3, 4], [3, 2, 1, 0])) == [8, 9, 4]
    assert list(pool.imap(lambda a, b, c: a + b + c, "ab", "cd", "ef")) == ["ace", "bdf"]
    assert list(pool.imap(abs, [])) == []


def test_imap_raises_a_calls_exception_at_its_turn(variants: None) -> None:
    pool = GreenPool(4)

    def maybe(x: int) -> int:
        if x == 5:
            raise KeyError(x)
        return x

    got: list[int] = []
    with pytest.raises(KeyError) as info:
        for x in pool.imap(maybe, range(10)):
            got.append(x)
    assert got == [0, 1, 2, 3, 4]
    assert any(entry.name == "maybe" for entry in info.traceback)  # the call's own traceback
    with Timeout(SLOW):
        pool.waitall()


def test_imap_exception_is_not_printed_as_a_lost_one(variants: None, capsys: pytest.CaptureFixture[str]) -> None:
    pool = GreenPool(2)
    with pytest.raises(ValueError):
        list(pool.imap(int, ["1", "x"]))
    pool.waitall()
    assert "Traceback" not in capsys.readouterr().err


def test_starmap(variants: None) -> None:
    pool = GreenPool(3)
    assert list(pool.starmap(pow, [(2, 5), (3, 2), [10, 0]])) == [32, 9, 1]
    assert list(pool.starmap(max, iter([(1, 9, 3)]))) == [9]


def test_spawn_n_reports_exceptions(variants: None, capsys: pytest.CaptureFixture[str]) -> None:
    pool = GreenPool()

    def fail() -> None:
        raise ZeroDivisionError("work that failed")

    assert pool.spawn_n(fail) is None  # type: ignore[func-returns-value]
    with Timeout(SLOW):
        pool.waitall()
    err = capsys.readouterr().err
    assert re.search(r"Traceback.*ZeroDivisionError: work that failed", err, re.S), err
    assert pool.running() == 0 and pool.free() == pool.size


def test_waitall_waits_for_every_greenthread_even_new_ones(variants: None) -> None:
    pool = GreenPool(10)
    done: list[int] = []

    def late() -> None:
        sleep(0.01)
        done.append(99)

    def work(i: int) -> None:
        sleep(0.002 * i)
        done.append(i)
        if i == 1:
            pool.spawn(late)

    for i in range(4):
        pool.spawn(work, i)
    with Timeout(SLOW):
        pool.waitall()
    assert sorted(done) == [0, 1, 2, 3, 99]
    pool.waitall()  # nothing running: returns at once


def test_waitall_from_inside_the_pool_is_refused(variants: None) -> None:
    pool = GreenPool(2)
    gt = pool.spawn(pool.waitall)
    with pytest.raises(RuntimeError, match="itself"):
        gt.wait()


def test_resize(variants: None) -> None:
    gate: eventhub.Event[None] = eventhub.Event()  # what the pool's greenthreads wait for
    pool = GreenPool(1)
    pool.spawn(gate.wait)
    waiting = [spawn(pool.spawn, gate.wait) for _ in range(3)]
    sleep(0)
    assert pool.running() == 1
    pool.resize(3)  # room for two of the waiting spawners at once
    sleep(0)
    assert pool.running() == 3 and pool.size == 3
    assert [w.dead for w in waiting] == [True, True, False]
    pool.resize(1)  # kills nothing: the three run on, and spawns wait until none runs
    assert pool.free() == 0 and pool.running() == 3
    gate.send(None)
    with Timeout(SLOW):
        for w in waiting:
            w.wait()
        pool.waitall()
    assert pool.free() == 1
    pool.resize(0)
    assert pool.free() == 0
    blocked = spawn(pool.spawn, lambda: None)
    sleep(0.005)
    assert not blocked.dead
    pool.resize(1)
    with Timeout(SLOW):
        blocked.wait()


def test_a_pool_in_a_pool(variants: None) -> None:
    outer = GreenPool(3)
    inner = GreenPool(2)
    gauge = Gauge()

    def fan_out(n: int) -> int:
        return sum(inner.imap(gauge.call, range(n)))

    assert list(outer.imap(fan_out, [3, 4, 5])) == [5, 14, 30]
    assert gauge.most <= 2


def test_bad_arguments(hub: Any, toolkit_variant: str) -> None:
    with pytest.raises(ValueError, match="at least 0"):
        GreenPool(-1)
    for bad in ("10", 2.5, True):
        with pytest.raises(TypeError, match="size"):
            GreenPool(bad)  # type: ignore[arg-type]
    pool = GreenPool(2)
    with pytest.raises(TypeError, match="callable"):
        pool.imap(3, [1])  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="iterable"):
        pool.imap(abs)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="callable"):
        pool.starmap(None, [()])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        pool.spawn(7)  # type: ignore[arg-type]
    assert pool.free() == 2  # the refused spawn gave its slot back
    with pytest.raises(ValueError, match="at least 0"):
        pool.resize(-3)
    assert pool.size == 2
    assert "size=2" in repr(pool)


def test_imap_is_an_iterator(variants: None) -> None:
    it: Iterator[int] = GreenPool(2).imap(abs, [-1, -2])
    assert iter(it) is it
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(StopIteration):
        next(it)
