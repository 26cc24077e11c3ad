"""Tapes written by the native tap -> sessions (the format itself: drvtape.formats.tape).

A header starts a session; the other records belong to the latest header with the same pid
(a file may hold several sessions: the tap appends, and processes may share a tape). The
tape's seq counts the records of a session from 1; events are renumbered 1, 2, ... in file
order (which is seq order: the tap takes a record's seq and its place in the file together),
so a lost record leaves no gap.

How a session ends: a FAULT record for a call that never returned -> a fault event (the
call's last FAULT record) and "crash" at that call; an END record -> "process-exit" (2)
or "closed" (1, the tap was unloaded); a DETACH record (the process was exiting) ->
"process-exit", with every record after it kept (messages sent after the tap's detach, such
as msacm32 closing its instances); no END record and a torn tail -> "killed"; no END
record and calls that never returned -> "unknown" with the innermost such call (the
process died inside it, killed or hung, or of an exception the tap did not see); no END
record otherwise -> "unknown" (the process died between messages, or was still running
when the tape was read). With unfinished="hang" (`drvtape ingest --unfinished hang`: the
user killed the process because it hung) calls that never returned, with no END record
and no torn tail, end the session "hang" at the oldest outermost one, which is what a
replay with a per-call timeout reports. FAULT records of calls that returned are exceptions the driver
handled: counted (TapeSession.handled_exceptions), not events.

MEMORY records (tape version 3) become the memory blocks of the CALL (phase 1) or RETURN
(phase 2) event of the call they name; their bytes go to TapeSession.blobs once per sha256.
A block for a call the tape does not have, a return-phase block after its RETURN, or a
second block at one path and phase is reported and skipped.

A session's id is a UUID5 of its header's offset, its header body and its first record
body, so ingesting the same tape again (or a copy, or the same tape after the tap
appended more to it) finds the same ids.

Streamed: a mapped tape is read once, each session's rows go to a sink as they become final
(drvtape.recorder.tape_events), and what stays in memory is what is open. A tape with a
FAULT record is read once more, up front, when the first one is met: whether the driver
handled an exception depends on what follows it in the file.
"""

from __future__ import annotations

import mmap
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from drvtape.errors import DrvtapeError
from drvtape.formats.compressed import DAMAGE, compression_of, decompressed
from drvtape.formats.tape import (
    MAGIC, REC_DETACH, REC_END, REC_FAULT, REC_RETURN, EndRecord, FrameReader, MemoryRecord, Record, TapeHeader,
    TapeProblem, record_of, records, starts_like_a_tape,
)
from drvtape.recorder.tape_ending import ending
from drvtape.recorder.tape_events import FaultFacts, SessionEvents
from drvtape.schema.events import EndEvent, Event, SessionHeader
from drvtape.schema.rows import EventRow, event_to_row, row_to_event

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:drvtape:drvtap-tape")
UNFINISHED = ("unknown", "hang")
STDIN = "-"


@dataclass
class SessionInfo:
    """What reading a session of a tape gave, but its events."""

    header: SessionHeader
    events: int
    calls: int
    end: EndEvent
    handled_exceptions: int = 0


@dataclass
class TapeSession:
    header: SessionHeader
    events: list[Event]
    calls: int
    end: EndEvent
    handled_exceptions: int = 0
    blobs: dict[str, bytes] = field(default_factory=dict)  # the bytes of the events' memory blocks


@dataclass
class Tape:
    source: str
    sessions: list[TapeSession]
    problems: list[TapeProblem]


class SessionOutput(Protocol):
    """Where one session's rows and captured bytes go, as they are read."""

    def row(self, row: EventRow) -> None: ...

    def rows(self, rows: Sequence[tuple]) -> None:
        """Rows in ROW_COLUMNS order, from the fast path (SessionEvents.run): PackedRows, or
        tuples once it is unpacked."""

    def blob(self, key: str, data: bytes) -> None: ...

    def close(self, info: SessionInfo) -> None: ...


Sink = Callable[[SessionHeader], SessionOutput]  # a session's header -> where its rows go


# ---- reading -----------------------------------------------------------------------------


@contextmanager
def mapped_tape(path: str) -> Iterator[tuple[bytes | mmap.mmap, str]]:
    """A tape file mapped read-only, and its name for messages. Stdin (-) and a zstd or gzip
    file are copied (decompressed) to a temporary file first. An empty file is b"" (a file of
    no bytes cannot be mapped)."""
    source = "<stdin>" if path == STDIN else str(path)
    try:
        with ExitStack() as stack:
            stream = sys.stdin.buffer if path == STDIN else stack.enter_context(open(path, "rb"))
            if path == STDIN or compression_of(stream) is not None:
                spool = stack.enter_context(tempfile.TemporaryFile(prefix="drvtape-tape-"))
                _copy(decompressed(stream), spool, source)
                stream = spool
            yield stack.enter_context(_mapped(stream.fileno())), source
    except IsADirectoryError:
        raise DrvtapeError(f"{path} is a directory, not a tape") from None
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror}") from None


