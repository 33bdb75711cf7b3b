"""The README's promises: its example runs as pasted, its commands exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_echo_example_runs_when_pasted(tmp_path: Path) -> None:
    (example,) = [b for b in python_blocks() if "net.serve" in b]
    script = tmp_path / "echo.py"
    script.write_text(example)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == repr([b"hello %d" % n for n in range(10)])


def test_demo_module_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "eventhub.demo", "--clients", "20", "--messages", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "20 concurrent clients, 60 echoed messages" in out.stdout
