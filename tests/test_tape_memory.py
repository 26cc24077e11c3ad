"""Tape version 3's MEMORY record read back (drvtape.formats.tape), without Wine: blocks come
out as MemoryRecords in file order among the other records, with their flags; a record whose
fields do not add up is reported and skipped, never half-read."""
import struct

import pytest

from drvtape.formats.tape import MemoryRecord, Record, TapeHeader, records
from drvtape.formats.tape_memory import MF_TRUNCATED, MF_UNREADABLE, PHASE_CALL, PHASE_RETURN
from drvtape.recorder.ingest import parse_tape
from drvtape.schema.messages import DRV_USER

from test_tape_ingest import PID, TID, Writer, _string



class Writer3(Writer):
    """The version 3 tap: a version 3 header, and MEMORY records (not numbered)."""

    def header(self, real: str = "C:\\Windows\\System32\\msrle32.dll", **_) -> int:
        self.seq = 0
        body = struct.pack("<I8sIIIIIQQQQQ", 1, b"DRVTAPE1", 3, self.pid, 0, 8, 0, 10_000_000, 5_000_000_000,
                           133_590_240_000_000_000, 0, 0)
        for text in ("BOX", "Windows 10 (Wine 8.0)", "C:\\app.exe", real, "C:\\tap\\drvtap.dll"):
            body += _string(text)
        return self.frame(body)

    def memory(self, call_seq: int, phase: int, path: str, data: bytes, *, size: int | None = None,
               flags: int = 0, address: int = 0x7FF6_0001_0000, captured: int | None = None) -> int:
        path_bytes = path.encode("ascii")
        body = struct.pack("<IIIIQQQIIHH", 7, self.pid, TID, phase, call_seq, address,
                           len(data) if size is None else size, len(data) if captured is None else captured,
                           flags, len(path_bytes), 0) + path_bytes + data
        return self.frame(body)


def decompress_session() -> tuple[Writer3, int]:
    w = Writer3()
    w.header()
    seq = w.call(DRV_USER + 13, driver_id=0x1234, l1=0x7FF6_0001_0000, l2=64)
    w.memory(seq, PHASE_CALL, "lparam1", bytes(range(64)))
    w.memory(seq, PHASE_CALL, "lparam1.lpbiInput", b"\x28" + bytes(39), address=0x7FF6_0002_0000)
    w.memory(seq, PHASE_RETURN, "lparam1.lpOutput", b"\xAA" * 16, size=4096, flags=MF_TRUNCATED,
             address=0x7FF6_0003_0000)
    w.memory(seq, PHASE_RETURN, "lparam1.lpInput", b"", size=800, flags=MF_UNREADABLE, address=0x10)
    w.ret(seq, 0, msg=DRV_USER + 13, driver_id=0x1234)
    w.end()
    return w, seq


def test_memory_records_come_out_in_file_order_with_their_fields():
    w, seq = decompress_session()
    problems = []
    items = list(records(bytes(w.data), problems))
    assert not problems
    assert isinstance(items[0], TapeHeader) and items[0].version == 3
    assert isinstance(items[1], Record) and items[1].fields.seq == seq
    blocks = items[2:6]
    assert all(isinstance(b, MemoryRecord) for b in blocks)
    assert isinstance(items[6], Record) and items[6].fields.call_seq == seq
    first, header, output, unreadable = blocks
    assert first == MemoryRecord(PID, TID, PHASE_CALL, seq, 0x7FF6_0001_0000, 64, 0, "lparam1", bytes(range(64)),
                                 w.offsets[2])
    assert header.path == "lparam1.lpbiInput" and header.address == 0x7FF6_0002_0000 and len(header.data) == 40
    assert output.phase == PHASE_RETURN and output.size == 4096 and output.data == b"\xAA" * 16
    assert output.truncated and not output.unreadable
    assert unreadable.unreadable and unreadable.data == b"" and unreadable.size == 800


def test_a_session_with_memory_records_ingests_as_before():
    w, _ = decompress_session()
    tape = parse_tape(bytes(w.data))
    (session,) = tape.sessions
    assert not tape.problems
    assert [ev.kind for ev in session.events] == ["call", "return", "end"]


@pytest.mark.parametrize("change, why", [
    (dict(captured=65), "announcing"),  # more bytes announced than follow
    (dict(size=32), "without saying it was cut"),  # captured more than the size
    (dict(size=128), "without saying it was cut"),  # fewer than the size, no flag
    (dict(flags=MF_UNREADABLE), "unreadable with captured bytes"),
])
def test_a_memory_record_whose_fields_do_not_add_up_is_skipped(change, why):
    w = Writer3()
    w.header()
    seq = w.call(DRV_USER + 13, driver_id=0x1234)
    at = w.memory(seq, PHASE_CALL, "lparam1", bytes(64), **change)
    problems = []
    items = list(records(bytes(w.data), problems))
    assert not any(isinstance(i, MemoryRecord) for i in items)
    (problem,) = problems
    assert problem.offset == at and problem.kind == "bad-record" and why in problem.detail


def test_a_memory_record_of_an_unknown_phase_or_without_a_path_is_skipped():
    w = Writer3()
    w.header()
    seq = w.call(DRV_USER + 13, driver_id=0x1234)
    w.memory(seq, 3, "lparam1", bytes(4))
    w.memory(seq, PHASE_CALL, "", bytes(4))
    w.memory(seq, PHASE_CALL, "lparam1", bytes(4))
    problems = []
    kept = [i for i in records(bytes(w.data), problems) if isinstance(i, MemoryRecord)]
    assert len(kept) == 1 and [p.kind for p in problems] == ["bad-record", "bad-record"]
    assert "phase 3" in problems[0].detail and "path" in problems[1].detail
