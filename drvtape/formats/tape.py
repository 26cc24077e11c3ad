"""The tape format of the native recording proxy (native/drvtap): frames and records.

The format (version 4, and versions 3, 2 and 1 which older taps wrote; native/drvtap/drvtap.h
is the writer's copy of this text). A tape is a sequence of frames, little-endian: u32 body length
(4 .. 1 MiB), u32 CRC32 of the body (zlib's), the body; a body starts with its u32 record type.
Version 2 is written into mapped chunks of the file that start at multiples of 64 KiB
(CHUNK_ALIGN): zeros where a frame would start that run to such a boundary or to the end of
the file are padding, not damage; the length is written last, so a frame of length 0 with
bytes after it is a record its process died writing (torn when nothing intact follows it).

    HEADER 1  72 bytes: type, magic "DRVTAPE1", u32 version, u32 pid, u32 flags (bit 0:
              flush every record), u32 pointer size, u32 reserved, u64 QPC frequency,
              u64 QPC at start, u64 FILETIME at start (UTC), u64 reserved x2; then 5
              strings (u32 UTF-16 code units + the units): machine, OS, process image,
              real driver path, tap DLL path
    CALL   2  72 bytes: type, u32 pid, u32 thread, u32 depth, u64 seq, u64 QPC, u32 msg,
              u16 n_payloads, u16 entry_point, u64 driver_id, u64 hdrvr, i64 lparam1,
              i64 lparam2; then payloads: u8 param (1/2), u8 kind, u16 flags (1: truncated),
              u32 length, data. entry_point (version 4; before, the high half of a u32
              n_payloads, always 0): which function got the call, 0 DriverProc, 1..6
              wodMessage, widMessage, modMessage, midMessage, mxdMessage, auxMessage
              (drvtape.schema.entry_points). A device entry point's (uDeviceID, uMsg, dwUser,
              dwParam1, dwParam2) are written as hdrvr, msg, driver_id, lparam1, lparam2
    RETURN 3  72 bytes: type, u32 pid, u32 thread, u32 depth, u64 seq, u64 QPC,
              u64 call_seq, u32 msg, u32 entry_point (version 4; reserved, 0, before),
              u64 driver_id, u64 hdrvr, i64 lresult. The RETURN of a device entry point's
              open (WODM_OPEN, MODM_OPEN, ...) holds as driver_id the instance the driver
              stored at dwUser, which the device's later calls pass as their dwUser
    END    4  40 bytes: type, u32 pid, u32 thread, u32 reason (1 unloaded, 2 process
              exit: version 1 only), u64 seq, u64 QPC, u32 calls in flight, u32 reserved
    DETACH 6  the END layout, reason 0 (version 2): the process is exiting. Not the last
              record: messages sent after the tap's detach (msacm32 closing its instances)
              follow it and belong to the session
    FAULT  5  64 bytes: type, u32 pid, u32 thread, u32 depth, u64 seq, u64 QPC, u64 call_seq,
              u32 exception code, u32 reserved, u64 address, u64 offset in the module;
              then 1 string: the module's file name (empty: in no module, offset = address).
              Written by a vectored handler for exceptions >= 0xC0000000 raised inside a
              forwarded call (so before any handler runs: a RETURN for the call after it
              means the driver handled the exception)
    MEMORY 7  (version 3) 52 bytes: type, u32 pid, u32 thread, u32 phase (1 call,
              2 return), u64 call_seq, u64 address, u64 size (computed by the catalog),
              u32 captured (bytes that follow), u32 flags (1 truncated at DRVTAP_MEMORY_CAP,
              2 unreadable: nothing captured), u16 path_len, u16 reserved; then the path
              (ASCII, e.g. "lparam1.lpbiInput"), then the captured bytes. One block of the
              memory behind a call's lParam (drvtape.schema.memory's catalog says which),
              written after its CALL record (phase 1: what the driver reads) or after the
              call returned and before its RETURN record (phase 2: what it wrote). Not
              numbered: it names its CALL's seq (drvtape.formats.tape_memory reads it)

A tap in a 32-bit process writes the same records (pointers and handles zero- or, for an
LPARAM, sign-extended to 64 bits) with pointer size 4 in its header.

Payload kinds: 1 wide string (UTF-16LE, no NUL); 2 ICOPEN (the struct's 56 x64 bytes, 36 x86);
3 raw bytes; 4 DRVCONFIGINFO (u32 dwDCISize, 2 strings); 5 ACMDRVOPENDESCW (7 u32:
cbStruct, fccType, fccComp, dwVersion, dwFlags, dwError, dnDevNode; 2 strings). A payload
string is u32 units (0xFFFFFFFF: NULL or unreadable) + the units.

Damage: a frame whose length is out of range or whose CRC does not match is reported
with its offset and skipped; reading resumes at the next offset where a whole frame with
a matching CRC starts. A frame cut short by the end of the file (the process died while
writing it) is a torn tail: everything before it is kept and the session ends "killed".

A tape's records -> sessions (which session a record belongs to, how each session ended)
is drvtape.recorder.ingest.
"""


