"""eventhub.Semaphore, BoundedSemaphore, Lock and Condition: threading's API for greenthreads.

On every hub, with the compiled and the pure classes (``toolkit_variant``).
Fairness is in test_toolkit_fairness.py, other threads in test_toolkit_threads.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import eventhub
from eventhub import GreenletExit, Timeout, sleep, spawn

SLOW = 10


def test_semaphore_counts_permits(hub: Any, toolkit_variant: str) -> None:
    sem = eventhub.Semaphore(2)
    assert sem.acquire() and sem.acquire(blocking=False)
    assert sem.locked()
    assert not sem.acquire(blocking=False)
    assert not sem.acquire(timeout=0)
    sem.release(2)
    assert not sem.locked()
    with sem as entered:
        assert entered is True
        with sem:
            assert sem.locked()
    assert sem.acquire(timeout=0.01) and sem.acquire(timeout=-1)  # -1: no limit, as threading.Lock
    sem.release()
    sem.release()
    sem.release()  # an unbounded semaphore may grow past its start
    assert sem.acquire(blocking=False) and sem.acquire(blocking=False) and sem.acquire(blocking=False)
    assert not sem.acquire(blocking=False)


def test_semaphore_waiters_get_permits_in_order(hub: Any, toolkit_variant: str) -> None:
    sem = eventhub.Semaphore(0)
    order: list[int] = []

    def waiter(i: int) -> None:
        sem.acquire()
        order.append(i)

    threads = [spawn(waiter, i) for i in range(10)]
    sleep(0)
    for _ in range(10):
        sem.release()
        sleep(0)
    with Timeout(SLOW):
        for t in threads:
            t.wait()
    assert order == list(range(10))


def test_release_of_several_permits_serves_several_waiters(hub: Any, toolkit_variant: str) -> None:
    sem = eventhub.Semaphore(0)
    threads = [spawn(sem.acquire) for _ in range(3)]
    sleep(0)
    sem.release(2)
    sleep(0)
    assert [t.dead for t in threads] == [True, True, False]
    sem.release()
    with Timeout(SLOW):
        threads[2].wait()
    assert sem.locked()


def test_acquire_times_out_and_leaves_the_line(hub: Any, toolkit_variant: str) -> None:
    sem = eventhub.Semaphore(0)
    start = time.monotonic()
    assert sem.acquire(timeout=0.03) is False
    assert time.monotonic() - start >= 0.02
    impatient = spawn(sem.acquire, timeout=0.01)
    patient = spawn(sem.acquire)
    assert impatient.wait() is False
    sem.release()  # to the one still waiting
    with Timeout(SLOW):
        assert patient.wait() is True
    assert sem.locked()


def test_a_killed_waiter_passes_its_permit_on(hub: Any, toolkit_variant: str) -> None:
    sem = eventhub.Semaphore(0)
    doomed = spawn(sem.acquire)
    other = spawn(sem.acquire)
    sleep(0)
    sem.release()  # handed to doomed, whose wake-up is scheduled...
    doomed.kill()  # ...and which dies first
    with Timeout(SLOW):
        assert other.wait() is True
    with pytest.raises(GreenletExit):
        doomed.wait()
    assert sem.locked()
    lone = spawn(sem.acquire)
    sleep(0)
    sem.release()
    lone.kill()
    assert sem.acquire(blocking=False)  # nobody left: the permit came back


def test_bounded_semaphore_refuses_extra_releases(hub: Any, toolkit_variant: str) -> None:
    sem = eventhub.BoundedSemaphore(2)
    with pytest.raises(ValueError, match="too many"):
        sem.release()
    sem.acquire()
    sem.acquire()
    with pytest.raises(ValueError, match="too many"):
        sem.release(3)
    sem.release(2)
    assert sem.acquire(blocking=False)
    assert isinstance(sem, eventhub.Semaphore)


def test_lock_belongs_to_its_greenthread(hub: Any, toolkit_variant: str) -> None:
    lock = eventhub.Lock()
    assert not lock.locked()
    with pytest.raises(RuntimeError, match="unlocked"):
        lock.release()
    assert lock.acquire()
    assert lock.locked()
    assert lock.acquire(blocking=False) is False
    with pytest.raises(RuntimeError, match="wait forever"):
        lock.acquire()
    with pytest.raises(RuntimeError, match="wait forever"):
        lock.acquire(timeout=0.01)

    def intruder() -> str:
        try:
            lock.release()
        except RuntimeError as e:
            return str(e)
        return "released"

    assert "another greenthread" in spawn(intruder).wait()
    assert lock.locked()
    lock.release()
    assert not lock.locked()


def test_lock_waiters_in_order_and_with_statement(hub: Any, toolkit_variant: str) -> None:
    lock = eventhub.Lock()
    order: list[int] = []

    def worker(i: int) -> None:
        with lock:
            order.append(i)
            sleep(0)
            order.append(i)

    with Timeout(SLOW):
        threads = [spawn(worker, i) for i in range(5)]
        for t in threads:
            t.wait()
    assert order == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]  # never two inside at once, and in turn
    assert not lock.locked()


def test_lock_acquire_timeout(hub: Any, toolkit_variant: str) -> None:
    lock = eventhub.Lock()

    def hold() -> None:
        with lock:
            sleep(0.05)

    holder = spawn(hold)
    sleep(0)
    assert spawn(lock.acquire, timeout=0.01).wait() is False
    with Timeout(SLOW):
        assert spawn(lock.acquire, timeout=5).wait() is True
        holder.wait()


def test_condition_wait_and_notify(hub: Any, toolkit_variant: str) -> None:
    cond = eventhub.Condition()
    woken: list[int] = []

    def waiter(i: int) -> None:
        with cond:
            assert cond.wait() is True
            woken.append(i)

    threads = [spawn(waiter, i) for i in range(4)]
    sleep(0)
    with cond:
        cond.notify()
    sleep(0)
    assert woken == [0]
    with cond:
        cond.notify(2)
    sleep(0)
    assert woken == [0, 1, 2]
    with cond:
        cond.notify_all()
    with Timeout(SLOW):
        for t in threads:
            t.wait()
    assert woken == [0, 1, 2, 3]


def test_condition_wait_timeout_holds_the_lock_again(hub: Any, toolkit_variant: str) -> None:
    lock = eventhub.Lock()
    cond = eventhub.Condition(lock)
    with cond:
        assert cond.wait(0.01) is False
        assert lock.locked() and lock._is_owned()
    assert not lock.locked()


def test_condition_wait_for(hub: Any, toolkit_variant: str) -> None:
    cond = eventhub.Condition()
    state = {"ready": 0}

    def setter() -> None:
        for _ in range(3):
            sleep(0.001)
            with cond:
                state["ready"] += 1
                cond.notify_all()

    spawn(setter)
    with cond:
        assert cond.wait_for(lambda: state["ready"] >= 3, timeout=SLOW) is True
        assert cond.wait_for(lambda: state["ready"] >= 99, timeout=0.01) is False


def test_condition_needs_its_lock_held(hub: Any, toolkit_variant: str) -> None:
    cond = eventhub.Condition()
    with pytest.raises(RuntimeError, match="does not hold"):
        cond.wait(0.01)
    with pytest.raises(RuntimeError, match="does not hold"):
        cond.notify()
    with pytest.raises(TypeError, match="Lock"):
        eventhub.Condition(eventhub.Semaphore())  # type: ignore[arg-type]


def test_condition_notify_reaches_a_waiter_released_just_before(hub: Any, toolkit_variant: str) -> None:
    """A notify() made the moment wait() released the lock reaches the waiter."""
    cond = eventhub.Condition()
    got: list[bool] = []

    def waiter() -> None:
        with cond:
            got.append(cond.wait(SLOW))

    def notifier() -> None:
        with cond:  # granted the lock by the waiter's release
            cond.notify()

    with cond:
        w = spawn(waiter)
        n = spawn(notifier)
        sleep(0)  # both now wait for the lock: waiter first
    with Timeout(SLOW):
        w.wait()
        n.wait()
    assert got == [True]


def test_bad_arguments(hub: Any, toolkit_variant: str) -> None:
    with pytest.raises(ValueError, match="at least 0"):
        eventhub.Semaphore(-1)
    for bad in ("1", 1.0, None, True):
        with pytest.raises(TypeError, match="value"):
            eventhub.Semaphore(bad)  # type: ignore[arg-type]
    sem = eventhub.Semaphore(1)
    with pytest.raises(ValueError, match="non-blocking"):
        sem.acquire(False, timeout=1)
    with pytest.raises(ValueError, match="negative"):
        sem.acquire(timeout=-2)
    with pytest.raises(ValueError, match="at least 1"):
        sem.release(0)
    with pytest.raises(TypeError, match="n must"):
        sem.release(1.0)  # type: ignore[arg-type]
    assert sem.acquire(blocking=False)  # none of the refused calls changed the count
    assert not sem.acquire(blocking=False)
    with pytest.raises(ValueError, match="at least 0"):
        eventhub.BoundedSemaphore(-1)
    with pytest.raises(ValueError, match="non-blocking"):
        eventhub.Lock().acquire(False, 0.5)


def test_the_variant_in_use(toolkit_variant: str) -> None:
    module = "eventhub._locks" if toolkit_variant == "compiled" else "eventhub.locks"
    for cls in (eventhub.Semaphore, eventhub.BoundedSemaphore, eventhub.Lock):
        assert cls.__module__ == module
    assert "value=3" in repr(eventhub.Semaphore(3))
