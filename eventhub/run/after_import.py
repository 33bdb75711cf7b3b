"""Run a function the moment a given module has been imported, without importing it.

``eventhub-run`` changes ``eventlet.websocket`` only in programs that
import it: importing it (and ``eventlet.wsgi`` with it) for the change
would cost every other program that time.  (The bootstrap has a hook of
its own for ``eventlet`` itself, since it may not import eventhub.)
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["call_after_import"]


def call_after_import(name: str, then: Callable[[], None]) -> None:
    """Call ``then()`` once module ``name`` has loaded: now if it has, else as its import ends.

    ``then()`` runs before the importing code gets the module back; an
    exception it raises fails that import.
    """
    if name in sys.modules:
        then()
    else:
        sys.meta_path.insert(0, _Finder(name, then))


class _Finder(importlib.abc.MetaPathFinder):
    """Finds module ``name`` as the other finders do, with a loader that calls ``then()`` after it."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then
        self._finding = False

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> Any:
        if fullname != self.name or self._finding:
            return None
        self._finding = True  # the search below asks this finder too
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _ThenLoader(spec.loader, self)
        return spec


class _ThenLoader(importlib.abc.Loader):
    """The module's own loader, then the finder's ``then()`` (once: the finder leaves ``sys.meta_path``)."""

    def __init__(self, loader: Any, finder: _Finder) -> None:
        self._loader = loader
        self._finder = finder

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its real loader (importlib.resources and friends ask it).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder.then()
