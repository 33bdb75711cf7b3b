"""The compiled Timeout (eventhub/_timeout.pyx) and the pure one behave alike."""

from __future__ import annotations

from typing import Any

import pytest

from eventhub import sleep, timeout

TIMEOUTS = [pytest.param(timeout.PureTimeout, id="pure", marks=pytest.mark.pure)]
if timeout.CompiledTimeout is not None:
    TIMEOUTS.append(pytest.param(timeout.CompiledTimeout, id="compiled", marks=pytest.mark.compiled))


@pytest.fixture(params=TIMEOUTS)
def T(request: pytest.FixtureRequest, hub: Any) -> Any:
    return request.param


def test_fires_and_is_the_exception(T: Any) -> None:
    with pytest.raises(T) as info:
        with T(0.001) as t:
            sleep(1)
    assert info.value is t
    assert not t.pending
    assert isinstance(t, BaseException) and not isinstance(t, Exception)


def test_cancel_and_pending(T: Any) -> None:
    t = T(10)
    assert t.pending and t.timer is not None
    t.cancel()
    assert not t.pending and t.timer is None
    t.cancel()
    with pytest.raises(RuntimeError):
        t.start()
        t.start()
    t.cancel()


def test_exception_variants(T: Any) -> None:
    with pytest.raises(ValueError):
        with T(0.001, ValueError):
            sleep(1)
    err = KeyError("k")
    with pytest.raises(KeyError) as info:
        with T(0.001, err):
            sleep(1)
    assert info.value is err
    with T(0.001, False) as t:
        sleep(1)
    assert not t.pending


def test_none_never_fires(T: Any) -> None:
    with T(None) as t:
        sleep(0.002)
    assert t.timer is None and str(t) == ""


def test_text(T: Any) -> None:
    t = T(1)
    assert str(t) == "1 second" and "pending" in repr(t) and t.args == (1,)
    t.cancel()
    t = T(2, ValueError("x"))
    assert str(t) == "2 seconds (x)" and t.args == (2, t.exception)
    t.cancel()
    assert repr(t) == f"<Timeout seconds=2 exception={t.exception!r}>"


def test_subclass_and_attributes(T: Any) -> None:
    class Mine(T):  # type: ignore[misc]
        pass

    t = Mine(10)
    t.extra = 1
    assert t.extra == 1 and t.pending
    t.cancel()


def test_subclass_start_override_runs_at_construction(T: Any) -> None:
    started: list[Any] = []

    class Logged(T):  # type: ignore[misc]
        def start(self) -> Any:
            started.append(self)
            return super().start()

    t = Logged(10)
    assert started == [t] and t.pending
    t.cancel()
    assert not t.pending
