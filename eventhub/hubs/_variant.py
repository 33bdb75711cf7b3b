"""The one place that chooses between a compiled extension and pure Python.

``EVENTHUB_NO_EXTENSIONS=1`` (any value but empty or ``0``) forces the
pure-Python variant everywhere; otherwise a compiled module is used when it
imports.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

NO_EXTENSIONS: bool = os.environ.get("EVENTHUB_NO_EXTENSIONS", "") not in ("", "0")


def load_compiled(name: str) -> ModuleType | None:
    """Import the extension ``eventhub.hubs.<name>``, or None if unbuilt/disabled."""
    if NO_EXTENSIONS:
        return None
    try:
        return importlib.import_module(f"eventhub.hubs.{name}")
    except ImportError:
        return None
