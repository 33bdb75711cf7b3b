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


def load_compiled(name: str, package: str = "eventhub.hubs", *, caller_depth: int = 1) -> ModuleType | None:
    """Import the extension ``<package>.<name>``, or None if unbuilt, disabled or broken.

    The warning for a broken one points ``caller_depth`` frames up from here:
    at the module whose import asked for it.
    """
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
            stacklevel=1 + caller_depth,
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


def choose_hub(compiled_name: str, pure_hub: Any) -> tuple[Any, Any, str]:
    """A backend module's ``CompiledHub``, ``Hub`` and ``VARIANT``, chosen at its import.

    ``CompiledHub`` is the ``Hub`` of the extension ``eventhub.hubs.<compiled_name>``
    (None when it is not built, disabled or broken); ``Hub`` is that, else
    ``pure_hub`` (None for a backend with no pure variant); ``VARIANT`` says
    which: "compiled", "pure" or "unavailable".
    """
    compiled_module = load_compiled(compiled_name, caller_depth=2)
    compiled_hub = compiled_module.Hub if compiled_module is not None else None
    hub = compiled_hub if compiled_hub is not None else pure_hub
    return compiled_hub, hub, variant_of(hub)
