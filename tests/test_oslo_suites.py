"""``.ci/oslo-suites``' own checks: the hub proof it reads from the launcher's report, the sdist unpacking.

The suites themselves run in tox's ``oslo`` env; these tests run anywhere.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from eventhub.run.report import HubLine, append

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "oslo-suites"


@pytest.fixture(scope="module")
def suites() -> Iterator[ModuleType]:
    loader = importlib.machinery.SourceFileLoader("oslo_suites", str(SCRIPT))
    spec = importlib.util.spec_from_loader("oslo_suites", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["oslo_suites"] = module  # dataclasses look their module up there
    try:
        loader.exec_module(module)
        yield module
    finally:
        del sys.modules["oslo_suites"]


def write_report(path: Path, *lines: tuple[int, int, str, str, str]) -> Path:
    for pid, ppid, event, hub, variant in lines:
        append(path, HubLine(pid, ppid, event, hub, variant))
    return path


EPOLL = "eventhub.eventlet:EpollHub"
#: stestr (pid 10) starts a listing process and two workers through a shell each; worker 21 forks 30.
GOOD = [
    (11, 1011, "created", EPOLL, "compiled"),
    (20, 1020, "created", EPOLL, "compiled"),
    (21, 1021, "created", EPOLL, "compiled"),
    (30, 21, "forked", EPOLL, "compiled"),
    (30, 21, "created", EPOLL, "compiled"),
]


@pytest.fixture
def compiled_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTHUB_REQUIRE_EXTENSIONS", "1")
    monkeypatch.delenv("EVENTHUB_NO_EXTENSIONS", raising=False)


@pytest.mark.usefixtures("compiled_required")
def test_a_report_of_eventhubs_hub_in_every_worker_is_proof(suites: ModuleType, tmp_path: Path) -> None:
    problems, summary = suites.hub_proof(write_report(tmp_path / "r", *GOOD), 2)
    assert problems == []
    assert summary == f"4 processes (3 started by stestr, 1 forked) on {EPOLL} (compiled)"


@pytest.mark.usefixtures("compiled_required")
def test_a_process_on_eventlets_own_hub_fails_the_proof(suites: ModuleType, tmp_path: Path) -> None:
    report = write_report(tmp_path / "r", *GOOD, (31, 21, "created", "eventlet.hubs.poll:Hub", "-"))
    problems, _ = suites.hub_proof(report, 2)
    assert problems == ["process 31 ran eventlet on eventlet.hubs.poll:Hub"]


@pytest.mark.usefixtures("compiled_required")
def test_the_pure_variant_fails_the_proof_when_extensions_are_required(suites: ModuleType, tmp_path: Path) -> None:
    report = write_report(tmp_path / "r", *GOOD[:2], (21, 1021, "created", EPOLL, "pure"))
    problems, _ = suites.hub_proof(report, 2)
    assert problems == [f"process 21 ran {EPOLL} pure, not compiled"]


def test_under_no_extensions_the_pure_variant_is_required(
    suites: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTHUB_NO_EXTENSIONS", "1")
    problems, _ = suites.hub_proof(write_report(tmp_path / "r", *GOOD), 2)
    assert len(problems) == len(GOOD) and all(p.endswith("compiled, not pure") for p in problems)


@pytest.mark.usefixtures("compiled_required")
def test_a_worker_that_reported_no_hub_fails_the_proof(suites: ModuleType, tmp_path: Path) -> None:
    report = write_report(tmp_path / "r", *[line for line in GOOD if line[0] != 21])
    problems, _ = suites.hub_proof(report, 2)
    assert problems == ["only 2 test processes reported a hub; stestr starts 3 (its workers and the one that "
                        "lists the tests), each of which imports eventlet"]
    # One worker alone: stestr lists nothing in a process of its own.
    assert suites.hub_proof(write_report(tmp_path / "one", GOOD[1]), 1)[0] == []


@pytest.mark.usefixtures("compiled_required")
def test_no_report_at_all_fails_the_proof(suites: ModuleType, tmp_path: Path) -> None:
    problems, _ = suites.hub_proof(tmp_path / "never-written", 2)
    assert problems and problems[0].startswith("only 0 test processes reported a hub")


def make_archive(path: Path, members: list[tarfile.TarInfo], contents: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            data = contents.get(member.name)
            if data is not None:
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def file_member(name: str, mode: int = 0o644) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.mode = mode
    return member


def test_unpack_extracts_files_folders_and_the_executable_bit(suites: ModuleType, tmp_path: Path) -> None:
    folder = tarfile.TarInfo("pkg-1.0/tools")
    folder.type = tarfile.DIRTYPE
    archive = make_archive(
        tmp_path / "a.tar.gz",
        [folder, file_member("pkg-1.0/tools/run.sh", 0o755), file_member("pkg-1.0/pkg/__init__.py")],
        {"pkg-1.0/tools/run.sh": b"#!/bin/sh\n", "pkg-1.0/pkg/__init__.py": b"x = 1\n"},
    )
    suites.unpack(archive, tmp_path / "out")
    assert (tmp_path / "out/pkg-1.0/pkg/__init__.py").read_bytes() == b"x = 1\n"
    assert (tmp_path / "out/pkg-1.0/tools/run.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out/pkg-1.0/pkg/__init__.py").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("name", ["../escape.py", "/tmp/absolute.py", "pkg/../../escape.py"])
def test_unpack_refuses_a_member_outside_the_folder(suites: ModuleType, tmp_path: Path, name: str) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", [file_member(name)], {name: b"boom"})
    with pytest.raises(SystemExit, match="would land outside"):
        suites.unpack(archive, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_unpack_refuses_links(suites: ModuleType, tmp_path: Path) -> None:
    link = tarfile.TarInfo("pkg-1.0/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = make_archive(tmp_path / "a.tar.gz", [link], {})
    with pytest.raises(SystemExit, match="neither a file nor a folder"):
        suites.unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out/pkg-1.0/passwd").exists()
