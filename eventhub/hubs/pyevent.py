"""The pyevent hub: libevent 2.1's ``event_base``, opt-in only.

Never chosen by default; select it with ``use_hub("pyevent")`` or
``EVENTHUB_HUB=pyevent``.  There is only a compiled variant (libevent is a C
library): ``PureHub`` is None, and without the ``_pyevent`` extension (built
when libevent 2.1's runtime library, ``libevent_core-2.1.so.7``, is present)
the hub is unavailable.
"""

from __future__ import annotations

import ctypes
from typing import Any

from eventhub.hubs._variant import IMPORT_ERRORS, NO_EXTENSIONS, choose_hub

#: The shared library the extension links against, and how to get it.
LIBRARY = "libevent_core-2.1.so.7"
INSTALL_HINT = "Debian/Ubuntu: apt-get install libevent-core-2.1-7"

PureHub: Any = None
#: The compiled hub (None when unbuilt, disabled or without libevent), the
#: hub this backend offers (the same: there is no pure one), and which
#: variant that is: "compiled" or "unavailable".
CompiledHub, Hub, VARIANT = choose_hub("_pyevent", PureHub)


def is_available() -> bool:
    """True when the libevent extension was built and imports."""
    return Hub is not None


def _library_loads() -> bool:
    """Whether the dynamic loader finds libevent.  A dlopen, not ctypes'
    find_library, which runs ldconfig in a subprocess: this is also asked
    while eventlet's monkey-patching is in force (eventhub.eventlet)."""
    try:
        ctypes.CDLL(LIBRARY)
    except OSError:
        return False
    return True


def _why_unavailable() -> str:
    if NO_EXTENSIONS:
        return "EVENTHUB_NO_EXTENSIONS is set and pyevent exists only compiled"
    broken = IMPORT_ERRORS.get(f"{__package__}._pyevent")
    if broken is not None:
        return f"the libevent extension (eventhub.hubs._pyevent) is installed but does not import: {broken}"
    if not _library_loads():
        return f"libevent 2.1 was not found ({LIBRARY}); install it ({INSTALL_HINT}), then reinstall eventhub"
    return (
        f"the libevent extension (eventhub.hubs._pyevent) was not built; "
        f"libevent 2.1 is present: reinstall eventhub with a C compiler and Cython ({INSTALL_HINT})"
    )
