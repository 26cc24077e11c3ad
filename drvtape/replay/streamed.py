"""A big stored session replayed a piece at a time (issue 16: bounded memory at any size).

A session of at least STREAM_FROM calls with no captured memory is not loaded: its calls are
a StreamedCalls, read from the store again for each run (unless kept for repeats:
KEEP_FOR_REPEATS), a piece (call_table.table_pieces) at a time. A piece ends where no call was
in flight in the recording, so every call of the pieces before it returned before any of its
calls was issued: the run's schedule is fed piece by piece (runtime/schedule.run_schedules),
each begun when the one before ended with every call returned, which is what the
happens-before asks (docs/replay.md). A run holds one piece, its plan and schedule, and what
spans pieces (replay/inprocess.Driving): memory bounded by the piece, not the session (with
--repeat, by KEEP_FOR_REPEATS).

In-process targets only (sim:, py:): a dll: target and anything reading calls by index or
every call at once (minimize, explore, a hang's analysis) get the calls loaded whole
(`StreamedCalls.whole`), as a smaller session or one with memory is (a block's lifetime
spans the session: replay/memory.py). A streamed replay
meets a call whose memory cannot be rebuilt when it gets to it; a loaded one refuses before
anything runs. The verdict is the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from drvtape.errors import DrvtapeError
from drvtape.replay.call_table import CallTable, detailed, first, load_table, table_pieces
from drvtape.replay.inprocess import Driving
from drvtape.replay.memcompare import Compared, OutputTally
from drvtape.replay.memory import Unfaithful, plan_memory
from drvtape.replay.memory_facts import Lookup
from drvtape.runtime.pointers import check_replayable
from drvtape.runtime.schedule import Schedule, Threads, run_schedules
from drvtape.runtime.targets import Target
from drvtape.schema.events import SessionHeader
from drvtape.schema.outcome import COMPLETED, Outcome
from drvtape.schema.recording import RecordedCall, Recording, recording_from_rows
from drvtape.schema.rows import Kind
from drvtape.store import Store
from drvtape.store.queries import EventFilter

STREAM_FROM = 50_000  # calls: a smaller session is loaded whole (a few MB), its refusals before anything runs
# calls: a session up to this big replayed several times (--repeat) keeps the pieces its first
# run read, for the others: about 42 MB of columns (call_table.CallTable), inside issue 16's
# 250 MB. A bigger one is read again for every run.
KEEP_FOR_REPEATS = 500_000


class StreamedCalls(Sequence):
    """A stored session's calls, read a piece at a time for each pass over them (`pieces`); read
    whole once, and kept, when asked for by index or all at once."""

    def __init__(self, store: Store, session_pk: int, header: SessionHeader, count: int, threads: int):
        self.store, self.session_pk, self.header, self.count = store, session_pk, header, count
        self.threads = threads  # the recorded threads the calls were made on
        self._whole: CallTable | None = None
        self._kept: list[CallTable] | None = None  # the pieces of a pass asked to keep them

    def __len__(self) -> int:
        return self.count

    def pieces(self, keep: bool = False) -> Iterator[CallTable]:
        """The calls in pieces (call_table.table_pieces), from a read of the store of their own,
        or the pieces kept by an earlier pass. keep: keep this pass's pieces for the later ones,
        when the session has at most KEEP_FOR_REPEATS calls and the pass reads it to the end."""
        if self._kept is not None:
            yield from self._kept
            return
        kept: list[CallTable] | None = [] if keep and self.count <= KEEP_FOR_REPEATS else None
        read = 0
        for piece in self._read_pieces():
            read += len(piece)
            if kept is not None:
                kept.append(piece)
                if read == self.count:  # before the last piece is run: a run may end without asking for more
                    self._kept = kept
            yield piece
            del piece  # not held while the next piece is read (unless kept)

    def _read_pieces(self) -> Iterator[CallTable]:
        """The calls in pieces, read from the store; it is closed after the read (Store.close
        disposes of its connections; its engine makes new ones for the next pass)."""
        left = self.count
        try:
            for piece, _ in table_pieces(self.header, self.store.stream_rows(self.session_pk)):
                if len(piece) >= left:
                    yield piece.head(left)
                    return
                left -= len(piece)
                yield piece
                del piece  # not held while the next piece is read
        finally:
            self.store.close()

    def whole(self) -> CallTable:
        if self._whole is None:
            self._whole = load_table(self.header, self.store.stream_rows(self.session_pk)).calls.head(self.count)
            self.store.close()
        return self._whole

    def head(self, count: int) -> StreamedCalls:
        """The first `count` calls (call_table.first asks)."""
        return StreamedCalls(self.store, self.session_pk, self.header, min(count, self.count), self.threads)

    def __getitem__(self, index):
        return self.whole()[index]

    def __iter__(self) -> Iterator[RecordedCall]:
        return iter(self.whole())


def streamed_recording(store: Store, session_pk: int, header: SessionHeader) -> Recording | None:
    """The session as a Recording of StreamedCalls, or None when it is to be loaded whole."""
    calls, threads, has_memory = store.replay_shape(session_pk)
    if calls < STREAM_FROM or has_memory:
        return None
    return Recording(header, StreamedCalls(store, session_pk, header, calls, threads),
                     recorded_outcome(store, session_pk, header))


def recorded_outcome(store: Store, session_pk: int, header: SessionHeader) -> Outcome:
    """How the session ended, from its faults and ends (an index holds them) and the call a hang names."""
    endings = store.rows(session_pk, EventFilter(kinds=(Kind.FAULT, Kind.END)))
    named = {row[10] for row in endings if row[1] == Kind.END and row[10] is not None}
    calls = [row for seq in sorted(named) for row in store.rows(session_pk, EventFilter(from_seq=seq, to_seq=seq))]
    return recording_from_rows(header, sorted([*calls, *endings], key=lambda row: row[0])).outcome


@dataclass
class StreamedRuns:
    """What replay_recording reports of a streamed session's runs."""
    recording: Recording  # up to where the runs stopped, when they stopped before a call
    runs: list[Outcome]
    memory: list[Compared]
    unknown: int
    stopped: Unfaithful | None


