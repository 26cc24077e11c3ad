"""Tape format 2 (the mapped tape) read back: zero padding to a 64 KiB boundary is the unused
end of a chunk, a length of 0 with bytes after it is a record its process died writing, and
a DETACH record is not the end: the messages after it belong to the session."""
import struct
import zlib

from drvtape.formats.tape import CHUNK_ALIGN
from drvtape.recorder.ingest import parse_tape
from drvtape.schema.events import EndReason
from drvtape.schema.messages import DRV_CLOSE, DRV_CONFIGURE, DRV_DISABLE, DRV_FREE, DRV_LOAD, DRV_OPEN

FREQ, QPC0, TID = 10_000_000, 5_000_000_000, 0x1A2C
FILETIME = 133_590_240_000_000_000  # 2024-05-01 12:00 UTC


class Writer:
    """Frames as drvtap 2 writes them, into one growing file image."""

    def __init__(self):
        self.data = bytearray()
        self.seq: dict[int, int] = {}

    def frame(self, body: bytes, *, length: int | None = None) -> int:
        at = len(self.data)
        self.data += struct.pack("<II", len(body) if length is None else length, zlib.crc32(body)) + body
        return at

    def pad_to_chunk(self) -> None:
        self.data += bytes(-len(self.data) % CHUNK_ALIGN)

    def header(self, pid: int) -> int:
        self.seq[pid] = 0
        body = struct.pack("<I8sIIIIIQQQQQ", 1, b"DRVTAPE1", 2, pid, 0, 8, 0, FREQ, QPC0, FILETIME, 0, 0)
        for text in ("BOX", "Windows 10 (Wine 8.0)", "C:\\app.exe", "C:\\drv\\real.dll", "C:\\tap\\drvtap.dll"):
            body += struct.pack("<I", len(text)) + text.encode("utf-16-le")
        return self.frame(body)

    def _next(self, pid: int) -> int:
        self.seq[pid] += 1
        return self.seq[pid]

    def send(self, pid: int, msg: int, result: int = 1, *, unfinished: bool = False) -> None:
        seq = self._next(pid)
        self.frame(struct.pack("<IIIIQQIIQQqq", 2, pid, TID, 0, seq, QPC0 + 10 * seq, msg, 0, 0, 0x1000, 0, 0))
        if unfinished:
            return
        ret = self._next(pid)
        self.frame(struct.pack("<IIIIQQQIIQQq", 3, pid, TID, 0, ret, QPC0 + 10 * ret, seq, msg, 0, 0, 0x1000, result))

    def call_with_bytes(self, pid: int, n: int) -> None:
        """A call (no return) carrying n bytes of raw payload for lParam2."""
        seq = self._next(pid)
        self.frame(struct.pack("<IIIIQQIIQQqq", 2, pid, TID, 0, seq, QPC0 + 10 * seq, DRV_CONFIGURE, 1, 0, 0x1000, 0,
                               0x7FF6_0000_1000) + struct.pack("<BBHI", 2, 3, 0, n) + bytes(n))

    def unfinished(self, pid: int, msg: int) -> int:
        """A call record whose length field was never written (the process died)."""
        seq = self._next(pid)
        return self.frame(struct.pack("<IIIIQQIIQQqq", 2, pid, TID, 0, seq, QPC0 + 10 * seq, msg, 0, 0, 0x1000, 0, 0),
                          length=0)

    def last_word(self, pid: int, rtype: int, reason: int) -> None:
        seq = self._next(pid)
        self.frame(struct.pack("<IIIIQQII", rtype, pid, TID, reason, seq, QPC0 + 10 * seq, 0, 0))


def test_zero_padding_to_a_chunk_boundary_between_two_processes_chunks_is_not_damage():
    w = Writer()
    w.header(1)
    w.send(1, DRV_LOAD)
    w.pad_to_chunk()  # process 1's chunk ends unused
    w.header(2)
    w.send(2, DRV_LOAD)
    w.pad_to_chunk()
    w.send(1, DRV_OPEN, 0x77)  # process 1's next chunk
    w.last_word(1, 4, 1)
    w.send(2, DRV_OPEN, 0x88)
    w.last_word(2, 4, 1)
    w.data += bytes(300)  # an unused tail
    tape = parse_tape(bytes(w.data))
    assert tape.problems == []
    assert [(s.header.pid, s.calls, s.end.reason) for s in tape.sessions] == [(1, 2, EndReason.CLOSED),
                                                                                (2, 2, EndReason.CLOSED)]
    assert tape.sessions[0].header.recorder_version == "drvtap (tape format 2)"


def test_a_padding_shorter_than_a_length_field_before_the_next_chunk_is_skipped():
    """The tap cut the file back to its last record at unload; the next process's chunk
    starts at the next 64 KiB boundary, 2 bytes later."""
    w = Writer()
    w.header(1)
    w.send(1, DRV_LOAD)
    w.call_with_bytes(1, CHUNK_ALIGN - 2 - len(w.data) - (8 + 72 + 8) - (8 + 40))  # the END ends 2 short
    w.last_word(1, 4, 1)
    assert len(w.data) == CHUNK_ALIGN - 2
    w.pad_to_chunk()
    w.header(2)
    w.send(2, DRV_LOAD)
    tape = parse_tape(bytes(w.data))
    assert tape.problems == []
    assert [(s.header.pid, s.calls) for s in tape.sessions] == [(1, 2), (2, 1)]


def test_zeros_that_stop_short_of_a_boundary_are_damage():
    w = Writer()
    w.header(1)
    w.send(1, DRV_LOAD)
    hole = len(w.data)
    w.data += bytes(64)
    w.send(1, DRV_OPEN, 0x77)
    tape = parse_tape(bytes(w.data))
    assert [p.offset for p in tape.problems] == [hole]
    assert tape.sessions[0].calls == 2  # resynchronized at the next record


def test_a_record_without_its_length_at_the_end_is_torn_and_the_session_killed():
    w = Writer()
    w.header(1)
    w.send(1, DRV_LOAD)
    w.send(1, DRV_OPEN, 0x77)
    at = w.unfinished(1, DRV_CLOSE)
    w.data += bytes(5000)
    tape = parse_tape(bytes(w.data))
    (problem,) = tape.problems
    assert problem.kind == "torn" and problem.offset == at
    (s,) = tape.sessions
    assert s.calls == 2 and s.end.reason is EndReason.KILLED


def test_the_messages_after_a_detach_record_belong_to_the_session():
    w = Writer()
    w.header(1)
    w.send(1, DRV_LOAD)
    w.send(1, DRV_OPEN, 0x77)
    w.last_word(1, 6, 0)  # DETACH: the process is exiting
    w.send(1, DRV_CLOSE)
    w.send(1, DRV_DISABLE)
    w.send(1, DRV_FREE)
    tape = parse_tape(bytes(w.data))
    assert tape.problems == []  # the DETACH's seq is counted: no gap
    (s,) = tape.sessions
    assert [ev.msg for ev in s.events if ev.kind == "call"] == [DRV_LOAD, DRV_OPEN, DRV_CLOSE, DRV_DISABLE, DRV_FREE]
    assert s.end.reason is EndReason.PROCESS_EXIT and "3 message(s) came after" in s.end.detail
    assert s.end.ts_ns >= s.events[-2].ts_ns
