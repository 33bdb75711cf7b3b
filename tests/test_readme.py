"""The README's promises: its example runs as pasted, its commands exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import eventhub
from conftest import RunPython
from eventhub import hubs

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_echo_example_runs_when_pasted(tmp_path: Path, run_python: RunPython) -> None:
    (example,) = [b for b in python_blocks() if "net.serve" in b]
    script = tmp_path / "echo.py"
    script.write_text(example)
    out = run_python([str(script)])
    assert out.stdout.strip() == repr([b"hello %d" % n for n in range(10)])


def test_demo_module_runs_and_names_its_variant(run_python: RunPython) -> None:
    out = run_python(["-m", "eventhub.demo", "--clients", "20", "--messages", "3"])
    assert "20 concurrent clients, 60 echoed messages" in out.stdout
    assert f"({hubs.VARIANT})" in out.stdout.splitlines()[0]
    if hubs.NO_EXTENSIONS:
        assert "pure-Python, several times slower than compiled: EVENTHUB_NO_EXTENSIONS is set" in out.stdout


def source_tree_copy(root: Path) -> Path:
    """A checkout-like directory: setup.py beside eventhub/'s Python files, no extensions."""
    installed = Path(eventhub.__file__).parent
    shutil.copytree(installed, root / "eventhub", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    (root / "setup.py").write_text("")
    return root


def test_demo_run_inside_a_source_tree_says_why_it_is_pure(tmp_path: Path) -> None:
    tree = source_tree_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EVENTHUB_NO_EXTENSIONS")}
    out = subprocess.run(
        [sys.executable, "-m", "eventhub.demo", "--clients", "5", "--messages", "2"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "(pure)" in out.splitlines()[0]
    assert f"eventhub was imported from the source tree {tree / 'eventhub'}" in out


def test_the_demo_script_imports_the_installed_package_even_from_a_source_tree(tmp_path: Path) -> None:
    """The README's first command: eventhub-demo, run from the checkout."""
    script = Path(sys.executable).parent / "eventhub-demo"
    if not script.exists():
        pytest.skip("eventhub is not installed in this environment (a source checkout on sys.path)")
    tree = source_tree_copy(tmp_path)
    out = subprocess.run(
        [str(script), "--clients", "5", "--messages", "2"],
        cwd=tree, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert f"({hubs.VARIANT})" in out.splitlines()[0]  # the installed package's variant, not the tree's
    assert "source tree" not in out
