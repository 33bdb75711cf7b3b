"""The README's promises: its example runs as pasted, its commands exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import eventhub

README = Path(__file__).resolve().parent.parent / "README.md"


def run_python(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run Python with the eventhub these tests import (installed or in-tree)."""
    env = dict(os.environ, PYTHONPATH=str(Path(eventhub.__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60, check=True, env=env)


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_echo_example_runs_when_pasted(tmp_path: Path) -> None:
    (example,) = [b for b in python_blocks() if "net.serve" in b]
    script = tmp_path / "echo.py"
    script.write_text(example)
    out = run_python([str(script)])
    assert out.stdout.strip() == repr([b"hello %d" % n for n in range(10)])


def test_demo_module_runs() -> None:
    out = run_python(["-m", "eventhub.demo", "--clients", "20", "--messages", "3"])
    assert "20 concurrent clients, 60 echoed messages" in out.stdout
