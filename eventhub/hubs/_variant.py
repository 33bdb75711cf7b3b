"""The one place that chooses between a compiled extension and pure Python.

``EVENTHUB_NO_EXTENSIONS=1`` (any value but empty or ``0``) forces the
pure-Python variant everywhere; otherwise a compiled module is used when it
imports.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

NO_EXTENSIONS: bool = os.environ.get("EVENTHUB_NO_EXTENSIONS", "") not in ("", "0")


def load_compiled(name: str, package: str = "eventhub.hubs") -> ModuleType | None:
    """Import the extension ``<package>.<name>``, or None if unbuilt/disabled."""
    if NO_EXTENSIONS:
        return None
    try:
        return importlib.import_module(f"{package}.{name}")
    except ImportError:
        return None


def variant_of(hub: Any) -> str:
    """``"compiled"`` for a compiled hub class or instance, ``"pure"`` for another, ``"unavailable"`` for None."""
    if hub is None:
        return "unavailable"
    hub_class = hub if isinstance(hub, type) else type(hub)
    core = load_compiled("_core")
    if core is not None and issubclass(hub_class, core.BaseHub):
        return "compiled"
    return "pure"