from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from pydantic import ValidationError

from drvtape.errors import DrvtapeError
from drvtape.formats.tape_frames import (  # noqa: F401  (the frame layer's names are the tape format's too)
    CHUNK_ALIGN, MAX_BODY, FrameReader, TapeProblem, frames, starts_like_a_tape,
)
from drvtape.formats.tape_memory import REC_MEMORY, MemoryRecord, parse_memory
from drvtape.schema.payloads import AcmDrvOpenDescW, CallPayloads, DrvConfigInfo, IcOpen, RawBytes, WideString

MAGIC = b"DRVTAPE1"
VERSION = 4
VERSIONS = (1, 2, 3, 4)  # 1: written with WriteFile, no padding, no DETACH record; 2: no MEMORY record;
# 3: every call a DriverProc's (no entry point)
REC_HEADER, REC_CALL, REC_RETURN, REC_END, REC_FAULT, REC_DETACH = 1, 2, 3, 4, 5, 6
P_WSTR, P_ICOPEN, P_BYTES, P_DRVCONFIGINFO, P_ACMDRVOPENDESCW = 1, 2, 3, 4, 5
PF_TRUNCATED = 1
NULL_STRING = 0xFFFFFFFF
END_UNLOADED, END_PROCESS_EXIT = 1, 2

HEADER = struct.Struct("<I8sIIIIIQQQQQ")  # 72
CALL = struct.Struct("<IIIIQQIHHQQqq")  # 72
RETURN = struct.Struct("<IIIIQQQIIQQq")  # 72
END = struct.Struct("<IIIIQQII")  # 40
FAULT = struct.Struct("<IIIIQQQIIQQ")  # 64
PAYLOAD = struct.Struct("<BBHI")
# the frames of the common records, a CALL then its RETURN (drvtape.recorder.tape_events' fast path reads them):
CALL_RETURN_FRAMES = struct.Struct("<II" + CALL.format[1:] + "II" + RETURN.format[1:])
_TYPE = struct.Struct("<I")
ICOPEN = struct.Struct("<IIIIIxxxxqQQIxxxx")  # 56: x64 natural alignment
ICOPEN_X86 = struct.Struct("<IIIIIiIII")  # 36: dwError an LRESULT, pV1 and pV2 pointers, all 4 bytes
POINTER_SIZES = (4, 8)
ACM_FIELDS = struct.Struct("<7I")
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)
_new_tuple = tuple.__new__  # a named tuple without _make's second length check: once per record


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


@dataclass(frozen=True)
class TapeHeader:
    offset: int
    body: bytes
    version: int
    pid: int
    flags: int
    freq: int  # QPC ticks per second
    qpc_start: int
    started_at: datetime
    machine: str
    os: str
    process: str  # the process image
    driver: str  # the real driver's path
    tap: str  # the tap DLL's path
    pointer_size: int  # 8: a 64-bit process, 4: a 32-bit one


class CallRecord(NamedTuple):
    type: int
    pid: int
    thread: int
    depth: int
    seq: int
    qpc: int
    msg: int
    n_payloads: int
    entry_point: int  # drvtape.schema.entry_points' code
    driver_id: int
    hdrvr: int
    lparam1: int
    lparam2: int


class ReturnRecord(NamedTuple):
    type: int
    pid: int
    thread: int
    depth: int
    seq: int
    qpc: int
    call_seq: int
    msg: int
    entry_point: int
    driver_id: int
    hdrvr: int
    result: int


class EndRecord(NamedTuple):
    type: int
    pid: int
    thread: int
    reason: int  # END_UNLOADED or END_PROCESS_EXIT; 0 in a DETACH record
    seq: int
    qpc: int
    in_flight: int
    reserved: int


class FaultRecord(NamedTuple):
    type: int
    pid: int
    thread: int
    depth: int
    seq: int
    qpc: int
    call_seq: int
    code: int
    reserved: int
    address: int
    offset: int  # in the module


Fields = CallRecord | ReturnRecord | EndRecord | FaultRecord
_SHAPES = {REC_CALL: (CALL, CallRecord), REC_RETURN: (RETURN, ReturnRecord), REC_END: (END, EndRecord),
           REC_FAULT: (FAULT, FaultRecord), REC_DETACH: (END, EndRecord)}


