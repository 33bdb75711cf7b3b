"""Model-based test: random add / remove / send / schedule / cancel / fire /
close / fd-reuse sequences on every hub, checked against a small model.

The model knows, for each open socket pair, its readers (the primary first,
then those queued behind it when multiple readers are allowed), its writer
(a socket pair is always writable) and whether data is pending; and which
timers are pending.  After every ``fire`` (exactly one loop pass with a
zero-timeout poll) the hub must have: fired each due timer once, in
scheduling order, and no cancelled or far one; called back the primary
reader of every pair with pending data, every writer, and nobody else;
thrown IOClosed once into every listener whose fd was closed or reused; and
report exactly the model's primaries.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import eventhub
from eventhub import hubs
from eventhub.hubs import IOClosed

MAX_PAIRS = 6
#: Random sequences per hub; .ci/memcheck lowers it (valgrind is ~30x slower).
EXAMPLES = int(os.environ.get("EVENTHUB_MODEL_EXAMPLES", "100"))
FAR = 1000.0  # a timer this far away never fires during a test


@dataclass(eq=False)
class Pair:
    a: socket.socket
    b: socket.socket
    readers: list[Any] = field(default_factory=list)  # primary first, then the queue
    writer: Any = None
    pending: bool = False  # data sent to a and not read

    def listeners(self) -> list[Any]:
        return self.readers + ([self.writer] if self.writer is not None else [])


@dataclass
class Events:
    reads: list[int] = field(default_factory=list)  # listener ids called back
    throws: list[int] = field(default_factory=list)  # listener ids given IOClosed
    timers: list[int] = field(default_factory=list)  # timer ids fired


def make_machine(hub_class: Any) -> type[RuleBasedStateMachine]:
    class HubModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            hubs.use_hub(hub_class)
            self.hub = hubs.get_hub()
            self.pairs: list[Pair] = []
            self.events = Events()
            self.ids = 0
            self.listener_ids: dict[int, int] = {}  # id(listener) -> our id
            self.due: list[int] = []  # timers with delay 0, in scheduling order
            self.far: dict[int, Any] = {}
            self.timers: dict[int, Any] = {}
            self.expect_throws: set[int] = set()
            self.multi = False

        @initialize(multi=st.booleans())
        def choose_reader_policy(self, multi: bool) -> None:
            self.multi = multi
            self.hub.prevent_multiple_readers = not multi

        def next_id(self) -> int:
            self.ids += 1
            return self.ids

        def pick(self, i: int) -> Pair:
            return self.pairs[i % len(self.pairs)]

        # -- fds ---------------------------------------------------------

        @precondition(lambda self: len(self.pairs) < MAX_PAIRS)
        @rule()
        def open_pair(self) -> None:
            a, b = socket.socketpair()
            a.setblocking(False)
            hubs.notify_opened(a.fileno())  # harmless when the number is new
            self.pairs.append(Pair(a, b))

        def listen(self, pair: Pair, evtype: str) -> tuple[int, Any]:
            lid = self.next_id()
            events = self.events
            listener = self.hub.add(evtype, pair.a, lambda fd: events.reads.append(lid), self.thrower(lid), None)
            self.listener_ids[id(listener)] = lid
            return lid, listener

        @precondition(lambda self: self.pairs)
        @rule(i=st.integers(0, MAX_PAIRS))
        def add_reader(self, i: int) -> None:
            pair = self.pick(i)
            if pair.readers and not self.multi:
                try:
                    self.listen(pair, self.hub.READ)
                except RuntimeError as e:
                    assert "second simultaneous read" in str(e).lower()
                else:
                    raise AssertionError("a second reader was accepted")
                return
            pair.readers.append(self.listen(pair, self.hub.READ)[1])

        @precondition(lambda self: self.pairs)
        @rule(i=st.integers(0, MAX_PAIRS))
        def add_writer(self, i: int) -> None:
            pair = self.pick(i)
            if pair.writer is None:
                pair.writer = self.listen(pair, self.hub.WRITE)[1]

        @precondition(lambda self: any(p.writer is not None for p in self.pairs))
        @rule(i=st.integers(0, MAX_PAIRS))
        def remove_writer(self, i: int) -> None:
            with_writer = [p for p in self.pairs if p.writer is not None]
            pair = with_writer[i % len(with_writer)]
            self.hub.remove(pair.writer)
            pair.writer = None

        def thrower(self, lid: int) -> Any:
            events = self.events

            def tb(exc: BaseException) -> None:
                assert isinstance(exc, IOClosed)
                events.throws.append(lid)

            return tb

        @precondition(lambda self: any(p.readers for p in self.pairs))
        @rule(i=st.integers(0, MAX_PAIRS), j=st.integers(0, 3), twice=st.booleans())
        def remove_reader(self, i: int, j: int, twice: bool) -> None:
            """Remove the primary (a queued reader is promoted) or a queued one."""
            with_reader = [p for p in self.pairs if p.readers]
            pair = with_reader[i % len(with_reader)]
            listener = pair.readers.pop(j % len(pair.readers))
            self.hub.remove(listener)
            if twice:
                self.hub.remove(listener)  # a spent listener: no-op

        @precondition(lambda self: self.pairs)
        @rule(i=st.integers(0, MAX_PAIRS))
        def send(self, i: int) -> None:
            pair = self.pick(i)
            pair.b.send(b"x")
            pair.pending = True

        @precondition(lambda self: self.pairs)
        @rule(i=st.integers(0, MAX_PAIRS))
        def drain(self, i: int) -> None:
            pair = self.pick(i)
            if pair.pending:
                while True:
                    try:
                        pair.a.recv(4096)
                    except BlockingIOError:
                        break
            pair.pending = False

        @precondition(lambda self: self.pairs)
        @rule(i=st.integers(0, MAX_PAIRS), behind_back=st.booleans())
        def close_pair(self, i: int, behind_back: bool) -> None:
            """Close a pair, its reader (if any) still waiting.

            behind_back: close first, then open a new pair (likely reusing the
            number) and report the reuse, as cooperative sockets do.
            """
            pair = self.pick(i)
            self.pairs.remove(pair)
            fd = pair.a.fileno()
            for listener in pair.listeners():
                self.expect_throws.add(self.listener_ids[id(listener)])
            if behind_back:
                pair.a.close()
                pair.b.close()
                if len(self.pairs) < MAX_PAIRS:
                    a, b = socket.socketpair()
                    a.setblocking(False)
                    self.pairs.append(Pair(a, b))
                self.hub.mark_as_reopened(fd)
            else:
                self.hub.notify_close(fd)
                pair.a.close()
                pair.b.close()

        # -- timers -------------------------------------------------------

        @rule(far=st.booleans(), local=st.booleans())
        def schedule(self, far: bool, local: bool) -> None:
            tid = self.next_id()
            schedule = self.hub.schedule_call_local if local else self.hub.schedule_call_global
            timer = schedule(FAR if far else 0, self.events.timers.append, tid)
            self.timers[tid] = timer
            if far:
                self.far[tid] = timer
            else:
                self.due.append(tid)

        @precondition(lambda self: self.timers)
        @rule(i=st.integers(0, 1000))
        def cancel(self, i: int) -> None:
            tid = sorted(self.timers)[i % len(self.timers)]
            self.timers.pop(tid).cancel()
            self.far.pop(tid, None)
            if tid in self.due:
                self.due.remove(tid)

        # -- the loop -------------------------------------------------------

        @rule()
        def fire(self) -> None:
            """Exactly one loop pass: due timers, then a zero-timeout poll."""
            self.events.reads.clear()
            self.events.timers.clear()
            self.events.throws.clear()
            eventhub.sleep(0)  # fires the due timers (ours were scheduled first)
            eventhub.sleep(0)  # the rest of that pass: poll(0) and dispatch
            assert self.events.timers == self.due
            for tid in self.due:
                del self.timers[tid]
            self.due = []
            assert sorted(self.events.throws) == sorted(self.expect_throws)
            self.expect_throws = set()
            expected = {self.listener_ids[id(p.readers[0])] for p in self.pairs if p.readers and p.pending}
            expected |= {self.listener_ids[id(p.writer)] for p in self.pairs if p.writer is not None}
            assert set(self.events.reads) == expected

        @invariant()
        def readers_match(self) -> None:
            assert {id(x) for x in self.hub.get_readers()} == {id(p.readers[0]) for p in self.pairs if p.readers}
            assert {id(x) for x in self.hub.get_writers()} == {id(p.writer) for p in self.pairs if p.writer is not None}
            assert self.hub.get_timers_count() >= len(self.due) + len(self.far)

        def teardown(self) -> None:
            for tid in list(self.timers):
                self.timers.pop(tid).cancel()
            for pair in self.pairs:
                for listener in pair.listeners():
                    self.hub.remove(listener)
                pair.a.close()
                pair.b.close()
            hubs.use_hub(hub_class)

    return HubModel


def test_hub_matches_model(hub_class: Any) -> None:
    run_state_machine_as_test(
        make_machine(hub_class),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
