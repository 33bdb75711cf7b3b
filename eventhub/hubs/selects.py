"""The selects hub: POSIX ``select()``, limited to fds below ``FD_SETSIZE``.

``Hub`` is the compiled variant when built, else ``PureHub``.
"""

from __future__ import annotations

import select

from eventhub.hubs._variant import choose_hub
from eventhub.hubs.hub import READ, WRITE, BaseHub
from eventhub.hubs.poll import check_open

#: select()'s fd_set holds descriptors 0 .. FD_SETSIZE-1 (1024 on Linux).
FD_SETSIZE = 1024

#: Bound at import, like epoll and poll in their hubs: monkey-patching done
#: later (eventlet.monkey_patch() replaces ``select.select`` with a green
#: version that would trampoline on this very hub) must not reach the loop.
_SELECT = select.select


def is_available() -> bool:
    """select() exists everywhere Python runs."""
    return True


def check_selectable(fileno: int) -> None:
    """Refuse an fd that select() cannot watch, before it corrupts anything."""
    if fileno >= FD_SETSIZE:
        raise ValueError(
            f"fd {fileno} is too large for select() (FD_SETSIZE is {FD_SETSIZE}); use the epolls or poll hub"
        )
    check_open(fileno)


class PureHub(BaseHub):
    """select through Python's ``select.select``: the reference implementation."""

    def _update_interest(self, fileno: int) -> None:
        if fileno in self.listeners[READ] or fileno in self.listeners[WRITE]:
            check_selectable(fileno)

    def wait(self, seconds: float) -> None:
        readers = self.listeners[READ]
        writers = self.listeners[WRITE]
        rlist = list(readers)
        wlist = list(writers)
        try:
            r, w, x = _SELECT(rlist, wlist, rlist + wlist, seconds)
        except OSError:
            # EBADF: an fd was closed while watched. Wake its waiters; their
            # own syscall then reports the error where it can be handled.
            for fileno in rlist + wlist:
                try:
                    check_open(fileno)
                except OSError:
                    self.remove_descriptor(fileno)
            return
        if not (r or w or x):
            return
        if self.debug_blocking:
            self.block_detect_pre()
        fire = self._fire
        for fileno in r:
            fire(readers.get(fileno), fileno)
        for fileno in w:
            fire(writers.get(fileno), fileno)
        for fileno in x:
            fire(readers.get(fileno), fileno)
            fire(writers.get(fileno), fileno)
        if self.debug_blocking:
            self.block_detect_post()

    def destroy(self) -> None:
        """Release the waker (select itself holds no kernel resource)."""
        super().destroy()


#: The compiled twin's hub (None when unbuilt or disabled), the hub this
#: backend offers (it, else ``PureHub``), and which variant that is:
#: "compiled", "pure" or "unavailable".
CompiledHub, Hub, VARIANT = choose_hub("_selects", PureHub)
