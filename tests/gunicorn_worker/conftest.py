"""The ``gunicorn`` fixture: start gunicorn servers, stopped after the test (see gunicorn_server)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from gunicorn_worker.gunicorn_server import Gunicorn, StartGunicorn


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[StartGunicorn]:
    """``gunicorn(*args, env={}, config="")`` starts a server; all are stopped after the test."""
    started: list[Gunicorn] = []

    def start(*args: str, env: dict[str, str] | None = None, config: str = "", scheme: str = "http") -> Gunicorn:
        workdir = tmp_path / f"server{len(started)}"
        workdir.mkdir()
        server = Gunicorn(workdir, list(args), env or {}, config, scheme)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
