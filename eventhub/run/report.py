"""The hub report: which hub served eventlet in each process under ``eventhub-run``.

With ``EVENTHUB_RUN_REPORT=/path/file`` (or ``eventhub-run --report``),
every process under the launcher appends one line to the file each time
eventlet's hub of one of its threads is created, and one when a forked
child inherits its parent's hub::

    pid=4242 ppid=4241 event=created hub=eventhub.eventlet:PollHub variant=compiled
    pid=4250 ppid=4242 event=forked hub=eventhub.eventlet:PollHub variant=compiled

``variant`` is ``compiled`` or ``pure`` for eventhub's hubs and ``-`` for
any other hub (a third-party class).  A process that creates several hubs
(``eventlet.monkey_patch()`` creates one, and a later ``use_hub()``
replaces it) writes a line for each: its last line for a thread is the hub
that thread runs on.  Each line is appended with one ``write()`` to a file
opened with ``O_APPEND``, so lines from concurrent processes do not mix.
``read()`` parses the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

__all__ = ["HubLine", "append", "read"]


class HubLine(NamedTuple):
    """One line of the report."""

    pid: int
    ppid: int
    #: "created" (this process made the hub) or "forked" (inherited at fork()).
    event: str
    #: The hub's class, "module:QualifiedName".
    hub: str
    #: "compiled" or "pure" for eventhub's hubs, "-" for another.
    variant: str

    def format(self) -> str:
        """The line as written, with its newline."""
        return " ".join(f"{name}={value}" for name, value in zip(self._fields, self)) + "\n"


def append(path: str | os.PathLike[str], line: HubLine) -> None:
    """Append ``line`` to the report at ``path`` (created if missing) in one write."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line.format().encode())
    finally:
        os.close(fd)


def read(path: str | os.PathLike[str]) -> list[HubLine]:
    """Every line of the report at ``path``, in the order written; [] if there is no such file.

    Raises ValueError naming the line for one that is not a report line.
    """
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = dict(part.partition("=")[::2] for part in raw.split())
        if sorted(fields) != sorted(HubLine._fields):
            raise ValueError(f"{path}:{number}: not a hub report line: {raw!r}")
        try:
            lines.append(HubLine(pid=int(fields["pid"]), ppid=int(fields["ppid"]), event=fields["event"],
                                 hub=fields["hub"], variant=fields["variant"]))
        except ValueError:
            raise ValueError(f"{path}:{number}: not a hub report line: {raw!r}") from None
    return lines
