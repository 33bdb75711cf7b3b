"""The README's promises: its example runs as pasted, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import RunPython

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_echo_example_runs_when_pasted(tmp_path: Path, run_python: RunPython) -> None:
    (example,) = [b for b in python_blocks() if "net.serve" in b]
    script = tmp_path / "echo.py"
    script.write_text(example)
    out = run_python([str(script)])
    assert out.stdout.strip() == repr([b"hello %d" % n for n in range(10)])


def test_demo_module_runs(run_python: RunPython) -> None:
    out = run_python(["-m", "eventhub.demo", "--clients", "20", "--messages", "3"])
    assert "20 concurrent clients, 60 echoed messages" in out.stdout
