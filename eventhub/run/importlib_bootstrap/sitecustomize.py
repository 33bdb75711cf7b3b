"""eventhub-run's bootstrap: Python runs this at startup in every process under the launcher.

``eventhub-run`` puts this file's directory first on ``PYTHONPATH`` and sets
``EVENTHUB_RUN=1``; Python's ``site`` module imports ``sitecustomize`` from
the path at startup, so every Python the program starts with the same
environment runs it too (``sys.executable``, ``multiprocessing``'s spawned
children, console scripts), unless started with ``-S``, ``-E`` or ``-I``.

It imports nothing of eventhub or eventlet: it adds a finder to
``sys.meta_path`` that lets ``import eventlet`` proceed as usual and, as
soon as eventlet's package has loaded, applies ``eventhub.run.patch``, before
the importing code gets eventlet back.  Then it runs the ``sitecustomize``
this one hides, if the rest of the path has one.  (Its directory's name
makes the warnings module treat its frames as importlib's: see
``eventhub.run.BOOTSTRAP_DIR``.)
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

# Every Python under the launcher runs this at startup: it imports no more than it must.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.abc import Loader as _Loader
    from types import ModuleType
    from typing import Any
else:
    _Loader = object


def _apply_patch() -> None:
    """eventlet has just loaded: put eventhub's hubs under it."""
    try:
        import eventhub  # noqa: F401
    except ImportError as e:
        # Another Python than eventhub's (a program may start any): say so
        # rather than let eventlet's hubs run unnoticed.
        sys.stderr.write(f"eventhub-run: {sys.executable} cannot import eventhub ({e}): "
                         f"eventlet runs on its own hubs in process {os.getpid()}\n")
        return
    from eventhub.run import patch  # its errors fail the import of eventlet: eventhub is there but broken

    patch.apply_from_environment()


class _PatchAfterLoading(_Loader):
    """Wraps eventlet's loader: loads the package, then applies the patch."""

    def __init__(self, loader: Any, finder: _EventletFinder) -> None:
        self._loader = loader
        self._finder = finder

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its real loader (importlib.resources and friends ask it).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _apply_patch()
        self._finder.remove()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _EventletFinder:
    """A ``sys.meta_path`` finder for ``eventlet`` alone: the usual spec, with a loader that patches after."""

    def __init__(self) -> None:
        self._finding = False

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> Any:
        if fullname != "eventlet" or self._finding:
            return None
        self._finding = True  # the search below asks this finder too
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchAfterLoading(spec.loader, self)
        return spec

    def remove(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)


def _run_the_hidden_sitecustomize() -> None:
    """Run the ``sitecustomize`` that the rest of ``sys.path`` holds, as Python would have."""
    here = os.path.realpath(os.path.dirname(__file__))
    rest = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


if os.environ.get("EVENTHUB_RUN") == "1":  # eventhub.run.ENABLE_ENV (eventhub is not imported here)
    if "eventlet" in sys.modules:  # imported by a .pth file, before site got here
        _apply_patch()
    else:
        sys.meta_path.insert(0, _EventletFinder())
_run_the_hidden_sitecustomize()
