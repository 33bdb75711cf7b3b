"""What some tests need from the system rather than from pip, and what a missing piece does.

A test that needs a program (wrk, openssl, redis-server) or a system
library (libevent's runtime) says so with ``@pytest.mark.needs_system(NAME,
...)`` (see conftest.py), or calls ``require(NAME)``.  When the piece is
missing, the test is skipped with the Debian package that provides it, so a
newcomer's run passes and says what it left out.  With
``EVENTHUB_REQUIRE_SYSTEM_PACKAGES`` set (CI's ``.ci/run`` sets it) the test
fails instead: CI cannot pass with such a test quietly not run.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from typing import Callable

import pytest

from eventhub.hubs import pyevent

#: Set (not empty or "0") to fail, not skip, a test whose system package is missing.
STRICT_VARIABLE = "EVENTHUB_REQUIRE_SYSTEM_PACKAGES"


def _program(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


def _library(soname: str) -> Callable[[], bool]:
    def loads() -> bool:
        try:
            ctypes.CDLL(soname)
        except OSError:
            return False
        return True

    return loads


#: name -> (what it is, whether it is present, the Debian package that provides it).
NEEDS: dict[str, tuple[str, Callable[[], bool], str]] = {
    "wrk": ("the HTTP load generator wrk", _program("wrk"), "wrk"),
    "openssl": ("the openssl command", _program("openssl"), "openssl"),
    "redis-server": ("redis-server", _program("redis-server"), "redis-server"),
    "libevent": (f"libevent's runtime library ({pyevent.LIBRARY})", _library(pyevent.LIBRARY), "libevent-core-2.1-7"),
}


def strict() -> bool:
    return os.environ.get(STRICT_VARIABLE, "") not in ("", "0")


def present(name: str) -> bool:
    """Whether the system has ``name`` (a key of ``NEEDS``)."""
    return NEEDS[name][1]()


def require(name: str) -> None:
    """Return if the system has ``name`` (a key of ``NEEDS``); else skip the test, or fail it when strict."""
    if name not in NEEDS:
        raise ValueError(f"unknown system need {name!r}: one of {', '.join(NEEDS)}")
    if present(name):
        return
    what, _, package = NEEDS[name]
    message = f"{what} is missing: apt-get install {package}"
    if strict():
        pytest.fail(f"{message} ({STRICT_VARIABLE} is set)", pytrace=False)
    pytest.skip(message)
