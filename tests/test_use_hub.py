"""Choosing hubs: use_hub in all its forms, EVENTHUB_HUB, defaults, errors."""

from __future__ import annotations

import sys
from typing import Any, Iterator

import pytest
from conftest import RunPython

import eventhub
from eventhub import hubs
from eventhub.hubs import HubError, epolls, poll, pyevent, selects


@pytest.fixture(autouse=True)
def restore_default_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("EVENTHUB_HUB", raising=False)
    yield
    monkeypatch.delenv("EVENTHUB_HUB", raising=False)
    hubs.use_hub()


def test_default_hub_is_first_available_of_epolls_poll_selects() -> None:
    expected = next(m for m in (epolls, poll, selects) if m.is_available())
    assert hubs.get_default_hub() is expected
    hubs.use_hub()
    assert type(hubs.get_hub()) is expected.Hub


@pytest.mark.parametrize("name", ["epolls", "poll", "selects"])
def test_use_hub_by_short_name(name: str) -> None:
    module = {"epolls": epolls, "poll": poll, "selects": selects}[name]
    hubs.use_hub(name)
    assert type(hubs.get_hub()) is module.Hub


def test_use_hub_by_module_path_and_class_path() -> None:
    hubs.use_hub("eventhub.hubs.poll")
    assert type(hubs.get_hub()) is poll.Hub
    hubs.use_hub("eventhub.hubs.selects:PureHub")
    assert type(hubs.get_hub()) is selects.PureHub


def test_use_hub_by_module_object_and_class() -> None:
    hubs.use_hub(selects)
    assert type(hubs.get_hub()) is selects.Hub
    hubs.use_hub(poll.PureHub)
    assert type(hubs.get_hub()) is poll.PureHub


def test_use_hub_none_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTHUB_HUB", "selects")
    hubs.use_hub()
    assert type(hubs.get_hub()) is selects.Hub
    monkeypatch.setenv("EVENTHUB_HUB", "eventhub.hubs.poll:PureHub")
    hubs.use_hub(None)
    assert type(hubs.get_hub()) is poll.PureHub


def test_environment_variable_chooses_hub_of_a_fresh_process(run_python: RunPython) -> None:
    code = "from eventhub import hubs; print(type(hubs.get_hub()).__module__)"
    out = run_python(["-c", code], env={"EVENTHUB_HUB": "selects"})
    assert out.stdout.strip() == selects.Hub.__module__


def test_bad_environment_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTHUB_HUB", "nosuchhub")
    with pytest.raises(HubError, match="nosuchhub"):
        hubs.use_hub()


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(HubError) as info:
        hubs.use_hub("kqueue")
    message = str(info.value)
    for name in hubs.BUILTIN_HUBS:
        assert name in message


def test_empty_string_is_an_error_not_the_default() -> None:
    with pytest.raises(HubError):
        hubs.use_hub("")


@pytest.mark.parametrize("spec", ["no_such_module.sub", "eventhub.hubs.nosuch", "eventhub.hubs.poll:NoSuchClass", "os:"])
def test_unimportable_hub_is_a_hub_error(spec: str) -> None:
    with pytest.raises(HubError):
        hubs.use_hub(spec)


def test_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        hubs.use_hub(3)  # type: ignore[arg-type]


def test_unavailable_hub_says_which_and_why() -> None:
    if pyevent.is_available():
        unavailable: Any = type(sys)("fake_backend")
        unavailable.is_available = lambda: False
        unavailable._why_unavailable = lambda: "no such kernel feature"
        unavailable.Hub = poll.PureHub
        with pytest.raises(HubError, match="fake_backend.*no such kernel feature"):
            hubs.use_hub(unavailable)
    else:
        with pytest.raises(HubError, match="pyevent.*(libevent|EVENTHUB_NO_EXTENSIONS)"):
            hubs.use_hub("pyevent")


def test_pyevent_is_never_the_default() -> None:
    assert "pyevent" not in hubs.DEFAULT_ORDER
    assert hubs.get_default_hub() is not pyevent


def test_use_hub_drops_the_old_hub_with_its_timers() -> None:
    hubs.use_hub("selects")
    old = hubs.get_hub()
    fired: list[int] = []
    old.schedule_call_global(0, fired.append, 1)
    hubs.use_hub("poll")
    new = hubs.get_hub()
    assert new is not old
    assert new.get_timers_count() == 0
    eventhub.sleep(0.01)
    assert fired == []


def test_get_hub_returns_the_same_hub_until_use_hub() -> None:
    assert hubs.get_hub() is hubs.get_hub()


def test_third_party_hub_module(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_pkg").mkdir()
    (tmp_path / "my_pkg" / "__init__.py").write_text("")
    (tmp_path / "my_pkg" / "my_hubs.py").write_text(
        "from eventhub.hubs.selects import PureHub\n"
        "def is_available():\n    return True\n"
        "class Hub(PureHub):\n    custom = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    hubs.use_hub("my_pkg.my_hubs")
    assert getattr(hubs.get_hub(), "custom", False)
    hubs.use_hub("my_pkg.my_hubs:Hub")
    assert getattr(hubs.get_hub(), "custom", False)
    eventhub.sleep(0)
