"""Hostile tapes for `drvtape ingest` (issue 4, part 6): random bytes, truncated and
damaged tapes, frames with random but CRC-correct bodies, and length fields of up to 4 GB.
parse_tape gives a Tape (a report) or a DrvtapeError, never another exception, and memory
stays small: a length field is never an allocation.

Three inputs that once raised tracebacks have tests of their own at the end.
"""

import struct
import time
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.errors import DrvtapeError
from drvtape.recorder.ingest import Tape, parse_tape
from drvtape.formats.tape import MAX_BODY

FREQ, QPC0, PID, TID = 10_000_000, 5_000_000_000, 4242, 0x1A2C
FILETIME = 133_590_240_000_000_000  # 2024-05-01 12:00 UTC
BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(body: bytes) -> bytes:
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


def string(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def header(pid: int = PID, filetime: int = FILETIME, real: str = "C:\\drv\\msrle32.dll", freq: int = FREQ) -> bytes:
    body = struct.pack("<I8sIIIIIQQQQQ", 1, b"DRVTAPE1", 1, pid, 0, 8, 0, freq, QPC0, filetime, 0, 0)
    for text in ("BOX", "Windows 10", "C:\\app.exe", real, "C:\\tap\\drvtap.dll"):
        body += string(text)
    return frame(body)


def call(seq: int, msg: int, qpc: int | None = None, payloads: bytes = b"", n: int = 0) -> bytes:
    return frame(struct.pack("<IIIIQQIIQQqq", 2, PID, TID, 0, seq, QPC0 + 10 * seq if qpc is None else qpc, msg, n,
                             0, 0xFFFF_8000_0000_1000, 0x7FF6_DEAD_BEEF, -1) + payloads)


def ret(seq: int, call_seq: int, msg: int, result: int) -> bytes:
    return frame(struct.pack("<IIIIQQQIIQQq", 3, PID, TID, 0, seq, QPC0 + 10 * seq, call_seq, msg, 0, 0,
                             0xFFFF_8000_0000_1000, result))


def end(seq: int) -> bytes:
    return frame(struct.pack("<IIIIQQII", 4, PID, TID, 1, seq, QPC0 + 10 * seq, 0, 0))


def valid_tape() -> bytes:
    wstr = struct.pack("<BBHI", 1, 1, 0, 8) + "vidc".encode("utf-16-le")
    raw = struct.pack("<BBHI", 2, 3, 0, 3) + b"\x00\xff\x10"
    return (header() + call(1, 1) + ret(2, 1, 1, 1) + call(3, 3, payloads=wstr + raw, n=2) + ret(4, 3, 3, 0x1234)
            + call(5, 0xB) + ret(6, 5, 0xB, 0) + call(7, 6) + ret(8, 7, 6, 1) + end(9))


VALID = valid_tape()


def check(data: bytes) -> Tape | None:
    try:
        tape = parse_tape(data, "fuzz.tape")
    except DrvtapeError as exc:
        assert str(exc).startswith("fuzz.tape: ") or "tape format version" in str(exc), str(exc)
        return None
    assert tape.sessions
    for s in tape.sessions:
        assert [ev.seq for ev in s.events] == list(range(1, len(s.events) + 1))
        assert s.events[-1] is s.end
    for p in tape.problems:
        assert 0 <= p.offset <= len(data)
    return tape


def test_the_valid_tape_is_one_closed_session():
    tape = check(VALID)
    assert tape is not None and not tape.problems and len(tape.sessions) == 1
    assert tape.sessions[0].calls == 4 and tape.sessions[0].end.reason.value == "closed"


def test_every_truncation_of_a_valid_tape():
    for cut in range(len(VALID)):
        tape = check(VALID[:cut])
        if tape is not None and cut < len(VALID):
            assert tape.sessions[0].end.reason.value in ("killed", "unknown")


@BOUNDED
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    check(data)


@BOUNDED
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_header(data):
    check(header() + data)


@BOUNDED
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_flipped_bytes(flips):
    data = bytearray(VALID)
    for at, mask in flips:
        data[at] ^= mask
    check(bytes(data))


# Bodies with a correct CRC reach the record parser; the header fields are kept sane here (the
# tests at the end cover the insane ones); everything else is arbitrary.
SANE_HEADER = st.builds(
    header, pid=st.integers(0, 2**32 - 1), filetime=st.integers(0, 2_650_000_000_000_000_000),
    real=st.text(st.characters(blacklist_categories=("Cs",)), max_size=100), freq=st.integers(0, 2**64 - 1))
RECORD_BODY = st.one_of(
    st.binary(max_size=200),
    st.tuples(st.integers(1, 5), st.binary(max_size=120)).map(lambda t: struct.pack("<I", t[0]) + t[1]),
    st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1), st.integers(0, 5), st.binary(max_size=60)).map(
        lambda t: struct.pack("<IIIIQQIIQQqq", 2, PID, TID, 0, t[0] % 50, QPC0 + t[0] % 10**9, t[1], t[2], 0, 0, 0, 0)
        + t[3]),
    st.tuples(st.integers(0, 60), st.integers(-(2**63), 2**63 - 1)).map(
        lambda t: struct.pack("<IIIIQQQIIQQq", 3, PID, TID, 0, t[0], QPC0 + t[0], t[0] // 2, 1, 0, 0, 0, t[1])),
    st.tuples(st.integers(0, 60), st.binary(max_size=40)).map(
        lambda t: struct.pack("<IIIIQQQIIQQ", 5, PID, TID, 0, t[0], QPC0 + t[0], t[0] // 2, 0xC0000005, 0, 0, 0)
        + t[1]),
)


@BOUNDED
@given(SANE_HEADER, st.lists(RECORD_BODY, max_size=12))
def test_records_with_correct_crcs_and_arbitrary_contents(head, bodies):
    check(head + b"".join(frame(b) for b in bodies))


@pytest.mark.parametrize("length", [2**31, 2**32 - 1, 1 << 21, (1 << 20) + 1])
def test_a_huge_length_field_is_not_an_allocation(length):
    bogus = struct.pack("<II", length, 0) + b"\x02\x00\x00\x00" + b"\x00" * 64
    at = len(header()) + len(call(1, 1))  # at a frame boundary, where a frame's length is read
    data = VALID[:at] + bogus + VALID[at:]
    tracemalloc.start()
    try:
        tape = check(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tape is not None and any(p.kind == "bad-length" and p.offset == at for p in tape.problems)
    assert tape.sessions[0].calls == 4  # resynchronized: every record after the bogus frame is kept
    assert peak < 8 * 1024 * 1024, peak  # a few MB at most, never the 2-4 GB the field claims


def test_a_huge_length_field_at_the_end_is_reported_by_ingest(tmp_path, drvtape):
    path = tmp_path / "t.tape"
    path.write_bytes(VALID + struct.pack("<II", 2**31, 0) + b"\x02\x00\x00\x00")
    result = drvtape("--db", tmp_path / "t.db", "ingest", path)
    assert result.code == 0 and "Traceback" not in result.stderr
    assert "allowed: 4 to" in result.stderr or "torn" in result.stderr or "ends inside" in result.stderr


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, b"garbage" * 100, struct.pack("<II", 2**31, 0)],
                         ids=["empty", "zeros", "garbage", "2GB-length-only"])
def test_ingest_of_not_a_tape_is_one_line_and_writes_nothing(tmp_path, drvtape, content):
    path = tmp_path / "t.tape"
    path.write_bytes(content)
    result = drvtape("--db", tmp_path / "t.db", "ingest", path)
    assert result.code == 2 and result.stderr.startswith("drvtape: error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "t.db").exists()


# ---- inputs that once raised tracebacks -----------------------------------------------------


def test_a_filetime_past_year_9999_is_a_bad_header():
    check(header(filetime=2**64 - 1) + call(1, 1) + ret(2, 1, 1, 1))


def test_a_driver_path_over_4096_units_is_a_clear_error():
    check(header(real="x" * 5000) + call(1, 1))


def test_a_time_beyond_64_bits_is_a_skipped_record(tmp_path, drvtape):
    path = tmp_path / "t.tape"
    path.write_bytes(header(freq=1) + call(1, 1, qpc=2**64 - 1) + ret(2, 1, 1, 1))
    result = drvtape("--db", tmp_path / "t.db", "ingest", path)
    assert result.code in (0, 2) and "Traceback" not in result.stderr


def test_a_crafted_non_tape_is_refused_at_once():
    """11 MiB shaped to make resynchronization CRC a MiB at every offset (issue 18, item 11)."""
    candidate = struct.pack("<II", MAX_BODY, 0) + b"\x02\x00\x00\x00"
    data = candidate * (11 * 2**20 // len(candidate))
    started = time.process_time()
    with pytest.raises(DrvtapeError, match="does not start with an intact record"):
        parse_tape(data)
    assert time.process_time() - started < 1


def test_resynchronizing_a_crafted_tape_costs_a_bounded_amount():
    """The same stretch after a real header: the CRC budget stops the resynchronization."""
    candidate = struct.pack("<II", MAX_BODY, 0) + b"\x02\x00\x00\x00"
    data = VALID + candidate * (4 * 2**20 // len(candidate))
    started = time.process_time()
    tape = parse_tape(data)
    assert time.process_time() - started < 10
    assert tape.problems and tape.problems[-1].kind in ("bad-crc", "bad-length", "torn")
