"""The one place that chooses between a compiled extension and pure Python.

``EVENTHUB_NO_EXTENSIONS=1`` (any value but empty or ``0``) forces the
pure-Python variant everywhere; otherwise a compiled module is used when it
imports.  One that is installed but fails to import (built for another
Python, a missing symbol) is never passed over in silence: a
``RuntimeWarning`` names it, and ``IMPORT_ERRORS`` keeps the error for
``python -m eventhub`` and the hubs' "unavailable" messages.
"""

from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType
from typing import Any

NO_EXTENSIONS: bool = os.environ.get("EVENTHUB_NO_EXTENSIONS", "") not in ("", "0")


#: Compiled modules that are installed but did not import: full name -> the error.
IMPORT_ERRORS: dict[str, str] = {}


def load_compiled(name: str, package: str = "eventhub.hubs") -> ModuleType | None:
    """Import the extension ``<package>.<name>``, or None if unbuilt, disabled or broken."""
    if NO_EXTENSIONS:
        return None
    full_name = f"{package}.{name}"
    try:
        return importlib.import_module(full_name)
    except ModuleNotFoundError as e:
        if e.name == full_name:
            return None  # not built: the pure variant is the expected one
        error: ImportError = e
    except ImportError as e:
        error = e
    if full_name not in IMPORT_ERRORS:
        IMPORT_ERRORS[full_name] = f"{type(error).__name__}: {error}"
        warnings.warn(
            f"eventhub: {full_name} is installed but does not import ({IMPORT_ERRORS[full_name]}); "
            "its pure-Python twin is used instead",
            RuntimeWarning,
            stacklevel=2,
        )
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
