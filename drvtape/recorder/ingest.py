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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from drvtape.errors import DrvtapeError
from drvtape.formats.tape import (
    END_PROCESS_EXIT, MAGIC, REC_CALL, REC_DETACH, REC_END, REC_FAULT, REC_RETURN, EndRecord, MemoryRecord, Record,
    ReturnRecord, TapeHeader, TapeProblem, call_payloads, fault_module, records, starts_like_a_tape,
)
from drvtape.formats.tape_memory import PHASE_CALL
from drvtape.present.text import exception_code, fault_place
from drvtape.schema.entry_points import entry_point_of
from drvtape.schema.events import CallEvent, EndEvent, EndReason, Event, FaultEvent, ReturnEvent, SessionHeader
from drvtape.schema.memory.captured import MemoryBlock, Phase, block
from drvtape.schema.messages import DRV_OPEN, message_name
from drvtape.schema.values import INT64_MAX

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:drvtape:drvtap-tape")
UNFINISHED = ("unknown", "hang")


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


@dataclass
class _RawSession:
    """A header and the records that belong to it, as the tape holds them."""

    header: TapeHeader
    records: list[Record | MemoryRecord] = field(default_factory=list)  # CALL, RETURN, FAULT, DETACH, MEMORY
    end: EndRecord | None = None
    detached: EndRecord | None = None  # the DETACH record: the process was exiting


def read_tape(path: str | Path, *, unfinished: str = "unknown") -> Tape:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise DrvtapeError(f"{path} is a directory, not a tape") from None
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror}") from None
    return parse_tape(data, str(path), unfinished=unfinished)


def parse_tape(data: bytes, source: str = "<tape>", *, unfinished: str = "unknown") -> Tape:
    """Every session of a tape. DrvtapeError when the data is not a tape at all.
    unfinished: how calls that never returned end a session with no END record (see above)."""
    if unfinished not in UNFINISHED:
        raise DrvtapeError(f"unfinished must be one of {', '.join(UNFINISHED)}, not {unfinished!r}")
    if not data:
        raise DrvtapeError(f"{source}: the file is empty (not a drvtap tape)")
    if not starts_like_a_tape(data):  # refused at once: resynchronizing through it could cost much
        raise DrvtapeError(f"{source}: not a drvtap tape (it does not start with an intact record)")
    problems: list[TapeProblem] = []
    sessions, last_touched = _group(data, problems)
    if not sessions:
        if problems and problems[0].kind == "bad-record":
            raise DrvtapeError(f"{source}: {problems[0].detail}")
        raise DrvtapeError(f"{source}: not a drvtap tape (no intact {MAGIC.decode()} header record)")
    torn = next((p for p in problems if p.kind == "torn"), None)
    try:
        built = [_build(s, problems, torn if s is last_touched else None, unfinished) for s in sessions]
    except DrvtapeError as exc:
        raise DrvtapeError(f"{source}: {exc}") from None
    problems.sort(key=lambda p: p.offset)
    return Tape(source, built, problems)


def _group(data: bytes, problems: list[TapeProblem]) -> tuple[list[_RawSession], _RawSession | None]:
    """The tape's sessions, and the one its last record belongs to (a torn tail is that one's)."""
    sessions: list[_RawSession] = []
    current: dict[int, _RawSession] = {}
    last_touched: _RawSession | None = None
    for item in records(data, problems):
        if isinstance(item, TapeHeader):
            session = _RawSession(item)
            sessions.append(session)
            current[item.pid] = last_touched = session
            continue
        memory = isinstance(item, MemoryRecord)
        offset, pid = item.offset, item.pid if memory else item.fields.pid
        session = current.get(pid)
        if session is None:
            problems.append(TapeProblem(offset, "orphan", (
                f"a record of process {pid} at offset {offset} with no session header before it: skipped")))
            continue
        if session.end is not None:
            problems.append(TapeProblem(offset, "orphan", f"a record after its session's end at offset {offset}: skipped"))
            continue
        last_touched = session
        if memory:
            session.records.append(item)
            continue
        if item.fields.type == REC_END:
            session.end = item.fields
            continue
        session.records.append(item)  # a DETACH too: its seq is counted, and records follow it
        if item.fields.type == REC_DETACH:
            session.detached = item.fields
    return sessions, last_touched