def _copy(source_stream, spool, source: str) -> None:
    try:
        shutil.copyfileobj(source_stream, spool, 1 << 20)
    except DAMAGE as exc:
        raise DrvtapeError(f"{source}: damaged compressed data ({exc or type(exc).__name__})") from None
    spool.flush()


@contextmanager
def _mapped(fd: int) -> Iterator[bytes | mmap.mmap]:
    if os.fstat(fd).st_size == 0:
        yield b""
        return
    with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
        yield data


def read_tape(path: str | Path, *, unfinished: str = "unknown") -> Tape:
    """Every session of a tape file, in memory (for a tape of any size, stream_tape)."""
    with mapped_tape(str(path)) as (data, source):
        return parse_tape(data, source, unfinished=unfinished)


def parse_tape(data: bytes | mmap.mmap, source: str = "<tape>", *, unfinished: str = "unknown") -> Tape:
    """Every session of a tape, in memory. DrvtapeError when the data is not a tape at all.
    unfinished: how calls that never returned end a session with no END record (see above)."""
    collected: list[_Collected] = []

    def sink(header: SessionHeader) -> _Collected:
        collected.append(_Collected(header))
        return collected[-1]

    infos, problems = stream_tape(data, source, sink, unfinished=unfinished)
    by_id = {id(c.info): c for c in collected}
    return Tape(source, [by_id[id(info)].session() for info in infos], problems)


class _Collected:
    """A session's rows kept, for parse_tape."""

    def __init__(self, header: SessionHeader):
        self.kept: list[tuple] = []
        self.blobs: dict[str, bytes] = {}
        self.info: SessionInfo | None = None
        self.row = self.kept.append

    def rows(self, rows: Sequence[tuple]) -> None:
        self.kept.extend(rows)

    def blob(self, key: str, data: bytes) -> None:
        self.blobs.setdefault(key, data)

    def close(self, info: SessionInfo) -> None:
        self.info = info

    def session(self) -> TapeSession:
        i = self.info
        events = [row_to_event(EventRow(*r)) for r in self.kept[:-1]] + [i.end]  # the last row: the end's
        return TapeSession(i.header, events, i.calls, i.end, i.handled_exceptions, self.blobs)


def stream_tape(data: bytes | mmap.mmap, source: str, sink: Sink, *, unfinished: str = "unknown"
                ) -> tuple[list[SessionInfo], list[TapeProblem]]:
    """Read a tape once, handing each session's rows to sink(header) as they become final;
    the sessions in header order and the problems by offset. DrvtapeError when the data is
    not a tape at all (a sink writing to a database rolls back)."""
    if unfinished not in UNFINISHED:
        raise DrvtapeError(f"unfinished must be one of {', '.join(UNFINISHED)}, not {unfinished!r}")
    if not data:
        raise DrvtapeError(f"{source}: the file is empty (not a drvtap tape)")
    if not starts_like_a_tape(data):  # refused at once: resynchronizing through it could cost much
        raise DrvtapeError(f"{source}: not a drvtap tape (it does not start with an intact record)")
    problems: list[TapeProblem] = []
    try:
        sessions = _Grouping(data, problems, sink, unfinished).run()
    except DrvtapeError as exc:
        raise DrvtapeError(f"{source}: {exc}") from None
    if not sessions:
        if problems and problems[0].kind == "bad-record":
            raise DrvtapeError(f"{source}: {problems[0].detail}")
        raise DrvtapeError(f"{source}: not a drvtap tape (no intact {MAGIC.decode()} header record)")
    problems.sort(key=lambda p: p.offset)
    return [s.info for s in sessions], problems


# ---- records -> sessions ----------------------------------------------------------------


