"""The frame layer of the tap's tape (drvtape.formats.tape has the whole format): frames
(u32 length, u32 CRC32, body), the zero padding of a mapped tape's chunks, damage reported
and skipped, reading resumed at the next intact frame."""
from __future__ import annotations

import mmap
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_ALIGN = 1 << 16
MAX_BODY = 1 << 20
RESYNC_CRC_BUDGET = 16  # resynchronizing CRCs at most 16 bytes per byte of the tape (see _resync)
FRAME = struct.Struct("<II")
RELEASE_BYTES = 32 << 20  # a mapped tape's pages are handed back 32 MB at a time
_TYPE_AT_BODY = re.compile(rb"(?=[\x01-\x07]\x00\x00\x00)")  # a body's u32 record type, 1..7
_NONZERO = re.compile(rb"[^\x00]")


@dataclass(frozen=True)
class TapeProblem:
    offset: int
    kind: str  # torn, bad-crc, bad-length, orphan, unknown-record, bad-record, bad-payload, seq-gap
    detail: str

    def to_json(self) -> dict:
        return {"offset": self.offset, "kind": self.kind, "detail": self.detail}


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


def starts_like_a_tape(data: bytes) -> bool:
    """Whether data begins with a frame of a known record type, intact or with no length yet
    (a mapped tape's writer writes the length last): every tape does."""
    if _TYPE_AT_BODY.match(data, FRAME.size) is None:
        return False
    return _frame_at(data, 0)[0] == "ok" or data[:4] == b"\0\0\0\0"


def _resync(data: bytes, start: int, budget: list[int]) -> int | None:
    """The first offset >= start where a whole frame with a matching CRC starts. Only offsets
    whose body would begin with a known record type are checked (found by a regex, in C), so
    a long damaged stretch costs little; budget[0] bounds the bytes CRC'ed over the whole
    tape (RESYNC_CRC_BUDGET times its size), so a crafted one cannot cost more."""
    view = memoryview(data)
    for match in _TYPE_AT_BODY.finditer(data, start + FRAME.size):
        pos = match.start() - FRAME.size
        length, crc = FRAME.unpack_from(data, pos)
        if length < 4 or length > MAX_BODY or pos + FRAME.size + length > len(data):
            continue
        budget[0] -= length
        if budget[0] < 0:
            return None
        if zlib.crc32(view[pos + FRAME.size:pos + FRAME.size + length]) == crc:
            return pos
    return None


def _padding_end(data: bytes, pos: int) -> int | None:
    """Where zero padding at pos ends: zeros running to a multiple of CHUNK_ALIGN (the next
    chunk of a mapped tape) or to the end of the file. None: the zeros at pos are not padding."""
    found = _NONZERO.search(data, pos)
    if found is None:
        return len(data)
    aligned = found.start() - found.start() % CHUNK_ALIGN
    return aligned if aligned > pos else None


class FrameReader:
    """Reads a tape's frames from `pos` on, one at a time (next); damage goes to problems,
    padding is skipped. A torn tail is reported as kind 'torn' (always the last problem when
    present). A mapped file's pages behind the reading are handed back as it goes, so its
    size never shows in the process's memory. A caller that reads intact frames itself
    (drvtape.recorder.tape_events' fast path) moves pos on, staying below stretch_end."""

    def __init__(self, data: bytes | mmap.mmap, problems: list[TapeProblem]):
        self.data, self.problems = data, problems
        self.pos = self._released = 0
        self.size = len(data)
        self._budget = [RESYNC_CRC_BUDGET * self.size + MAX_BODY]
        self._mapped = isinstance(data, mmap.mmap)

    def stretch_end(self) -> int:
        """How far a caller may read before coming back to next (which hands pages back)."""
        return min(self.size, self._released + RELEASE_BYTES) if self._mapped else self.size

    def next(self) -> tuple[int, bytes] | None:
        """(offset, body) of the next intact frame; None at the end of the tape."""
        data, size = self.data, self.size
        unpack, crc32 = FRAME.unpack_from, zlib.crc32  # no memoryview kept: it would pin the mapping open
        pos = self.pos
        while pos < size:
            if self._mapped and pos - self._released >= RELEASE_BYTES:
                self._released = _release(data, self._released, pos)
            # an intact frame, tested inline (this runs once per record); a zero first byte may
            # be padding, and anything else not intact is for the tests below
            if size - pos >= FRAME.size and data[pos]:
                length, crc = unpack(data, pos)
                end = pos + FRAME.size + length
                if 4 <= length <= MAX_BODY and end <= size:
                    body = data[pos + FRAME.size:end]
                    if crc32(body) == crc:
                        self.pos = end
                        return pos, body
            if data[pos] == 0 and (end := _padding_end(data, pos)) is not None:
                pos = end
                continue
            state, length = _frame_at(data, pos)
            if state == "ok":
                self.pos = end = pos + FRAME.size + length
                return pos, data[pos + FRAME.size:end]
            nxt = _resync(data, pos + 1, self._budget)
            if nxt is None:
                self._report_last(pos, state, length)
                break
            what = "a record running past the end of the tape" if state == "torn" else _damage(state, length)
            self.problems.append(TapeProblem(pos, "bad-length" if state == "torn" else state, (
                f"{what} at offset {pos}: skipped {nxt - pos} bytes, resynchronized at offset {nxt}")))
            pos = nxt
        self.pos = size
        return None

    def _report_last(self, pos: int, state: str, length: int) -> None:
        """Damage at pos with no intact frame after it."""
        data, problems = self.data, self.problems
        if state == "torn":
            problems.append(TapeProblem(pos, "torn", (
                f"the tape ends inside a record at offset {pos} ({len(data) - pos} of "
                f"{'?' if length < 0 else FRAME.size + length} bytes): the process died while writing it;"
                " everything before it is kept")))
        elif state == "bad-length" and length == 0:  # mapped tape: the length is written last
            problems.append(TapeProblem(pos, "torn", (
                f"the record at offset {pos} has no length yet: the process died while writing it;"
                " everything before it is kept")))
        else:
            problems.append(TapeProblem(pos, state, (
                f"{_damage(state, length)} at offset {pos}; no intact record after it "
                f"({len(data) - pos} bytes skipped)")))


def frames(data: bytes | mmap.mmap, problems: list[TapeProblem]) -> Iterator[tuple[int, bytes]]:
    """(offset, body) of every intact frame, as they are read (see FrameReader)."""
    reader = FrameReader(data, problems)
    while (frame := reader.next()) is not None:
        yield frame


def _release(data: mmap.mmap, start: int, pos: int) -> int:
    """Drop the mapping's pages from start to below pos (resynchronizing never looks back)."""
    end = (pos - pos % mmap.PAGESIZE)
    if end > start:
        data.madvise(mmap.MADV_DONTNEED, start, end - start)
    return max(end, start)


def _damage(state: str, length: int) -> str:
    if state == "bad-length" and length == 0:
        return (f"a record length of 0 bytes (allowed: 4 to {MAX_BODY}; in a mapped tape, a record its "
                "process died writing: the length is written last)")
    if state == "bad-length":
        return f"a record length of {length} bytes (allowed: 4 to {MAX_BODY})"
    return "a record whose CRC does not match"
