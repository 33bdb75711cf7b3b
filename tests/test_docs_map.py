"""docs/map.md stays true: every module under eventhub/ is in it, in one layer, with its twin.

The repository is found from this file's path (``tests/`` sits beside
``eventhub/`` and ``docs/``), not from the imported package: run against an
installed wheel, which carries no ``.pyx``/``.pxi``, this still checks every
source file of the tree the tests come from.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "eventhub"
MAP = ROOT / "docs" / "map.md"

#: What counts as a module: Python and Cython sources (not generated C or built extensions).
SOURCE_SUFFIXES = (".py", ".pyx", ".pxd", ".pxi")
_FILE_NAME = re.compile(r"[\w./]+\.(?:pyx|pxd|pxi|py)(?!\w)")
_BULLET_LEAD = re.compile(r"\s*- `([^`]+)`:")


def package_files() -> set[str]:
    """Every source file under eventhub/, as a path relative to it."""
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts
    }


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of the map."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def layers_by_file(text: str) -> dict[str, list[str]]:
    """File -> the ``###`` layers of "The layers" whose bullets lead with it."""
    layers: dict[str, list[str]] = {}
    layer = ""
    for line in section(text, "The layers").splitlines():
        if line.startswith("### "):
            layer = line[4:].strip()
            continue
        lead = _BULLET_LEAD.match(line)
        if lead is not None:
            assert layer, f"bullet before the first layer heading: {line!r}"
            layers.setdefault(lead.group(1), []).append(layer)
    return layers


def twin_rows(text: str) -> list[tuple[set[str], set[str]]]:
    """(pure files, compiled files) of each row of the twin table."""
    rows = []
    for line in section(text, "Naming: twins").splitlines():
        cells = line.split("|")
        if len(cells) != 4 or set(cells[1].strip()) <= {"-"}:
            continue  # not a row, or the rule under the header
        pure, compiled = (set(_FILE_NAME.findall(cell)) for cell in cells[1:3])
        if pure or compiled:
            rows.append((pure, compiled))
    return rows


def test_the_source_tree_is_found() -> None:
    assert (PACKAGE / "__init__.py").is_file() and MAP.is_file()
    assert "hubs/hub.py" in package_files()
    assert "hubs/_core.pyx" in package_files()


def test_every_module_is_named_in_exactly_one_layer() -> None:
    layers = layers_by_file(MAP.read_text())
    missing = sorted(package_files() - set(layers))
    assert not missing, f"docs/map.md does not name these modules in a layer: {missing}"
    twice = {name: where for name, where in layers.items() if len(where) > 1}
    assert not twice, f"docs/map.md names these in more than one bullet: {twice}"


def test_every_file_the_map_names_exists() -> None:
    named = {token for token in re.findall(r"`([^`]+)`", MAP.read_text()) if _FILE_NAME.fullmatch(token)}
    assert named, "found no file names in docs/map.md"
    # Names are relative to eventhub/; a few (setup.py, tests/conftest.py) to the repository.
    stale = sorted(name for name in named if not (PACKAGE / name).is_file() and not (ROOT / name).is_file())
    assert not stale, f"docs/map.md names files that do not exist: {stale}"


def test_every_compiled_twin_is_paired_with_its_pure_module() -> None:
    rows = twin_rows(MAP.read_text())
    files = package_files()
    pairs = []
    for name in sorted(files):
        folder, _, base = name.rpartition("/")
        if base.startswith("_") and base.endswith(".pyx"):
            pure = f"{folder}/{base[1:-4]}.py" if folder else f"{base[1:-4]}.py"
            if pure in files:
                pairs.append((pure, name))
    assert ("net.py", "_net.pyx") in pairs and ("hubs/asyncio.py", "hubs/_asyncio.pyx") in pairs
    unpaired = [pair for pair in pairs if not any(pair[0] in pure and pair[1] in compiled for pure, compiled in rows)]
    assert not unpaired, f"the twin table of docs/map.md lacks these (pure, compiled) rows: {unpaired}"
