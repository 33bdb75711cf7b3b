"""docs/api.rst documents every public module of the source tree.

A public module is one whose dotted name has no part starting with ``_``
(a package counts by its ``__init__.py``); the bench's modules are the
parts of its command (docs/bench.md), so only ``eventhub.bench`` itself is
listed, and ``eventhub.includes`` holds only C declarations.  The tree is found from this file's path, as in test_docs_map.py;
that the modules import and their docstrings render is the docs build's
check (``sphinx-build -W``).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "eventhub"
API = ROOT / "docs" / "api.rst"


def public_modules() -> set[str]:
    """The dotted names of the public modules under eventhub/ that can be imported."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        if not all((folder / "__init__.py").is_file() for folder in path.parents if PACKAGE in (folder, *folder.parents)):
            continue  # a directory that is not a package (the launcher's bootstrap)
        parts = ["eventhub", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        if any(part.startswith("_") for part in parts):
            continue
        if parts[:2] == ["eventhub", "bench"] and len(parts) > 2 or parts == ["eventhub", "includes"]:
            continue
        names.add(".".join(parts))
    return names


def documented_modules() -> set[str]:
    return set(re.findall(r"^\.\. automodule:: (\S+)$", API.read_text(), re.MULTILINE))


def test_the_public_modules_are_found() -> None:
    modules = public_modules()
    assert {"eventhub", "eventhub.hubs", "eventhub.net", "eventhub.gunicorn.worker"} <= modules
    assert "eventhub.bench.cli" not in modules and "eventhub.hubs._variant" not in modules
    assert "eventhub.includes" not in modules
    assert not any("sitecustomize" in name for name in modules)


def test_every_public_module_is_in_the_api_page() -> None:
    missing = sorted(public_modules() - documented_modules())
    assert not missing, f"docs/api.rst has no automodule for: {missing}"


def test_every_module_the_api_page_names_exists() -> None:
    documented = documented_modules()
    assert documented
    sources = {
        ".".join(["eventhub", *path.relative_to(PACKAGE).with_suffix("").parts]).removesuffix(".__init__")
        for suffix in ("*.py", "*.pyx")
        for path in PACKAGE.rglob(suffix)
    }
    stale = sorted(documented - sources)
    assert not stale, f"docs/api.rst names modules with no source: {stale}"
