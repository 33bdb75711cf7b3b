"""``eventhub-run``: any eventlet program on eventhub's hubs, with no change to its code.

``eventhub-run COMMAND [ARGS...]`` (or ``python -m eventhub.run``) runs
COMMAND with ``PYTHONPATH`` starting with ``BOOTSTRAP_DIR`` and
``EVENTHUB_RUN=1``.  Every Python process started that way (COMMAND
itself, and the programs it starts with ``sys.executable``) runs the
``sitecustomize`` found there at startup; it waits for ``eventlet`` to be
imported and then applies ``eventhub.run.patch``.  Forked children inherit
the patched eventlet.  The constants below name the environment variables
the launcher sets and the processes under it read; ``docs/apps.md`` says
more.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["BOOTSTRAP_DIR", "ENABLE_ENV", "FAIR_QUEUES_ENV", "FAST_IO_ENV", "REPORT_ENV", "switch_wanted"]

#: The directory the launcher puts first on PYTHONPATH: it holds only ``sitecustomize.py``.
#: Its name contains "importlib" and "_bootstrap", as importlib's own files do: the
#: warnings module then skips its frames as import machinery, so a warning eventlet
#: issues at import is attributed to the importing line, as without the launcher.
BOOTSTRAP_DIR = Path(__file__).resolve().parent / "importlib_bootstrap"

#: "1": the bootstrap patches eventlet in this process (any other value: it does nothing).
ENABLE_ENV = "EVENTHUB_RUN"
#: "0": eventlet's queues are left unfair; "1" (the launcher's default): made fair.
FAIR_QUEUES_ENV = "EVENTHUB_RUN_FAIR_QUEUES"
#: "0": eventlet's green sockets and websocket masking are left as they are; "1" (the
#: launcher's default): the compiled socket methods and the whole-frame unmasking are put in.
FAST_IO_ENV = "EVENTHUB_RUN_FAST_IO"
#: A file each process appends a line to for each eventlet hub it creates or inherits (eventhub.run.report).
REPORT_ENV = "EVENTHUB_RUN_REPORT"


def switch_wanted(variable: str, environ: Mapping[str, str]) -> bool:
    """What the on/off switch ``variable`` (``FAIR_QUEUES_ENV``, ``FAST_IO_ENV``) asks for in ``environ``: on unless "0".

    Raises ValueError, naming the variable, for a value other than "0", "1", empty or unset.
    """
    value = environ.get(variable)
    if value in (None, "", "1"):
        return True
    if value == "0":
        return False
    raise ValueError(f"{variable} must be 0 or 1, not {value!r}")
