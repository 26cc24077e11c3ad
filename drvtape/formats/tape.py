"""Tapes written by the native recording proxy (native/drvtap) -> sessions.

The format (version 1; native/drvtap/drvtap.h is the writer's copy of this text). A tape is
a sequence of frames, little-endian: u32 body length (4 .. 1 MiB), u32 CRC32 of the body
(zlib's), the body; a body starts with its u32 record type.

    HEADER 1  72 bytes: type, magic "DRVTAPE1", u32 version, u32 pid, u32 flags (bit 0:
              flush every record), u32 pointer size, u32 reserved, u64 QPC frequency,
              u64 QPC at start, u64 FILETIME at start (UTC), u64 reserved x2; then 5
              strings (u32 UTF-16 code units + the units): machine, OS, process image,
              real driver path, tap DLL path
    CALL   2  72 bytes: type, u32 pid, u32 thread, u32 depth, u64 seq, u64 QPC, u32 msg,
              u32 n_payloads, u64 driver_id, u64 hdrvr, i64 lparam1, i64 lparam2; then
              payloads: u8 param (1/2), u8 kind, u16 flags (1: truncated), u32 length, data
    RETURN 3  72 bytes: type, u32 pid, u32 thread, u32 depth, u64 seq, u64 QPC,
              u64 call_seq, u32 msg, u32 reserved, u64 driver_id, u64 hdrvr, i64 lresult
    END    4  40 bytes: type, u32 pid, u32 thread, u32 reason (1 unloaded, 2 process
              exit), u64 seq, u64 QPC, u32 calls in flight, u32 reserved
    FAULT  5  64 bytes: type, u32 pid, u32 thread, u32 depth, u64 seq, u64 QPC, u64 call_seq,
              u32 exception code, u32 reserved, u64 address, u64 offset in the module;
              then 1 string: the module's file name (empty: in no module, offset = address).
              Written by a vectored handler for exceptions >= 0xC0000000 raised inside a
              forwarded call (so before any handler runs: a RETURN for the call after it
              means the driver handled the exception)

Payload kinds: 1 wide string (UTF-16LE, no NUL); 2 ICOPEN (the struct's 56 x64 bytes);
3 raw bytes; 4 DRVCONFIGINFO (u32 dwDCISize, 2 strings); 5 ACMDRVOPENDESCW (7 u32:
cbStruct, fccType, fccComp, dwVersion, dwFlags, dwError, dnDevNode; 2 strings). A payload
string is u32 units (0xFFFFFFFF: NULL or unreadable) + the units.

A header starts a session; CALL/RETURN/END records belong to the latest header with the
same pid (a file may hold several sessions: the tap appends). The tape's seq counts the
records of a session from 1; events are renumbered 1, 2, ... in file order (which is seq
order: the tap assigns seq and writes under one lock), so a lost record leaves no gap.

Damage: a frame whose length is out of range or whose CRC does not match is reported
with its offset and skipped; reading resumes at the next offset where a whole frame with
a matching CRC starts. A frame cut short by the end of the file (the process died while
writing it) is a torn tail: everything before it is kept and the session ends "killed".

How a session ends: a FAULT record for a call that never returned -> a fault event (the
call's last FAULT record) and "crash" at that call; an END record -> "process-exit" (2)
or "closed" (1, the tap was unloaded); no END record and a torn tail -> "killed"; no END
record and calls that never returned -> "unknown" with the innermost such call (the
process died inside it, killed or hung, or of an exception the tap did not see); no END
record otherwise -> "unknown" (the process died between messages, or was still running
when the tape was read). With unfinished="hang" (`drvtape ingest --unfinished hang`: the
user killed the process because it hung) calls that never returned, with no END record
and no torn tail, end the session "hang" at the oldest outermost one, which is what a
replay with a per-call timeout reports. FAULT records of calls that returned are exceptions the driver
handled: counted (TapeSession.handled_exceptions), not events.

A session's id is a UUID5 of its header's offset, its header body and its first record
body, so ingesting the same tape again (or a copy, or the same tape after the tap
appended more to it) finds the same ids.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import ValidationError

from drvtape.errors import DrvtapeError
from drvtape.schema.values import INT64_MAX
from drvtape.schema.events import CallEvent, EndEvent, EndReason, Event, FaultEvent, ReturnEvent, SessionHeader
from drvtape.schema.messages import message_name
from drvtape.schema.payloads import AcmDrvOpenDescW, CallPayloads, DrvConfigInfo, IcOpen, RawBytes, WideString

MAGIC = b"DRVTAPE1"
VERSION = 1
MAX_BODY = 1 << 20
REC_HEADER, REC_CALL, REC_RETURN, REC_END, REC_FAULT = 1, 2, 3, 4, 5
P_WSTR, P_ICOPEN, P_BYTES, P_DRVCONFIGINFO, P_ACMDRVOPENDESCW = 1, 2, 3, 4, 5
PF_TRUNCATED = 1
NULL_STRING = 0xFFFFFFFF
END_UNLOADED, END_PROCESS_EXIT = 1, 2
FLAG_FLUSH_EVERY = 1
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:drvtape:drvtap-tape")

FRAME = struct.Struct("<II")
HEADER = struct.Struct("<I8sIIIIIQQQQQ")  # 72
CALL = struct.Struct("<IIIIQQIIQQqq")  # 72
RETURN = struct.Struct("<IIIIQQQIIQQq")  # 72
END = struct.Struct("<IIIIQQII")  # 40
FAULT = struct.Struct("<IIIIQQQIIQQ")  # 64
PAYLOAD = struct.Struct("<BBHI")
ICOPEN = struct.Struct("<IIIIIxxxxqQQIxxxx")  # 56: x64 natural alignment
ACM_FIELDS = struct.Struct("<7I")
_TYPE_AT_BODY = re.compile(rb"(?=[\x01-\x05]\x00\x00\x00)")  # a body's u32 record type, 1..5
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class TapeProblem:
    offset: int
    kind: str  # torn, bad-crc, bad-length, orphan, unknown-record, bad-record, bad-payload, seq-gap
    detail: str

    def to_json(self) -> dict:
        return {"offset": self.offset, "kind": self.kind, "detail": self.detail}


@dataclass
class TapeSession:
    header: SessionHeader
    events: list[Event]
    calls: int
    end: EndEvent
    handled_exceptions: int = 0


@dataclass
class Tape:
    source: str
    sessions: list[TapeSession]
    problems: list[TapeProblem]


# ---- frames ------------------------------------------------------------------------------


def _frame_at(data: bytes, pos: int) -> tuple[str, int]:
    """('ok', body length) or (what is wrong, declared length) for the frame at pos."""
    if len(data) - pos < FRAME.size:
        return "torn", -1
    length, crc = FRAME.unpack_from(data, pos)
    if length < 4 or length > MAX_BODY:
        return "bad-length", length
    end = pos + FRAME.size + length
    if end > len(data):
        return "torn", length
    if zlib.crc32(memoryview(data)[pos + FRAME.size:end]) != crc:
        return "bad-crc", length
    return "ok", length


def _resync(data: bytes, start: int) -> int | None:
    """The first offset >= start where a whole frame with a matching CRC starts. Only offsets
    whose body would begin with a known record type are checked (found by a regex, in C), so
    a long damaged stretch costs little."""
    view = memoryview(data)
    for match in _TYPE_AT_BODY.finditer(data, start + FRAME.size):
        pos = match.start() - FRAME.size
        length, crc = FRAME.unpack_from(data, pos)
        if length < 4 or length > MAX_BODY or pos + FRAME.size + length > len(data):
            continue
        if zlib.crc32(view[pos + FRAME.size:pos + FRAME.size + length]) == crc:
            return pos
    return None


def frames(data: bytes, problems: list[TapeProblem]) -> list[tuple[int, bytes]]:
    """(offset, body) of every intact frame; damage goes to problems. A torn tail is
    reported as kind 'torn' (always the last problem when present)."""
    out = []
    pos = 0
    while pos < len(data):
        state, length = _frame_at(data, pos)
        if state == "ok":
            end = pos + FRAME.size + length
            out.append((pos, data[pos + FRAME.size:end]))
            pos = end
            continue
        nxt = _resync(data, pos + 1)
        if nxt is None:
            if state == "torn":
                problems.append(TapeProblem(pos, "torn", (
                    f"the tape ends inside a record at offset {pos} ({len(data) - pos} of "
                    f"{'?' if length < 0 else FRAME.size + length} bytes): the process died while writing it;"
                    " everything before it is kept")))
            else:
                problems.append(TapeProblem(pos, state, (
                    f"{_damage(state, length)} at offset {pos}; no intact record after it "
                    f"({len(data) - pos} bytes skipped)")))
            break
        what = "a record running past the end of the tape" if state == "torn" else _damage(state, length)
        problems.append(TapeProblem(pos, "bad-length" if state == "torn" else state, (
            f"{what} at offset {pos}: skipped {nxt - pos} bytes, resynchronized at offset {nxt}")))
        pos = nxt
    return out


def _damage(state: str, length: int) -> str:
    if state == "bad-length":
        return f"a record length of {length} bytes (allowed: 4 to {MAX_BODY})"
    return "a record whose CRC does not match"


# ---- records -----------------------------------------------------------------------------


class _Reader:
    def __init__(self, body: bytes, at: int):
        self.body, self.at = body, at

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.body):
            raise ValueError("record shorter than its contents")
        out = self.body[self.at:self.at + n]
        self.at += n
        return out

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def units(self, n: int) -> str:
        return self.take(2 * n).decode("utf-16-le", errors="replace")

    def string(self) -> str:
        return self.units(self.u32())

    def optional_string(self) -> str | None:
        n = self.u32()
        return None if n == NULL_STRING else self.units(n)


@dataclass
class _Session:
    offset: int
    header_body: bytes
    pid: int
    freq: int
    qpc_start: int
    started_at: datetime
    strings: list[str]
    flags: int
    records: list[tuple[int, int, tuple, bytes]] = field(default_factory=list)  # (offset, type, fields, body)
    end: tuple | None = None


def _parse_header(offset: int, body: bytes) -> _Session:
    if len(body) < HEADER.size:
        raise ValueError(f"header record of {len(body)} bytes (at least {HEADER.size} expected)")
    (_, magic, version, pid, flags, ptr_size, _, freq, qpc_start, filetime, _, _) = HEADER.unpack_from(body)
    if magic != MAGIC:
        raise ValueError(f"header record without the {MAGIC.decode()} magic")
    if version != VERSION:
        raise DrvtapeError(f"tape format version {version} at offset {offset}: this drvtape reads version {VERSION}")
    if ptr_size != 8:
        raise ValueError(f"a tape of a {ptr_size * 8}-bit process (only 64-bit tapes are read)")
    if freq == 0:
        raise ValueError("header with a zero QueryPerformanceFrequency")
    reader = _Reader(body, HEADER.size)
    strings = [reader.string() for _ in range(5)]
    try:
        started = _FILETIME_EPOCH + timedelta(microseconds=filetime // 10)
        started.isoformat()
    except OverflowError:
        raise ValueError(f"header start time (FILETIME {filetime}) past the year 9999") from None
    return _Session(offset, body, pid, freq, qpc_start, started, strings, flags)


def _payloads(body: bytes, count: int, offset: int, problems: list[TapeProblem]) -> CallPayloads | None:
    found = {}
    reader = _Reader(body, CALL.size)
    for _ in range(count):
        try:
            param, kind, flags, length = PAYLOAD.unpack(reader.take(PAYLOAD.size))
            data = reader.take(length)
        except (ValueError, struct.error):
            problems.append(TapeProblem(offset, "bad-payload", f"the call record at offset {offset} has a cut payload"))
            break
        try:
            payload = _payload(kind, data)
        except (ValueError, struct.error, ValidationError) as exc:
            problems.append(TapeProblem(offset, "bad-payload", f"payload of kind {kind} at offset {offset}: {exc}"))
            continue
        if payload is None or param not in (1, 2):
            problems.append(TapeProblem(offset, "bad-payload",
                                        f"unknown payload (param {param}, kind {kind}) at offset {offset} ignored"))
            continue
        if flags & PF_TRUNCATED:
            problems.append(TapeProblem(offset, "truncated-payload",
                                        f"the lparam{param} payload at offset {offset} was cut at the tap's size cap"))
        found[f"lparam{param}"] = payload
    return CallPayloads(**found) if found else None


def _payload(kind: int, data: bytes):
    if kind == P_WSTR:
        return WideString(text=data.decode("utf-16-le", errors="replace"))
    if kind == P_ICOPEN:
        size, fcc_type, handler, version, flags, error, _, _, devnode = ICOPEN.unpack(data[:ICOPEN.size].ljust(ICOPEN.size, b"\0"))
        return IcOpen(dwSize=size, fccType=fcc_type, fccHandler=handler, dwVersion=version, dwFlags=flags,
                      dwError=error, dnDevNode=devnode)
    if kind == P_BYTES:
        return RawBytes(hex=data.hex())
    if kind == P_DRVCONFIGINFO:
        reader = _Reader(data, 4)
        return DrvConfigInfo(section=reader.optional_string(), alias=reader.optional_string())
    if kind == P_ACMDRVOPENDESCW:
        cb, fcc_type, comp, version, flags, error, devnode = ACM_FIELDS.unpack_from(data)
        reader = _Reader(data, ACM_FIELDS.size)
        return AcmDrvOpenDescW(cbStruct=cb, fccType=fcc_type, fccComp=comp, dwVersion=version, dwFlags=flags,
                               dwError=error, section=reader.optional_string(), alias=reader.optional_string(),
                               dnDevNode=devnode)
    return None


# ---- sessions ----------------------------------------------------------------------------


UNFINISHED = ("unknown", "hang")


def parse_tape(data: bytes, source: str = "<tape>", *, unfinished: str = "unknown") -> Tape:
    """Every session of a tape. DrvtapeError when the data is not a tape at all.
    unfinished: how calls that never returned end a session with no END record (see above)."""
    if unfinished not in UNFINISHED:
        raise DrvtapeError(f"unfinished must be one of {', '.join(UNFINISHED)}, not {unfinished!r}")
    if not data:
        raise DrvtapeError(f"{source}: the file is empty (not a drvtap tape)")
    problems: list[TapeProblem] = []
    intact = frames(data, problems)
    torn = problems[-1] if problems and problems[-1].kind == "torn" else None
    sessions: list[_Session] = []
    current: dict[int, _Session] = {}
    last_touched: _Session | None = None
    for offset, body in intact:
        rtype = struct.unpack_from("<I", body)[0]
        if rtype == REC_HEADER:
            try:
                session = _parse_header(offset, body)
            except (ValueError, struct.error) as exc:
                problems.append(TapeProblem(offset, "bad-record", f"{exc} at offset {offset}; its session is skipped"))
                continue
            sessions.append(session)
            current[session.pid] = last_touched = session
            continue
        shape = {REC_CALL: CALL, REC_RETURN: RETURN, REC_END: END, REC_FAULT: FAULT}.get(rtype)
        if shape is None:
            problems.append(TapeProblem(offset, "unknown-record", f"record type {rtype} at offset {offset} skipped"))
            continue
        if len(body) < shape.size:
            problems.append(TapeProblem(offset, "bad-record", f"record of {len(body)} bytes at offset {offset} skipped"))
            continue
        fields = shape.unpack_from(body)
        session = current.get(fields[1])
        if session is None:
            problems.append(TapeProblem(offset, "orphan", (
                f"a record of process {fields[1]} at offset {offset} with no session header before it: skipped")))
            continue
        if session.end is not None:
            problems.append(TapeProblem(offset, "orphan", f"a record after its session's end at offset {offset}: skipped"))
            continue
        last_touched = session
        if rtype == REC_END:
            session.end = fields
        else:
            session.records.append((offset, rtype, fields, body))
    if not sessions:
        if problems and problems[0].kind == "bad-record":
            raise DrvtapeError(f"{source}: {problems[0].detail}")
        raise DrvtapeError(f"{source}: not a drvtap tape (no intact {MAGIC.decode()} header record)")
    try:
        built = [_build(s, problems, torn if s is last_touched else None, unfinished) for s in sessions]
    except DrvtapeError as exc:
        raise DrvtapeError(f"{source}: {exc}") from None
    problems.sort(key=lambda p: p.offset)
    return Tape(source, built, problems)


def _build(s: _Session, problems: list[TapeProblem], torn: TapeProblem | None, unfinished: str) -> TapeSession:
    machine, os_name, image, real, _tap = s.strings
    first = s.records[0][3] if s.records else b""
    try:
        header = SessionHeader(
            id=uuid.uuid5(NAMESPACE, f"{s.offset}:{(s.header_body + first).hex()}"),
            driver=real or "<unknown driver>", target=f"dll:{real}" if real else None,
            machine=machine, os=os_name, process=image, pid=s.pid,
            recorder_version=f"drvtap (tape format {VERSION})", started_at=s.started_at,
            clock="qpc", source="ingest",
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DrvtapeError(f"the tape header at offset {s.offset} has a {'.'.join(map(str, err['loc']))} "
                           f"drvtape cannot store: {err['msg']}") from None

    def ts(qpc: int) -> int:
        ns = max(0, (qpc - s.qpc_start) * 1_000_000_000 // s.freq)
        if ns > INT64_MAX:
            raise ValueError(f"a time {ns} ns after the start, past what a 64-bit clock can hold")
        return ns

    returned = {fields[6] for _, rtype, fields, _ in s.records if rtype == REC_RETURN}
    last_fault = {fields[6]: offset for offset, rtype, fields, _ in s.records if rtype == REC_FAULT}
    handled = 0
    faulted: tuple[CallEvent, FaultEvent] | None = None
    events: list[Event] = []
    by_tape_seq: dict[int, CallEvent] = {}
    answered: set[int] = set()
    call_qpc: dict[int, int] = {}
    last_seq = 0
    calls = 0
    for offset, rtype, fields, body in s.records:
        tape_seq = fields[4]
        if tape_seq != last_seq + 1:
            problems.append(TapeProblem(offset, "seq-gap", (
                f"tape seq {tape_seq} after {last_seq} at offset {offset}: "
                f"{'records are missing' if tape_seq > last_seq else 'out of order'}")))
        last_seq = tape_seq
        try:
            if rtype == REC_CALL:
                _, _, thread, depth, _, qpc, msg, n_payloads, driver_id, hdrvr, l1, l2 = fields
                ev = CallEvent(seq=len(events) + 1, ts_ns=ts(qpc), thread=thread, msg=msg, driver_id=driver_id,
                               hdrvr=hdrvr, lparam1=l1, lparam2=l2, depth=depth,
                               payload=_payloads(body, n_payloads, offset, problems) if n_payloads else None)
                by_tape_seq[tape_seq] = ev
                call_qpc[ev.seq] = qpc
                calls += 1
            elif rtype == REC_FAULT:
                _, _, thread, _, _, qpc, call_tape_seq, code, _, _, offset_in = fields
                call = by_tape_seq.get(call_tape_seq)
                if call is None or call.seq in answered:
                    problems.append(TapeProblem(offset, "orphan", (
                        f"the fault record for tape seq {call_tape_seq} at offset {offset}: "
                        f"{'its call already ended' if call else 'its call record is missing'}; skipped")))
                    continue
                if call_tape_seq in returned or last_fault[call_tape_seq] != offset:
                    handled += 1  # the driver handled it (its call returned), or a later one ended the call
                    continue
                module = _Reader(body, FAULT.size).string() or None
                ev = FaultEvent(seq=len(events) + 1, ts_ns=ts(qpc), thread=thread, call_seq=call.seq, msg=call.msg,
                                driver_id=call.driver_id, hdrvr=call.hdrvr, code=code, module=module,
                                offset=offset_in)
                answered.add(call.seq)
                faulted = (call, ev)
            else:
                _, _, thread, _, _, qpc, call_tape_seq, msg, _, driver_id, hdrvr, result = fields
                call = by_tape_seq.get(call_tape_seq)
                if call is None or call.seq in answered:
                    why = "already answered" if call is not None else "its call record is missing"
                    problems.append(TapeProblem(offset, "orphan",
                                                f"the return for tape seq {call_tape_seq} at offset {offset}: {why}; skipped"))
                    continue
                answered.add(call.seq)
                ev = ReturnEvent(seq=len(events) + 1, ts_ns=ts(qpc), thread=thread, call_seq=call.seq, msg=msg,
                                 driver_id=driver_id, hdrvr=hdrvr, result=result,
                                 duration_ns=max(0, (qpc - call_qpc[call.seq]) * 1_000_000_000 // s.freq))
        except ValidationError as exc:
            problems.append(TapeProblem(offset, "bad-record", f"record at offset {offset} skipped: {exc.errors()[0]['msg']}"))
            continue
        except ValueError as exc:
            problems.append(TapeProblem(offset, "bad-record", f"record at offset {offset} skipped: {exc}"))
            continue
        events.append(ev)

    outstanding = [ev for ev in by_tape_seq.values() if ev.seq not in answered]
    inner = max(outstanding, key=lambda ev: (ev.depth, ev.seq)) if outstanding else None
    waiting = (f"; {len(outstanding)} call(s) never returned, the innermost seq {inner.seq} "
               f"({message_name(inner.msg)})") if inner else ""
    last_ts = events[-1].ts_ns if events else 0
    last_thread = events[-1].thread if events else 0
    if faulted is not None:
        call, fault = faulted
        where = f"{fault.module}+0x{fault.offset:X}" if fault.module else f"0x{fault.offset:X}"
        exited = s.end is not None and s.end[3] == END_PROCESS_EXIT
        end = EndEvent(seq=len(events) + 1, ts_ns=last_ts, thread=call.thread,
                       reason=EndReason.PROCESS_EXIT if exited else EndReason.CRASH, call_seq=call.seq,
                       detail=(f"exception 0x{fault.code:08X} at {where} in call seq {call.seq} "
                               f"({message_name(call.msg)}), which never returned" + waiting))
    elif s.end is not None:
        _, _, thread, reason, _, qpc, _, _ = s.end
        kind = EndReason.PROCESS_EXIT if reason == END_PROCESS_EXIT else EndReason.CLOSED
        text = ("the process exited with the driver loaded" if kind is EndReason.PROCESS_EXIT
                else "the tap was unloaded")
        try:
            ended_at = max(last_ts, ts(qpc))
        except ValueError:
            ended_at = last_ts  # a damaged clock in the end record: the last good time stands
        end = EndEvent(seq=len(events) + 1, ts_ns=ended_at, thread=thread, reason=kind,
                       call_seq=inner.seq if inner else None, detail=text + waiting)
    elif torn is not None:
        end = EndEvent(seq=len(events) + 1, ts_ns=last_ts, thread=last_thread, reason=EndReason.KILLED,
                       call_seq=inner.seq if inner else None,
                       detail=f"torn record at offset {torn.offset}: the process died while writing it" + waiting)
    elif inner is not None and unfinished == "hang":
        hung = min(outstanding, key=lambda ev: (ev.depth, ev.seq))
        end = EndEvent(seq=len(events) + 1, ts_ns=last_ts, thread=hung.thread, reason=EndReason.HANG,
                       call_seq=hung.seq,
                       detail=(f"call seq {hung.seq} ({message_name(hung.msg)}) never returned and the tape has "
                               "no end record: taken as a hang (ingest --unfinished hang)" + waiting))
    elif inner is not None:
        end = EndEvent(seq=len(events) + 1, ts_ns=last_ts, thread=inner.thread, reason=EndReason.UNKNOWN,
                       call_seq=inner.seq,
                       detail=(f"call seq {inner.seq} ({message_name(inner.msg)}) never returned and the tape has "
                               "no end record: the process died inside it (a crash or a kill), or is still running"))
    else:
        end = EndEvent(seq=len(events) + 1, ts_ns=last_ts, thread=last_thread, reason=EndReason.UNKNOWN,
                       detail="the tape has no end record: the process died between messages, "
                              "or was still running when the tape was read")
    events.append(end)
    return TapeSession(header, events, calls, end, handled)


def read_tape(path: str | Path, *, unfinished: str = "unknown") -> Tape:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise DrvtapeError(f"{path} is a directory, not a tape") from None
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror}") from None
    return parse_tape(data, str(path), unfinished=unfinished)