class _Session:
    """A header and what its records have built so far."""

    def __init__(self, grouping: _Grouping, header: TapeHeader):
        self.tape = header
        self.end: EndRecord | None = None
        self.detached: EndRecord | None = None  # the DETACH record: the process was exiting
        self.output: SessionOutput | None = None  # None: not begun (its id needs its first record)
        self.info: SessionInfo | None = None
        self.events: SessionEvents | None = SessionEvents(header, grouping.problems,
                                                          lambda: grouping.fault_facts(header.offset))

    def begin(self, sink: Sink, first: bytes) -> None:
        h = self.tape
        try:
            header = SessionHeader(
                id=uuid.uuid5(NAMESPACE, f"{h.offset}:{(h.body + first).hex()}"),
                driver=h.driver or "<unknown driver>", target=f"dll:{h.driver}" if h.driver else None,
                machine=h.machine, os=h.os, process=h.process, pid=h.pid,
                recorder_version=f"drvtap (tape format {h.version})", started_at=h.started_at,
                clock="qpc", source="ingest", arch="x86" if h.pointer_size == 4 else None,
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise DrvtapeError(f"the tape header at offset {h.offset} has a {'.'.join(map(str, err['loc']))} "
                               f"drvtape cannot store: {err['msg']}") from None
        self.header = header
        self.output = sink(header)
        self.events.send_to(self.output.row, self.output.rows, self.output.blob)

    def finish(self, sink: Sink, torn: TapeProblem | None, unfinished: str) -> None:
        if self.output is None:
            self.begin(sink, b"")
        built = self.events
        end_record = self.end or self.detached
        end = EndEvent(seq=built.events + 1, **ending(built.finish(end_record), end_record, torn,
                                                      unfinished)._asdict())
        built.emit_last(event_to_row(end))
        self.info = SessionInfo(self.header, built.events + 1, built.calls, end, built.handled)
        self.output.close(self.info)
        self.events = None  # what it kept (the seq of every call answered) is done with: memory stays flat


class _Grouping:
    """A tape's records -> its sessions: a header starts one; a record belongs to the latest
    header of its pid; an END record ends it (records after it are orphans). The session
    last touched reads on by itself while the records are of the common kind
    (SessionEvents.run); every other record comes here through the frame reader."""

    def __init__(self, data, problems: list[TapeProblem], sink: Sink, unfinished: str):
        self.data, self.problems, self.sink, self.unfinished = data, problems, sink, unfinished
        self._facts: dict[int, FaultFacts] | None = None
        self.sessions: list[_Session] = []
        self.current: dict[int, _Session] = {}
        self.last_touched: _Session | None = None

    def run(self) -> list[_Session]:
        reader = FrameReader(self.data, self.problems)
        while True:
            session = self.last_touched
            if session is not None and session.output is not None and session.end is None:
                reader.pos = session.events.run(self.data, reader.pos, reader.stretch_end())
            frame = reader.next()
            if frame is None:
                break
            item = record_of(*frame, self.problems)
            if item is not None:
                self._take(item)
        torn = next((p for p in self.problems if p.kind == "torn"), None)
        for session in self.sessions:
            if session.info is None:
                session.finish(self.sink, torn if session is self.last_touched else None, self.unfinished)
        return self.sessions

    def _take(self, item: TapeHeader | Record | MemoryRecord) -> None:
        """One record, into its session."""
        if item.__class__ is TapeHeader:
            replaced = self.current.get(item.pid)
            if replaced is not None and replaced.end is None:
                replaced.finish(self.sink, None, self.unfinished)
            session = _Session(self, item)
            self.sessions.append(session)
            self.current[item.pid] = self.last_touched = session
            return
        memory = item.__class__ is MemoryRecord
        offset, pid = item.offset, item.pid if memory else item.fields.pid
        session = self.current.get(pid)
        if session is None:
            self.problems.append(TapeProblem(offset, "orphan", (
                f"a record of process {pid} at offset {offset} with no session header before it: skipped")))
            return
        if session.end is not None:
            self.problems.append(TapeProblem(offset, "orphan",
                                             f"a record after its session's end at offset {offset}: skipped"))
            return
        self.last_touched = session
        if not memory and item.fields.type == REC_END:
            session.end = item.fields
            session.finish(self.sink, None, self.unfinished)
            return
        if session.output is None and not memory:
            session.begin(self.sink, item.body)
        session.events.add(item)  # a DETACH too: its seq is counted, and records follow it
        if not memory and item.fields.type == REC_DETACH:
            session.detached = item.fields

    def fault_facts(self, header_offset: int) -> FaultFacts:
        """The facts of the session whose header is at header_offset (the whole tape read once
        for them, the first time a FAULT record asks)."""
        if self._facts is None:
            self._facts = _scan_faults(self.data)
        return self._facts[header_offset]


def _scan_faults(data) -> dict[int, FaultFacts]:
    """Each session's FAULT records, and the returns after them (the grouping of _Grouping.run)."""
    facts: dict[int, FaultFacts] = {}
    current: dict[int, int] = {}
    ended: set[int] = set()
    for item in records(data, []):
        if item.__class__ is TapeHeader:
            current[item.pid] = item.offset
            facts[item.offset] = FaultFacts()
            continue
        if item.__class__ is MemoryRecord:
            continue
        f = item.fields
        key = current.get(f.pid)
        if key is None or key in ended:
            continue
        if f.type == REC_END:
            ended.add(key)
        elif f.type == REC_FAULT:
            facts[key].last_fault[f.call_seq] = item.offset
        elif f.type == REC_RETURN and f.call_seq in facts[key].last_fault:
            facts[key].returned.add(f.call_seq)
    return facts