def replay_streamed(recording: Recording, target: Target, *, threads: Threads, repeat: int, timeout: float,
                    on_run, until_missing_memory: bool, lookup: Lookup, arch: str) -> StreamedRuns:
    """replay_recording's runs of a Recording of StreamedCalls on an in-process target."""
    out = StreamedRuns(recording, [], [], 0, None)
    for i in range(repeat):
        running = target.start()
        tally = OutputTally()
        driving = Driving(out.recording.outcome, running, running.proc, tally)
        run = _PiecesRun(out, driving, lookup, arch, until_missing_memory, counting=i == 0, keep=repeat > 1)
        done = run_schedules(run.schedules(), running.coordinator, threads=threads, cooperative=running.cooperative,
                             timeout=timeout, recorded_threads=out.recording.calls.threads)
        outcome = driving.outcome(done)
        out.runs.append(outcome)
        out.memory.append(tally.total)
        if on_run is not None:
            on_run(i, outcome)
    return out


class _PiecesRun:
    """One run's schedules, a piece at a time, each planned as a loaded recording's is."""

    def __init__(self, out: StreamedRuns, driving: Driving, lookup: Lookup, arch: str, until_missing_memory: bool,
                 counting: bool, keep: bool):
        self.out, self.driving, self.lookup, self.arch = out, driving, lookup, arch
        self.until_missing_memory, self.counting, self.keep = until_missing_memory, counting, keep

    def schedules(self) -> Iterator[Schedule]:
        out, start = self.out, 0
        for piece in out.recording.calls.pieces(keep=self.keep):
            for _, call in detailed(piece):
                if call.payload is not None:
                    check_replayable(call.msg, call.payload, call.seq)
            part = replace(out.recording, calls=piece)
            plan = plan_memory(part, self.lookup, self.arch)
            if self.counting:
                out.unknown += plan.unknown
            if plan.unfaithful is not None:
                if not self.until_missing_memory:
                    raise DrvtapeError(f"cannot replay faithfully: {plan.unfaithful.text}")
                stop = replace(plan.unfaithful, index=start + plan.unfaithful.index)
                self._stop_before(stop)
                yield self.driving.schedule(replace(part, calls=first(piece, plan.unfaithful.index)), plan)
                return
            start += len(piece)
            yield self.driving.schedule(part, plan)
            self.driving.ran()  # resumed: that piece's schedule ended with every call returned
            del piece, part, plan  # not held while the next piece is read

    def _stop_before(self, stop: Unfaithful) -> None:
        """The runs end before `stop` (found by the first run: the later ones end there too)."""
        out = self.out
        ended_before = out.recording.outcome.seq is not None and out.recording.outcome.seq < stop.seq
        out.stopped = stop
        out.recording = replace(out.recording, calls=out.recording.calls.head(stop.index),
                                outcome=out.recording.outcome if ended_before else COMPLETED)