class Record(NamedTuple):
    """A CALL, RETURN, END, FAULT or DETACH record: its fixed fields, and the body for what follows them."""

    offset: int
    fields: Fields
    body: bytes


def records(data: bytes, problems: list[TapeProblem]) -> Iterator[TapeHeader | Record | MemoryRecord]:
    """The headers and records of every intact frame, in file order; damage and records that
    cannot be read go to problems (see frames)."""
    for offset, body in frames(data, problems):
        if (item := record_of(offset, body, problems)) is not None:
            yield item


def record_of(offset: int, body: bytes, problems: list[TapeProblem]) -> TapeHeader | Record | MemoryRecord | None:
    """The header or record in a frame's body; None (and a problem) when it cannot be read."""
    rtype = _TYPE.unpack_from(body)[0]
    shape = _SHAPES.get(rtype)
    if shape is not None and len(body) >= shape[0].size:  # the common case first: once per record
        return _new_tuple(Record, (offset, _new_tuple(shape[1], shape[0].unpack_from(body)), body))
    if rtype == REC_HEADER:
        try:
            return parse_header(offset, body)
        except (ValueError, struct.error) as exc:
            problems.append(TapeProblem(offset, "bad-record", f"{exc} at offset {offset}; its session is skipped"))
            return None
    if rtype == REC_MEMORY:
        try:
            return parse_memory(offset, body)
        except ValueError as exc:
            problems.append(TapeProblem(offset, "bad-record", f"{exc} at offset {offset}; skipped"))
            return None
    if shape is None:
        problems.append(TapeProblem(offset, "unknown-record", f"record type {rtype} at offset {offset} skipped"))
    else:
        problems.append(TapeProblem(offset, "bad-record", f"record of {len(body)} bytes at offset {offset} skipped"))
    return None


def parse_header(offset: int, body: bytes) -> TapeHeader:
    if len(body) < HEADER.size:
        raise ValueError(f"header record of {len(body)} bytes (at least {HEADER.size} expected)")
    (_, magic, version, pid, flags, ptr_size, _, freq, qpc_start, filetime, _, _) = HEADER.unpack_from(body)
    if magic != MAGIC:
        raise ValueError(f"header record without the {MAGIC.decode()} magic")
    if version not in VERSIONS:
        raise DrvtapeError(f"tape format version {version} at offset {offset}: this drvtape reads versions "
                           f"{', '.join(map(str, VERSIONS))}")
    if ptr_size not in POINTER_SIZES:
        raise ValueError(f"header with pointer size {ptr_size} (4 or 8 expected)")
    if freq == 0:
        raise ValueError("header with a zero QueryPerformanceFrequency")
    reader = _Reader(body, HEADER.size)
    machine, os_name, image, driver, tap = (reader.string() for _ in range(5))
    try:
        started = _FILETIME_EPOCH + timedelta(microseconds=filetime // 10)
        started.isoformat()
    except OverflowError:
        raise ValueError(f"header start time (FILETIME {filetime}) past the year 9999") from None
    return TapeHeader(offset, body, version, pid, flags, freq, qpc_start, started, machine, os_name, image, driver,
                      tap, ptr_size)


def fault_module(record: Record) -> str | None:
    """The module a FAULT record names (None: in no module)."""
    return _Reader(record.body, FAULT.size).string() or None


def call_payloads(record: Record, problems: list[TapeProblem], pointer_size: int = 8) -> CallPayloads | None:
    """The payloads after a CALL record's fields, written by a process with that pointer size;
    bad ones go to problems."""
    if not record.fields.n_payloads:
        return None
    body, offset = record.body, record.offset
    found = {}
    reader = _Reader(body, CALL.size)
    for _ in range(record.fields.n_payloads):
        try:
            param, kind, flags, length = PAYLOAD.unpack(reader.take(PAYLOAD.size))
            data = reader.take(length)
        except (ValueError, struct.error):
            problems.append(TapeProblem(offset, "bad-payload", f"the call record at offset {offset} has a cut payload"))
            break
        try:
            payload = _payload(kind, data, pointer_size)
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


def _payload(kind: int, data: bytes, pointer_size: int):
    if kind == P_WSTR:
        return WideString(text=data.decode("utf-16-le", errors="replace"))
    if kind == P_ICOPEN:
        layout = ICOPEN if pointer_size == 8 else ICOPEN_X86
        size, fcc_type, handler, version, flags, error, _, _, devnode = layout.unpack(data[:layout.size].ljust(layout.size, b"\0"))
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
