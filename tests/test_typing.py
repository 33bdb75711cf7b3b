"""The typing a user gets: ``mypy --strict`` on a correct and on a wrong program.

mypy sees eventhub as a user's mypy does: the installed package with its
stubs and ``py.typed`` when the tests run against an install (tox), else an
overlay of the source tree and ``stubs/`` (an in-place build).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import eventhub
from eventhub import hubs

pytest.importorskip("mypy", reason="mypy is not installed (the tox env 'mypy' runs these tests)")

PROGRAMS = Path(__file__).parent / "typing"
README = Path(__file__).parent.parent / "README.md"
TOOLKIT_PAGE = Path(__file__).parent.parent / "docs" / "toolkit.md"
STUBS = Path(__file__).parent.parent / "stubs" / "eventhub"
EXPECTED = re.compile(r"#\s*error:\s*\[([a-z-]+)\]\s*$")
REPORTED = re.compile(r"^[^:]+:(\d+): error: .*\[([a-z-]+)\]$")


def _installed_with_stubs(package: Path) -> bool:
    return (package / "py.typed").exists() and (package / "hubs" / "_core.pyi").exists()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the programs, and eventhub with stubs unless it is installed."""
    work = tmp_path_factory.mktemp("typing")
    for program in PROGRAMS.glob("*.py"):
        shutil.copy(program, work)
    (echo_example,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "net.serve" in b]
    (work / "readme_example.py").write_text(echo_example)
    (fetcher,) = [b for b in re.findall(r"```python\n(.*?)```", TOOLKIT_PAGE.read_text(), re.S) if "def fetch_all" in b]
    (work / "toolkit_example.py").write_text(fetcher)
    package = Path(eventhub.__file__).parent
    if not _installed_with_stubs(package):
        if not STUBS.is_dir():
            pytest.skip("eventhub is neither installed with its stubs nor next to stubs/")
        ignore = shutil.ignore_patterns("*.so", "*.c", "__pycache__")
        shutil.copytree(package, work / "eventhub", ignore=ignore)
        shutil.copytree(STUBS, work / "eventhub", dirs_exist_ok=True)
        (work / "eventhub" / "py.typed").touch()
    return work


def run_mypy(workdir: Path, program: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", ".mypy_cache", program],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_user_program_passes_strict(workdir: Path) -> None:
    status, output = run_mypy(workdir, "user_program.py")
    assert status == 0, output
    assert "type: ignore" not in (PROGRAMS / "user_program.py").read_text()


def test_readme_example_passes_strict(workdir: Path) -> None:
    status, output = run_mypy(workdir, "readme_example.py")
    assert status == 0, output


def test_toolkit_page_example_passes_strict(workdir: Path) -> None:
    status, output = run_mypy(workdir, "toolkit_example.py")
    assert status == 0, output
    assert "type: ignore" not in (workdir / "toolkit_example.py").read_text()


def test_user_mistakes_are_reported(workdir: Path) -> None:
    source = (PROGRAMS / "user_mistakes.py").read_text().splitlines()
    expected = {(n, m.group(1)) for n, line in enumerate(source, 1) if (m := EXPECTED.search(line))}
    status, output = run_mypy(workdir, "user_mistakes.py")
    reported = {(int(m.group(1)), m.group(2)) for line in output.splitlines() if (m := REPORTED.match(line))}
    assert status == 1, output
    assert reported == expected, output


def test_user_program_runs() -> None:
    spec = importlib.util.spec_from_file_location("user_program", PROGRAMS / "user_program.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        assert module.main() == [0, 1, 4, 9, 16]
    finally:
        hubs.use_hub()