def _build(s: _RawSession, problems: list[TapeProblem], torn: TapeProblem | None, unfinished: str) -> TapeSession:
    built = _Events(s, problems)
    for record in s.records:
        built.add(record)
    built.attach_call_memory()
    end = EndEvent(seq=len(built.events) + 1, **_ending(built, s.end or s.detached, torn, unfinished)._asdict())
    built.events.append(end)
    return TapeSession(_header(s), built.events, built.calls, end, built.handled, built.blobs)


def _header(s: _RawSession) -> SessionHeader:
    h = s.header
    first = s.records[0].body if s.records else b""
    try:
        return SessionHeader(
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


class _Events:
    """A session's CALL, RETURN and FAULT records -> events, renumbered 1, 2, ... in file order."""

    def __init__(self, s: _RawSession, problems: list[TapeProblem]):
        self._tape = s.header
        self._problems = problems
        numbered = [r for r in s.records if type(r) is Record]  # MEMORY records have no seq
        self._returned = {r.fields.call_seq for r in numbered if r.fields.type == REC_RETURN}
        self._last_fault = {r.fields.call_seq: r.offset for r in numbered if r.fields.type == REC_FAULT}
        self._by_type = {REC_CALL: self._call, REC_RETURN: self._return, REC_FAULT: self._fault,
                         REC_DETACH: self._detach}
        self._by_tape_seq: dict[int, CallEvent] = {}
        self._answered: set[int] = set()
        self._call_qpc: dict[int, int] = {}
        self._last_seq = 0
        self.events: list[Event] = []
        self.calls = 0
        self.handled = 0  # exceptions the driver handled (its call returned), or a later one ended the call
        self.faulted: tuple[CallEvent, FaultEvent] | None = None
        self.after_detach: int | None = None  # calls after the DETACH record, when there is one
        self.blobs: dict[str, bytes] = {}
        self._memory: dict[tuple[Phase, int], dict[str, MemoryBlock]] = {}  # (phase, event seq) -> path -> block

    def ts(self, qpc: int) -> int:
        ns = max(0, (qpc - self._tape.qpc_start) * 1_000_000_000 // self._tape.freq)
        if ns > INT64_MAX:
            raise ValueError(f"a time {ns} ns after the start, past what a 64-bit clock can hold")
        return ns

    def outstanding(self) -> list[CallEvent]:
        """The calls that never returned, in file order."""
        return [ev for ev in self._by_tape_seq.values() if ev.seq not in self._answered]

    def add(self, record: Record | MemoryRecord) -> None:
        if isinstance(record, MemoryRecord):
            self._add_memory(record)
            return
        fields, offset = record.fields, record.offset
        if fields.seq != self._last_seq + 1:
            self._problems.append(TapeProblem(offset, "seq-gap", (
                f"tape seq {fields.seq} after {self._last_seq} at offset {offset}: "
                f"{'records are missing' if fields.seq > self._last_seq else 'out of order'}")))
        self._last_seq = fields.seq
        try:
            ev = self._by_type[fields.type](record)
        except ValidationError as exc:
            self._problems.append(TapeProblem(offset, "bad-record",
                                              f"record at offset {offset} skipped: {exc.errors()[0]['msg']}"))
            return
        except ValueError as exc:
            self._problems.append(TapeProblem(offset, "bad-record", f"record at offset {offset} skipped: {exc}"))
            return
        if ev is not None:
            self.events.append(ev)

    def _call(self, record: Record) -> CallEvent:
        f = record.fields
        ev = CallEvent(seq=len(self.events) + 1, ts_ns=self.ts(f.qpc), thread=f.thread, msg=f.msg,
                       driver_id=f.driver_id, hdrvr=f.hdrvr, lparam1=f.lparam1, lparam2=f.lparam2, depth=f.depth,
                       payload=call_payloads(record, self._problems, self._tape.pointer_size),
                       entry_point=entry_point_of(f.entry_point))
        self._by_tape_seq[f.seq] = ev
        self._call_qpc[ev.seq] = f.qpc
        self.calls += 1
        if self.after_detach is not None:
            self.after_detach += 1
        return ev

    def _add_memory(self, record: MemoryRecord) -> None:
        """Keep a MEMORY record's block for its call's CALL or RETURN event (see the module's docstring)."""
        call, offset = self._by_tape_seq.get(record.call_seq), record.offset
        phase = Phase.CALL if record.phase == PHASE_CALL else Phase.RETURN
        if call is None or (phase is Phase.RETURN and call.seq in self._answered):
            why = "its call record is missing" if call is None else "after its call's return"
            self._problems.append(TapeProblem(offset, "orphan", (
                f"the memory record for tape seq {record.call_seq} at offset {offset}: {why}; skipped")))
            return
        blocks = self._memory.setdefault((phase, call.seq), {})
        if record.path in blocks:
            self._problems.append(TapeProblem(offset, "bad-record", (
                f"record at offset {offset} skipped: a second {phase.value} block at {record.path}")))
            return
        try:
            blocks[record.path] = block(record.path, phase, record.address, record.size, record.data,
                                        truncated=record.truncated, unreadable=record.unreadable)
        except ValidationError as exc:
            self._problems.append(TapeProblem(offset, "bad-record",
                                              f"record at offset {offset} skipped: {exc.errors()[0]['msg']}"))
            return
        self.blobs.setdefault(blocks[record.path].sha256, record.data)

    def attach_call_memory(self) -> None:
        """Put the call-phase blocks on their CALL events (they follow the CALL record on the tape)."""
        for (phase, seq), blocks in self._memory.items():
            if phase is Phase.CALL:
                self.events[seq - 1] = self.events[seq - 1].model_copy(update={"memory": tuple(blocks.values())})

    def _detach(self, record: Record) -> None:
        self.after_detach = 0

    def _fault(self, record: Record) -> FaultEvent | None:
        f, offset = record.fields, record.offset
        call = self._by_tape_seq.get(f.call_seq)
        if call is None or call.seq in self._answered:
            self._problems.append(TapeProblem(offset, "orphan", (
                f"the fault record for tape seq {f.call_seq} at offset {offset}: "
                f"{'its call already ended' if call else 'its call record is missing'}; skipped")))
            return None
        if f.call_seq in self._returned or self._last_fault[f.call_seq] != offset:
            self.handled += 1
            return None
        ev = FaultEvent(seq=len(self.events) + 1, ts_ns=self.ts(f.qpc), thread=f.thread, call_seq=call.seq,
                        msg=call.msg, driver_id=call.driver_id, hdrvr=call.hdrvr, code=f.code,
                        module=fault_module(record), offset=f.offset, entry_point=call.entry_point)
        self._answered.add(call.seq)
        self.faulted = (call, ev)
        return ev

    def _return(self, record: Record) -> ReturnEvent | None:
        f, offset = record.fields, record.offset
        call = self._by_tape_seq.get(f.call_seq)
        if call is None or call.seq in self._answered:
            why = "already answered" if call is not None else "its call record is missing"
            self._problems.append(TapeProblem(offset, "orphan",
                                              f"the return for tape seq {f.call_seq} at offset {offset}: {why}; skipped"))
            return None
        self._answered.add(call.seq)
        return ReturnEvent(seq=len(self.events) + 1, ts_ns=self.ts(f.qpc), thread=f.thread, call_seq=call.seq,
                           msg=f.msg, driver_id=f.driver_id, hdrvr=f.hdrvr, result=self._result(f),
                           duration_ns=max(0, (f.qpc - self._call_qpc[call.seq]) * 1_000_000_000 // self._tape.freq),
                           memory=tuple(self._memory.get((Phase.RETURN, call.seq), {}).values()),
                           entry_point=call.entry_point)

    def _result(self, f: ReturnRecord) -> int:
        """The LRESULT, sign-extended by the tap; but DRV_OPEN's is the instance id winmm passes
        back as the DWORD_PTR dwDriverId (DriverProc's: a MODM_OPEN has the same number), zero-extended: in a 32-bit process one at or above
        2 GiB (Wine 8.0's 32-bit msrle32 returned 0xFFFF0000) is that unsigned value."""
        if self._tape.pointer_size == 4 and f.msg == DRV_OPEN and f.entry_point == 0:
            return f.result & 0xFFFF_FFFF
        return f.result


class _Ending(NamedTuple):
    """The end event's fields but its seq."""

    ts_ns: int
    thread: int
    reason: EndReason
    call_seq: int | None
    detail: str


def _ending(built: _Events, end: EndRecord | None, torn: TapeProblem | None, unfinished: str) -> _Ending:
    """How the session ended (see the module's docstring); end: its END or DETACH record."""
    outstanding = built.outstanding()
    inner = max(outstanding, key=lambda ev: (ev.depth, ev.seq)) if outstanding else None
    waiting = (f"; {len(outstanding)} call(s) never returned, the innermost seq {inner.seq} "
               f"({message_name(inner.msg)})") if inner else ""
    last_ts = built.events[-1].ts_ns if built.events else 0
    last_thread = built.events[-1].thread if built.events else 0
    if built.faulted is not None:
        call, fault = built.faulted
        exited = end is not None and (end.type == REC_DETACH or end.reason == END_PROCESS_EXIT)
        return _Ending(last_ts, call.thread, EndReason.PROCESS_EXIT if exited else EndReason.CRASH, call.seq,
                       f"exception {exception_code(fault.code)} at {fault_place(fault.module, fault.offset)} "
                       f"in call seq {call.seq} "
                       f"({message_name(call.msg)}), which never returned" + waiting)
    if end is not None:
        exited = end.type == REC_DETACH or end.reason == END_PROCESS_EXIT
        text = "the process exited with the driver loaded" if exited else "the tap was unloaded"
        if built.after_detach is not None:
            text += f"; {built.after_detach} message(s) came after the tap's process-exit detach"
        try:
            ended_at = max(last_ts, built.ts(end.qpc))
        except ValueError:
            ended_at = last_ts  # a damaged clock in the end record: the last good time stands
        return _Ending(ended_at, end.thread, EndReason.PROCESS_EXIT if exited else EndReason.CLOSED,
                       inner.seq if inner else None, text + waiting)
    if torn is not None:
        return _Ending(last_ts, last_thread, EndReason.KILLED, inner.seq if inner else None,
                       f"torn record at offset {torn.offset}: the process died while writing it" + waiting)
    if inner is not None and unfinished == "hang":
        hung = min(outstanding, key=lambda ev: (ev.depth, ev.seq))
        return _Ending(last_ts, hung.thread, EndReason.HANG, hung.seq,
                       f"call seq {hung.seq} ({message_name(hung.msg)}) never returned and the tape has "
                       "no end record: taken as a hang (ingest --unfinished hang)" + waiting)
    if inner is not None:
        return _Ending(last_ts, inner.thread, EndReason.UNKNOWN, inner.seq,
                       f"call seq {inner.seq} ({message_name(inner.msg)}) never returned and the tape has "
                       "no end record: the process died inside it (a crash or a kill), or is still running")
    return _Ending(last_ts, last_thread, EndReason.UNKNOWN, None,
                   "the tape has no end record: the process died between messages, "
                   "or was still running when the tape was read")
