"""Every compiled module has a stub, and stubtest (tox env ``stubtest``) checks it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
COMPILED = sorted(ROOT.glob("eventhub/**/*.pyx"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def stubtest_modules() -> set[str]:
    text = (ROOT / "tox.ini").read_text()
    section = text.split("[testenv:stubtest]", 1)[1].split("\n[", 1)[0]
    command = section.split("mypy.stubtest", 1)[1].replace("\\\n", " ")
    return set(re.findall(r"\beventhub[\w.]*", command))


@pytest.mark.parametrize("pyx", COMPILED, ids=module_name)
def test_compiled_module_has_a_stub(pyx: Path) -> None:
    stub = ROOT / "stubs" / pyx.relative_to(ROOT).with_suffix(".pyi")
    assert stub.is_file(), f"{module_name(pyx)} has no stub: write {stub.relative_to(ROOT)}"


@pytest.mark.parametrize("pyx", COMPILED, ids=module_name)
def test_compiled_module_is_stubtested(pyx: Path) -> None:
    """Listed in the stubtest command, itself or a package stubtest recurses into."""
    name = module_name(pyx)
    covered = any(name == listed or name.startswith(listed + ".") for listed in stubtest_modules())
    assert covered, f"add {name} to tox.ini's stubtest command"


def test_stubs_describe_existing_modules() -> None:
    for stub in (ROOT / "stubs").glob("eventhub/**/*.pyi"):
        relative = stub.relative_to(ROOT / "stubs")
        sources = [ROOT / relative.with_suffix(ext) for ext in (".py", ".pyx")]
        if relative.name == "__init__.pyi":
            sources.append(ROOT / relative.parent / "__init__.py")
        assert any(s.exists() for s in sources), f"{relative} types no module"
