"""The pyevent hub: libevent 2.x's ``event_base``, opt-in only.

Never chosen by default; select it with ``use_hub("pyevent")`` or
``EVENTHUB_HUB=pyevent``.
"""

from __future__ import annotations

from typing import Any

from eventhub.hubs._variant import NO_EXTENSIONS, load_compiled, variant_of

_compiled: Any = load_compiled("_libevent")
CompiledHub: Any = _compiled.Hub if _compiled is not None else None
PureHub: Any = None
Hub: Any = CompiledHub


def is_available() -> bool:
    """True when the libevent extension was built and imports."""
    return Hub is not None


def _why_unavailable() -> str:
    if NO_EXTENSIONS:
        return "EVENTHUB_NO_EXTENSIONS is set and pyevent exists only compiled"
    return (
        "the libevent extension was not built or libevent 2.1 was not found; "
        "install it (Debian: apt-get install libevent-2.1-7) and reinstall eventhub"
    )
#: Which variant ``Hub`` is: "compiled", "pure", or "unavailable".
VARIANT: str = variant_of(Hub)
