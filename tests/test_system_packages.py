"""A test that needs a missing system package is skipped naming the Debian package, or failed when CI requires it."""

from __future__ import annotations

import pytest
import system_packages


@pytest.fixture
def missing_tool(monkeypatch: pytest.MonkeyPatch) -> str:
    """A system need that is never present here."""
    monkeypatch.setitem(system_packages.NEEDS, "made-up", ("the made-up tool", lambda: False, "made-up-pkg"))
    return "made-up"


def test_a_missing_package_skips_the_test_naming_it(missing_tool: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(system_packages.STRICT_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="the made-up tool is missing: apt-get install made-up-pkg"):
        system_packages.require(missing_tool)


@pytest.mark.parametrize("value", ["1", "yes"])
def test_a_missing_package_fails_the_test_when_required(
    missing_tool: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(system_packages.STRICT_VARIABLE, value)
    with pytest.raises(pytest.fail.Exception, match="apt-get install made-up-pkg.*EVENTHUB_REQUIRE_SYSTEM_PACKAGES"):
        system_packages.require(missing_tool)


def test_a_present_package_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(system_packages.STRICT_VARIABLE, "1")
    monkeypatch.setitem(system_packages.NEEDS, "here", ("a tool", lambda: True, "tool-pkg"))
    system_packages.require("here")  # neither skips nor fails


def test_an_unknown_need_is_a_mistake_in_the_test() -> None:
    with pytest.raises(ValueError, match="unknown system need 'wkr'"):
        system_packages.require("wkr")


def test_every_program_need_is_looked_up_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    for name in ("wrk", "openssl", "redis-server"):
        assert system_packages.present(name) is False

