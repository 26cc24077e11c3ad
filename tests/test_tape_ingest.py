"""Tapes of the native tap -> sessions, without Wine: tapes built by a small writer that
mirrors native/drvtap/drvtap.h, then damaged on purpose (torn tail, bad CRC, huge length)."""

import json
import struct
import uuid
import zlib
from datetime import datetime, timezone

import pytest

from drvtape.errors import DrvtapeError
from drvtape.schema.events import CallEvent, EndEvent, EndReason, ReturnEvent
from drvtape.schema.messages import (DRV_CLOSE, DRV_CONFIGURE, DRV_DISABLE, DRV_ENABLE, DRV_FREE, DRV_LOAD,
                                     DRV_OPEN, DRV_USER)
from drvtape.schema.payloads import AcmDrvOpenDescW, DrvConfigInfo, IcOpen, RawBytes, WideString
from drvtape.store import Store
from drvtape.formats.tape import MAX_BODY
from drvtape.recorder.ingest import parse_tape, read_tape

FREQ = 10_000_000  # QPC ticks per second, as Windows 10 reports
QPC0 = 5_000_000_000
STARTED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
FILETIME = int((STARTED - datetime(1601, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 10_000_000
PID = 4242
TID = 0x1A2C
HDRVR = 0xFFFF_8000_0000_1000  # above INT64_MAX: unsigned
VIDC, MRLE, AUDC = (int.from_bytes(t, "little") for t in (b"vidc", b"mrle", b"audc"))


def _u16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _string(text: str | None) -> bytes:
    return struct.pack("<I", 0xFFFFFFFF) if text is None else struct.pack("<I", len(text)) + _u16(text)


def wstr(param: int, text: str) -> tuple[int, int, int, bytes]:
    return param, 1, 0, _u16(text)


def icopen(param: int = 2, flags: int = 1, error: int = -7) -> tuple[int, int, int, bytes]:
    return param, 2, 0, struct.pack("<IIIIIxxxxqQQIxxxx", 56, VIDC, MRLE, 0x104, flags, error, 0xDEAD, 0, 3)


def raw(param: int, data: bytes, truncated: bool = False) -> tuple[int, int, int, bytes]:
    return param, 3, int(truncated), data


def drvconfiginfo(param: int, section: str | None, alias: str | None) -> tuple[int, int, int, bytes]:
    return param, 4, 0, struct.pack("<I", 20) + _string(section) + _string(alias)


def acm(param: int = 2) -> tuple[int, int, int, bytes]:
    return param, 5, 0, struct.pack("<7I", 48, AUDC, 0, 0x3320000, 0, 0, 0) + _string("Drivers32") + _string(None)


class Writer:
    """Writes frames exactly as drvtap.c does; remembers each record's offset."""

    def __init__(self, pid: int = PID):
        self.data = bytearray()
        self.pid = pid
        self.seq = 0
        self.offsets: list[int] = []

    def frame(self, body: bytes, *, crc: int | None = None, length: int | None = None) -> int:
        at = len(self.data)
        self.data += struct.pack("<II", len(body) if length is None else length,
                                 zlib.crc32(body) if crc is None else crc) + body
        self.offsets.append(at)
        return at

    def header(self, real: str = "C:\\Windows\\System32\\msrle32.dll", *, filetime: int = FILETIME,
               pointer_size: int = 8) -> int:
        self.seq = 0
        body = struct.pack("<I8sIIIIIQQQQQ", 1, b"DRVTAPE1", 1, self.pid, 0, pointer_size, 0, FREQ, QPC0, filetime, 0, 0)
        for text in ("BOX-A", "Windows 10.0.19045", "C:\\apps\\player.exe", real, "C:\\tap\\drvtap.dll"):
            body += _string(text)
        return self.frame(body)

    def call(self, msg: int, *, driver_id: int = 0, hdrvr: int = HDRVR, l1: int = 0, l2: int = 0,
             payloads=(), thread: int = TID, depth: int = 0, tick: int = 0, entry_point: int = 0) -> int:
        self.seq += 1
        body = struct.pack("<IIIIQQIHHQQqq", 2, self.pid, thread, depth, self.seq, QPC0 + 10 * self.seq + tick, msg,
                           len(payloads), entry_point, driver_id, hdrvr, l1, l2)
        for param, kind, flags, data in payloads:
            body += struct.pack("<BBHI", param, kind, flags, len(data)) + data
        self.frame(body)
        return self.seq

    def ret(self, call_seq: int, result: int, *, msg: int = 0, driver_id: int = 0, hdrvr: int = HDRVR,
            thread: int = TID, entry_point: int = 0) -> int:
        self.seq += 1
        self.frame(struct.pack("<IIIIQQQIIQQq", 3, self.pid, thread, 0, self.seq, QPC0 + 10 * self.seq, call_seq,
                               msg, entry_point, driver_id, hdrvr, result))
        return self.seq

    def send(self, msg: int, result: int, **call) -> int:
        seq = self.call(msg, **call)
        self.ret(seq, result, msg=msg, driver_id=call.get("driver_id", 0))
        return seq

    def end(self, reason: int = 1) -> int:
        self.seq += 1
        return self.frame(struct.pack("<IIIIQQII", 4, self.pid, TID, reason, self.seq, QPC0 + 10 * self.seq, 0, 0))

    def save(self, path) -> str:
        path.write_bytes(bytes(self.data))
        return str(path)


def lifecycle(w: Writer, *, end: bool = True) -> Writer:
    """DRV_LOAD .. DRV_FREE of one instance: 6 calls, 12 records."""
    w.header()
    w.send(DRV_LOAD, 1)
    w.send(DRV_ENABLE, 1)
    w.send(DRV_OPEN, 0x1234, l1=0x7FF6_0000_1000, l2=0x7FF6_0000_2000,
           payloads=(wstr(1, "vidc.mrle"), icopen()))
    w.send(DRV_CLOSE, 1, driver_id=0x1234)
    w.send(DRV_DISABLE, 1, driver_id=0x1234)
    w.send(DRV_FREE, 1, driver_id=0x1234)
    if end:
        w.end()
    return w


def kinds(events) -> list[tuple[str, int | None]]:
    return [(ev.kind, getattr(ev, "msg", None)) for ev in events]


def test_an_intact_tape_becomes_one_session_with_exact_values():
    w = Writer()
    w.header()
    load = w.call(DRV_LOAD, tick=0)
    w.ret(load, 1, msg=DRV_LOAD)
    w.send(DRV_OPEN, 0x1234, l1=-(1 << 63), l2=(1 << 63) - 1, payloads=(wstr(1, "séction ☃"), icopen()))
    w.send(DRV_CONFIGURE, 1, driver_id=0x1234, payloads=(drvconfiginfo(2, "Drivers32", None),))
    w.send(DRV_USER + 1, -1, driver_id=0xFFFF_FFFF_FFFF_FFF0, thread=0xFFFF_FFF0)
    w.send(DRV_OPEN, 7, l2=0x10000, payloads=(raw(2, b"\x10\0\0\0abcdefghijkl"),))
    w.send(DRV_OPEN, 8, payloads=(acm(),))
    w.end(2)
    tape = parse_tape(bytes(w.data))
    assert tape.problems == []
    (s,) = tape.sessions
    h = s.header
    assert (h.driver, h.target, h.machine, h.os, h.process, h.pid, h.source, h.clock) == (
        "C:\\Windows\\System32\\msrle32.dll", "dll:C:\\Windows\\System32\\msrle32.dll", "BOX-A",
        "Windows 10.0.19045", "C:\\apps\\player.exe", PID, "ingest", "qpc")
    assert h.started_at == STARTED
    ev = s.events
    assert [e.seq for e in ev] == list(range(1, len(ev) + 1))
    assert s.calls == 6 and len(ev) == 13
    call, ret = ev[0], ev[1]
    assert isinstance(call, CallEvent) and call.hdrvr == HDRVR and call.thread == TID
    assert call.ts_ns == 10 * 1 * 1_000_000_000 // FREQ  # QPC ticks -> ns from the header's start
    assert isinstance(ret, ReturnEvent) and ret.call_seq == 1 and ret.result == 1 and ret.duration_ns == 1000
    opened = ev[2]
    assert (opened.lparam1, opened.lparam2) == (-(1 << 63), (1 << 63) - 1)
    assert opened.payload.lparam1 == WideString(text="séction ☃")
    assert opened.payload.lparam2 == IcOpen(dwSize=56, fccType=VIDC, fccHandler=MRLE, dwVersion=0x104, dwFlags=1,
                                            dwError=-7, dnDevNode=3)
    assert ev[4].payload.lparam2 == DrvConfigInfo(section="Drivers32", alias=None)
    user = ev[6]
    assert user.driver_id == 0xFFFF_FFFF_FFFF_FFF0 and user.thread == 0xFFFF_FFF0 and ev[7].result == -1
    assert ev[8].payload.lparam2 == RawBytes(hex=(b"\x10\0\0\0abcdefghijkl").hex())
    assert ev[10].payload.lparam2 == AcmDrvOpenDescW(cbStruct=48, fccType=AUDC, dwVersion=0x3320000,
                                                     section="Drivers32", alias=None)
    assert isinstance(ev[-1], EndEvent) and ev[-1].reason is EndReason.PROCESS_EXIT and ev[-1].call_seq is None


def test_the_session_id_is_the_same_every_time_the_tape_is_read():
    data = bytes(lifecycle(Writer()).data)
    first, again = parse_tape(data).sessions[0].header.id, parse_tape(data).sessions[0].header.id
    assert first == again and first.version == 5
    other = Writer()
    other.header(filetime=FILETIME + 1)
    other.send(DRV_LOAD, 1)
    assert parse_tape(bytes(other.data)).sessions[0].header.id != first


def test_a_torn_last_record_keeps_everything_before_it_and_ends_killed():
    w = lifecycle(Writer(), end=False)
    w.call(DRV_USER, payloads=(wstr(1, "x" * 40),))
    torn_at = w.offsets[-1]
    data = bytes(w.data[:torn_at + 30])  # the process died 30 bytes into the last record
    tape = parse_tape(data)
    (problem,) = tape.problems
    assert problem.kind == "torn" and problem.offset == torn_at and str(torn_at) in problem.detail
    (s,) = tape.sessions
    assert kinds(s.events[:-1]) == [(k, m) for m in (DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_CLOSE, DRV_DISABLE, DRV_FREE)
                                    for k in ("call", "return")]
    end = s.events[-1]
    assert end.reason is EndReason.KILLED and end.call_seq is None and f"offset {torn_at}" in end.detail


def test_a_torn_frame_header_is_torn_too():
    w = lifecycle(Writer(), end=False)
    data = bytes(w.data) + b"\x48\x00"  # two bytes of the next length field
    tape = parse_tape(data)
    assert [p.kind for p in tape.problems] == ["torn"]
    assert tape.sessions[0].end.reason is EndReason.KILLED


def test_a_bad_crc_in_the_middle_is_reported_skipped_and_the_rest_kept():
    w = lifecycle(Writer())
    data = bytearray(w.data)
    bad = w.offsets[6]  # the return of DRV_OPEN (after the header and 5 records)
    data[bad + 20] ^= 0xFF  # a byte in its body
    tape = parse_tape(bytes(data))
    problems = {p.kind: p for p in tape.problems}
    assert problems["bad-crc"].offset == bad and f"offset {bad}" in problems["bad-crc"].detail
    assert f"resynchronized at offset {w.offsets[7]}" in problems["bad-crc"].detail
    assert problems["seq-gap"].offset == w.offsets[7]  # the seq the lost record had is missing
    (s,) = tape.sessions
    msgs = kinds(s.events)
    assert msgs.count(("call", DRV_OPEN)) == 1 and ("return", DRV_OPEN) not in msgs
    assert ("return", DRV_FREE) in msgs and [e.seq for e in s.events] == list(range(1, len(s.events) + 1))
    # the open's return is lost, so it counts as never returned; the tape still ends properly
    assert s.end.reason is EndReason.CLOSED and s.end.call_seq == 5


def test_a_bad_crc_in_the_last_record_is_not_a_torn_tail():
    w = lifecycle(Writer(), end=False)
    data = bytearray(w.data)
    data[-1] ^= 0x01
    tape = parse_tape(bytes(data))
    assert [p.kind for p in tape.problems] == ["bad-crc"]
    s = tape.sessions[0]
    assert s.end.reason is EndReason.UNKNOWN and s.end.call_seq == 11  # DRV_FREE lost its return


@pytest.mark.parametrize("length", [MAX_BODY + 1, 0xFFFF_FFF0, 0, 3])
def test_a_length_out_of_range_is_a_bad_frame_never_an_allocation(length):
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    bad = w.frame(b"\x02\0\0\0" + b"\0" * 68, length=length)
    w.seq += 1
    w.send(DRV_ENABLE, 1)
    tape = parse_tape(bytes(w.data))
    problem = next(p for p in tape.problems if p.offset == bad)
    assert problem.kind == "bad-length" and str(length) in problem.detail
    assert kinds(tape.sessions[0].events)[:4] == [("call", DRV_LOAD), ("return", DRV_LOAD),
                                                  ("call", DRV_ENABLE), ("return", DRV_ENABLE)]


def test_calls_without_returns_at_the_end_mean_the_process_died_inside_them():
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    w.send(DRV_OPEN, 1)
    outer = w.call(DRV_CLOSE, driver_id=1)
    w.call(DRV_USER, driver_id=1, depth=1)  # re-entered from inside DRV_CLOSE, and died there
    s = parse_tape(bytes(w.data)).sessions[0]
    assert s.end.reason is EndReason.UNKNOWN and s.end.call_seq == 6 and "never returned" in s.end.detail
    assert s.events[outer - 1].depth == 0 and s.events[5].depth == 1


def test_a_tape_without_an_end_record_ends_unknown():
    s = parse_tape(bytes(lifecycle(Writer(), end=False).data)).sessions[0]
    assert s.end.reason is EndReason.UNKNOWN and s.end.call_seq is None


def test_appended_sessions_and_interleaved_processes_are_told_apart():
    a, b = Writer(pid=10), Writer(pid=20)
    a.header()
    b.header(real="C:\\drivers\\other.dll")
    a.send(DRV_LOAD, 1)
    a.data += b.data
    b.data = bytearray()
    b.send(DRV_LOAD, 0)
    a.data += b.data
    a.send(DRV_ENABLE, 1)
    a.end()
    a.header()  # the tap loaded again in process 10: a new session
    a.send(DRV_LOAD, 1)
    tape = parse_tape(bytes(a.data))
    assert tape.problems == []
    first, other, second = tape.sessions
    assert (first.header.pid, other.header.pid, second.header.pid) == (10, 20, 10)
    assert kinds(first.events) == [("call", DRV_LOAD), ("return", DRV_LOAD), ("call", DRV_ENABLE),
                                   ("return", DRV_ENABLE), ("end", None)]
    assert other.header.driver == "C:\\drivers\\other.dll" and other.events[1].result == 0
    assert len({first.header.id, other.header.id, second.header.id}) == 3


def test_records_of_an_unknown_process_are_orphans():
    w = lifecycle(Writer())
    stray = Writer(pid=99)
    stray.send(DRV_LOAD, 1)
    tape = parse_tape(bytes(stray.data + w.data))
    assert [p.kind for p in tape.problems] == ["orphan", "orphan"]
    assert tape.sessions[0].calls == 6


def test_not_a_tape():
    with pytest.raises(DrvtapeError, match="empty"):
        parse_tape(b"")
    with pytest.raises(DrvtapeError, match="not a drvtap tape"):
        parse_tape(b"hello, world\n" * 10)
    w = Writer()
    w.frame(struct.pack("<I8sI", 1, b"DRVTAPE1", 9) + b"\0" * 60)
    with pytest.raises(DrvtapeError, match="version 9"):
        parse_tape(bytes(w.data))


# ---- the command ----------------------------------------------------------------------


WOD, MOD = 1, 3  # drvtape.schema.entry_points' codes of wodMessage and modMessage
WODM_OPEN, WODM_CLOSE, MODM_GETNUMDEVS = 5, 6, 1  # mingw-w64's mmddk.h


def device_session(w: Writer) -> Writer:
    """DRV_LOAD, then wave device 2 opened (the driver stores 0x5150 at dwUser) and closed,
    a MIDI output count, DRV_FREE: DriverProc and two device entry points in one session."""
    w.header()
    w.send(DRV_LOAD, 1)
    opened = w.call(WODM_OPEN, hdrvr=2, driver_id=0x7FF6_0000_3000, l1=0x7FF6_0000_4000, l2=0x30000,
                    entry_point=WOD)
    w.ret(opened, 0, msg=WODM_OPEN, driver_id=0x5150, hdrvr=2, entry_point=WOD)
    closed = w.call(WODM_CLOSE, hdrvr=2, driver_id=0x5150, entry_point=WOD)
    w.ret(closed, 0, msg=WODM_CLOSE, driver_id=0x5150, hdrvr=2, entry_point=WOD)
    counted = w.call(MODM_GETNUMDEVS, hdrvr=0, entry_point=MOD)
    w.ret(counted, 1, msg=MODM_GETNUMDEVS, hdrvr=0, entry_point=MOD)
    w.send(DRV_FREE, 1)
    w.end()
    return w


def test_each_call_names_its_entry_point_and_older_records_read_as_driverproc():
    (s,) = parse_tape(bytes(device_session(Writer()).data)).sessions
    names = [(ev.kind, ev.msg, ev.entry_point.value) for ev in s.events if ev.kind in ("call", "return")]
    assert names == [("call", DRV_LOAD, "DriverProc"), ("return", DRV_LOAD, "DriverProc"),
                     ("call", WODM_OPEN, "wodMessage"), ("return", WODM_OPEN, "wodMessage"),
                     ("call", WODM_CLOSE, "wodMessage"), ("return", WODM_CLOSE, "wodMessage"),
                     ("call", MODM_GETNUMDEVS, "modMessage"), ("return", MODM_GETNUMDEVS, "modMessage"),
                     ("call", DRV_FREE, "DriverProc"), ("return", DRV_FREE, "DriverProc")]
    opened, open_returned = s.events[2], s.events[3]
    assert (opened.hdrvr, opened.driver_id, opened.lparam1, opened.lparam2) == (2, 0x7FF6_0000_3000, 0x7FF6_0000_4000,
                                                                              0x30000)
    assert open_returned.driver_id == 0x5150  # the instance the driver stored at dwUser


def test_an_entry_point_drvtape_does_not_know_is_a_bad_record():
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    w.call(3, entry_point=99)
    tape = parse_tape(bytes(w.data))
    assert any(p.kind == "bad-record" and "entry point" in p.detail for p in tape.problems)
    assert [ev.msg for ev in tape.sessions[0].events if ev.kind == "call"] == [DRV_LOAD]


def test_entry_points_survive_the_store_and_the_interchange_and_keep_the_chain(tmp_path, drvtape):
    tape = device_session(Writer()).save(tmp_path / "wave.4242.drvtape")
    db = tmp_path / "t.db"
    assert drvtape("--db", db, "ingest", tape).code == 0
    with Store.open(db) as store:
        events = store.events(store.resolve("last").pk)
    assert events == read_tape(tape).sessions[0].events
    assert drvtape("--db", db, "verify", "--all").code == 0
    exported = tmp_path / "s.jsonl"
    assert drvtape("--db", db, "export", "last", "--output", exported).code == 0, "export"
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [e.get("entry_point") for e in lines if e.get("kind") == "call"] == [None, "wodMessage", "wodMessage",
                                                                              "modMessage", None]
    again = tmp_path / "again.db"
    assert drvtape("--db", again, "import", exported).code == 0
    with Store.open(again) as store:
        assert store.events(store.resolve("last").pk) == events


def test_ingest_stores_the_session_and_a_second_ingest_skips_it(tmp_path, drvtape):
    tape = lifecycle(Writer()).save(tmp_path / "player.4242.drvtape")
    db = tmp_path / "t.db"
    first = drvtape("--db", db, "ingest", tape, "--json")
    assert first.code == 0, first.stderr
    doc = json.loads(first.stdout)
    (session,) = doc["tapes"][0]["sessions"]
    assert doc["ingested"] == 1 and doc["skipped"] == 0 and session["status"] == "ingested"
    assert (session["calls"], session["events"], session["end_reason"]) == (6, 13, "closed")
    again = drvtape("--db", db, "ingest", tape)
    assert again.code == 0 and "already ingested" in again.stdout
    with Store.open(db) as store:
        (stored,) = store.sessions()
        assert str(stored.header.id) == session["session"] and stored.events == 13
        events = store.events(store.resolve("last").pk)
    assert events == read_tape(tape).sessions[0].events  # exact round trip through the database


def test_ingest_reports_damage_and_keeps_the_rest(tmp_path, drvtape):
    w = lifecycle(Writer(), end=False)
    w.call(DRV_USER)
    torn = w.save(tmp_path / "torn.drvtape")
    with open(torn, "r+b") as f:
        f.truncate(w.offsets[-1] + 11)
    run = drvtape("--db", tmp_path / "t.db", "ingest", torn)
    assert run.code == 0
    assert f"offset {w.offsets[-1]}" in run.stderr and "killed" in run.stdout
    shown = drvtape("--db", tmp_path / "t.db", "sessions", "--json")
    assert shown.code == 0


def test_ingest_of_a_file_that_is_not_a_tape_writes_nothing(tmp_path, drvtape):
    good = lifecycle(Writer()).save(tmp_path / "good.drvtape")
    bad = tmp_path / "notes.txt"
    bad.write_text("not a tape")
    db = tmp_path / "t.db"
    run = drvtape("--db", db, "ingest", good, str(bad))
    assert run.code == 2 and "not a drvtap tape" in run.stderr
    assert not db.exists()
    missing = drvtape("--db", db, "ingest", str(tmp_path / "nope.drvtape"))
    assert missing.code == 2 and "cannot read" in missing.stderr


def test_the_same_tape_twice_in_one_command_is_stored_once(tmp_path, drvtape):
    tape = lifecycle(Writer()).save(tmp_path / "a.drvtape")
    run = drvtape("--db", tmp_path / "t.db", "ingest", tape, tape, "--json")
    doc = json.loads(run.stdout)
    assert run.code == 0 and doc["ingested"] == 1 and doc["skipped"] == 1
    assert uuid.UUID(doc["tapes"][0]["sessions"][0]["session"])


def test_a_long_damaged_stretch_is_skipped_quickly():
    import random
    import time

    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    garbage_at = len(w.data)
    w.data += random.Random(7).randbytes(2_000_000)
    w.seq += 10
    w.send(DRV_ENABLE, 1)
    started = time.perf_counter()
    tape = parse_tape(bytes(w.data))
    assert time.perf_counter() - started < 5
    bad = [p for p in tape.problems if p.kind in ("bad-crc", "bad-length")]
    assert bad[0].offset == garbage_at and f"resynchronized at offset {garbage_at + 2_000_000}" in bad[0].detail
    assert kinds(tape.sessions[0].events)[2:4] == [("call", DRV_ENABLE), ("return", DRV_ENABLE)]


def fault(w: Writer, call_seq: int, *, code: int = 0xC0000005, module: str = "buggy.dll", offset: int = 0x1417) -> None:
    w.seq += 1
    w.frame(struct.pack("<IIIIQQQIIQQ", 5, w.pid, TID, 0, w.seq, QPC0 + 10 * w.seq, call_seq, code, 0,
                        0x1_8000_0000 + offset, offset) + struct.pack("<I", len(module)) + _u16(module))


def test_a_fault_record_of_a_call_that_never_returned_ends_the_session_crash():
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    w.send(DRV_OPEN, 1)
    close = w.call(DRV_CLOSE, driver_id=1)
    fault(w, close, code=0x80000001)  # not of error severity: the tap never writes these, but harmless
    fault(w, close)
    s = parse_tape(bytes(w.data)).sessions[0]
    assert kinds(s.events) == [("call", DRV_LOAD), ("return", DRV_LOAD), ("call", DRV_OPEN), ("return", DRV_OPEN),
                               ("call", DRV_CLOSE), ("fault", DRV_CLOSE), ("end", None)]
    f = s.events[5]
    assert (f.call_seq, f.code, f.module, f.offset, f.driver_id) == (5, 0xC0000005, "buggy.dll", 0x1417, 1)
    assert s.end.reason is EndReason.CRASH and s.end.call_seq == 5 and "buggy.dll+0x1417" in s.end.detail
    assert s.handled_exceptions == 1  # the earlier exception of the same call


def test_a_fault_record_followed_by_the_calls_return_was_handled_by_the_driver(tmp_path, drvtape):
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    probe = w.call(DRV_OPEN)
    fault(w, probe, module="")  # e.g. an access violation the driver's own __except caught
    w.ret(probe, 0x20, msg=DRV_OPEN)
    w.end()
    s = parse_tape(bytes(w.data)).sessions[0]
    assert "fault" not in [e.kind for e in s.events] and s.handled_exceptions == 1
    assert s.end.reason is EndReason.CLOSED
    run = drvtape("--db", tmp_path / "t.db", "ingest", w.save(tmp_path / "h.drvtape"), "--json")
    assert json.loads(run.stdout)["tapes"][0]["sessions"][0]["handled_exceptions"] == 1


def test_a_crash_session_from_a_tape_replays_as_a_fault(tmp_path):
    """What replay reads back from an ingested crash: the fault's call, code and place."""
    from drvtape.replay import load_recording

    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    freed = w.call(DRV_FREE)
    fault(w, freed, module="buggy.dll", offset=0x42)
    (s,) = parse_tape(bytes(w.data)).sessions
    with Store.open(tmp_path / "t.db", create=True) as store:
        store.import_sessions([(s.header, s.events)])
        recording = load_recording(store, "last")
    assert recording.outcome.kind == "fault" and recording.outcome.seq == 3
    assert (recording.outcome.code, recording.outcome.module, recording.outcome.offset) == (0xC0000005, "buggy.dll", 0x42)


def test_unfinished_hang_ends_the_session_at_the_oldest_outer_call_that_never_returned(tmp_path, drvtape):
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    w.send(DRV_OPEN, 1)
    stuck = w.call(DRV_USER, driver_id=1)
    w.call(DRV_USER + 2, driver_id=1, thread=TID + 1)  # another thread, stuck behind it
    path = w.save(tmp_path / "hung.drvtape")
    assert read_tape(path).sessions[0].end.reason is EndReason.UNKNOWN
    (s,) = read_tape(path, unfinished="hang").sessions
    assert s.end.reason is EndReason.HANG and s.end.call_seq == stuck and "DRV_USER" in s.end.detail
    run = drvtape("--db", tmp_path / "t.db", "ingest", "--unfinished", "hang", path, "--json")
    assert run.code == 0 and json.loads(run.stdout)["tapes"][0]["sessions"][0]["end_reason"] == "hang"
    bad = drvtape("--db", tmp_path / "t.db", "ingest", "--unfinished", "maybe", path)
    assert bad.code == 2
    with pytest.raises(DrvtapeError, match="unfinished"):
        parse_tape(bytes(w.data), unfinished="maybe")


# ---- any damage: never a crash, always valid sessions -------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from drvtape.formats.jsonl import dump_session  # noqa: E402
from drvtape.formats.jsonl_reader import parse_jsonl  # noqa: E402


@st.composite
def damaged_tapes(draw) -> bytes:
    w = Writer()
    w.header()
    for _ in range(draw(st.integers(0, 12))):
        msg = draw(st.sampled_from([DRV_LOAD, DRV_OPEN, DRV_CLOSE, DRV_USER, DRV_USER + 7, DRV_CONFIGURE]))
        payloads = draw(st.sampled_from([(), (wstr(1, "abc"),), (icopen(),), (drvconfiginfo(2, "s", None),),
                                         (raw(2, b"\x08\0\0\0xyzw"),), (acm(),)]))
        seq = w.call(msg, driver_id=draw(st.integers(0, (1 << 64) - 1)), l1=draw(st.integers(-(1 << 63), (1 << 63) - 1)),
                     payloads=payloads)
        outcome = draw(st.sampled_from(["return", "return", "fault", "none"]))
        if outcome == "return":
            w.ret(seq, draw(st.integers(-(1 << 63), (1 << 63) - 1)), msg=msg)
        elif outcome == "fault":
            fault(w, seq)
    if draw(st.booleans()):
        w.end(draw(st.sampled_from([1, 2])))
    data = bytearray(w.data)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "zero-length"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        else:
            data[at:at + 4] = b"\xff\xff\xff\x7f"
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_tapes())
def test_any_damage_gives_valid_sessions_or_a_clean_error(data):
    try:
        tape = parse_tape(data, "fuzz")
    except DrvtapeError:
        return
    for s in tape.sessions:
        lines = list(dump_session(s.header, s.events))
        ((header, events),) = parse_jsonl(lines, "fuzz")  # seq contiguous, call_seq refs, one answer per call
        assert events == s.events and isinstance(events[-1], EndEvent)


def test_a_tape_that_grew_after_it_was_ingested_is_skipped_with_a_warning(tmp_path, drvtape):
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    path = w.save(tmp_path / "live.drvtape")
    assert drvtape("--db", tmp_path / "t.db", "ingest", path).code == 0  # ingested while still being written
    w.send(DRV_ENABLE, 1)
    w.end()
    w.save(tmp_path / "live.drvtape")
    run = drvtape("--db", tmp_path / "t.db", "ingest", path)
    assert run.code == 0 and "already ingested" in run.stdout and "now gives 5 events" in run.stderr
    doc = json.loads(drvtape("--db", tmp_path / "t.db", "ingest", path, "--json").stdout)
    assert doc["tapes"][0]["sessions"][0]["stored_events"] == 3


def test_a_record_whose_length_starts_with_a_zero_byte_is_read_not_taken_for_padding():
    w = Writer()
    w.header()
    w.send(DRV_LOAD, 1)
    at = len(w.data)
    w.send(DRV_OPEN, 7, payloads=(raw(2, b"x" * (256 - 72 - 8)),))  # a CALL body of 256 bytes: length 00 01 00 00
    assert w.data[at:at + 4] == b"\x00\x01\x00\x00"
    w.end(1)
    tape = parse_tape(bytes(w.data))
    assert tape.problems == []
    (s,) = tape.sessions
    assert kinds(s.events) == [("call", DRV_LOAD), ("return", DRV_LOAD), ("call", DRV_OPEN), ("return", DRV_OPEN),
                               ("end", None)]
    assert s.events[2].payload.lparam2 == RawBytes(hex=(b"x" * 176).hex())
