"""The ingest fast path (SessionEvents.run: a CALL and at once its RETURN, built as plain
tuples) gives exactly the rows, problems and endings of the general path (add, one record at
a time), on a tape that mixes every record kind and most kinds of damage."""
import struct

import pytest

from drvtape.formats.tape_frames import CHUNK_ALIGN
from drvtape.formats.tape_memory import PHASE_CALL, PHASE_RETURN
from drvtape.recorder.ingest import parse_tape, stream_tape
from drvtape.recorder.tape_events import SessionEvents
from drvtape.schema.messages import DRV_CLOSE, DRV_LOAD, DRV_OPEN, DRV_USER

from test_tape_ingest import QPC0, TID, Writer, fault, icopen, wstr
from test_tape_memory import Writer3


def pairs(w: Writer, n: int, **call) -> None:
    for i in range(n):
        w.send(DRV_USER + i % 7, i - 3, l1=i, l2=-i, **call)


def detach(w: Writer) -> None:
    w.seq += 1
    w.frame(struct.pack("<IIIIQQII", 6, w.pid, TID, 0, w.seq, QPC0 + 10 * w.seq, 0, 0))


def mixed_tape() -> bytes:
    a = Writer3(pid=4242)
    a.header()
    pairs(a, 40)
    a.send(DRV_OPEN, 0x1234, payloads=(wstr(1, "vidc.mrle"), icopen()))  # payloads: the general path
    seq = a.call(DRV_USER + 13, driver_id=0x1234, l1=0x7FF6_0001_0000)
    a.memory(seq, PHASE_CALL, "lparam1", bytes(range(64)))
    a.memory(seq, PHASE_RETURN, "lparam1.lpOutput", b"\xAA" * 16)
    a.ret(seq, 0, msg=DRV_USER + 13, driver_id=0x1234)
    outer = a.call(DRV_USER + 1)  # nested: a held call before a pair, then a lone return
    pairs(a, 3, depth=1)
    a.ret(outer, 7, msg=DRV_USER + 1)
    one, two = a.call(DRV_USER + 2, thread=1), a.call(DRV_USER + 3, thread=2)  # two threads interleaved
    a.ret(two, 2, msg=DRV_USER + 3, thread=2)
    a.ret(one, 1, msg=DRV_USER + 2, thread=1)
    pairs(a, 5, entry_point=1)  # wodMessage
    a.send(DRV_USER, 0, entry_point=9)  # an entry point drvtape never writes: bad-record
    pairs(a, 5, tick=-QPC0)  # calls before the tape's start: times clamped to 0
    pairs(a, 2, tick=10 ** 18)  # calls past a 64-bit clock: bad-record, their returns orphans
    a.seq += 3  # a seq gap
    pairs(a, 4)
    a.data += bytes(-len(a.data) % CHUNK_ALIGN)  # a mapped tape's padding
    pairs(a, 4)
    bad = len(a.data)
    pairs(a, 3)
    a.data[bad + 20] ^= 0xFF  # a bad CRC in a run of pairs: resynchronized
    handled = a.call(DRV_USER + 4)
    fault(a, handled)
    a.ret(handled, 0, msg=DRV_USER + 4)
    b = Writer(pid=99)  # a 32-bit process writing into the same tape between a's records
    b.data = a.data
    b.header(pointer_size=4)
    b.send(DRV_LOAD, 1)
    pairs(a, 2)
    b.send(DRV_USER, 0)  # b's turn: through add, then the fast path reads on with b's records
    opened = b.call(DRV_OPEN)
    b.ret(opened, 0xFFFF_0000 - (1 << 32), msg=DRV_OPEN)  # unsigned on x86
    b.send(DRV_CLOSE, 1, driver_id=0xFFFF_0000)
    detach(a)
    pairs(a, 6)  # after the detach: counted
    a.end()
    pairs(a, 2)  # after the end: orphans
    c = Writer(pid=7)
    c.data = a.data
    c.header()
    pairs(c, 3)
    crashed = c.call(DRV_USER + 5)
    fault(c, crashed)
    pairs(b, 8)
    b.call(DRV_USER)  # a call that never returned, then a torn tail
    b.call(DRV_USER + 6)
    del a.data[-5:]
    return bytes(a.data)


def _read(data: bytes) -> tuple[list[tuple], list, list, int]:
    """Every row in the order handed on, the sessions' infos, the problems, and the lists the
    fast path handed on."""
    rows: list[tuple] = []
    lists = [0]

    class Output:
        def __init__(self, header):
            pass

        def row(self, row) -> None:
            rows.append(tuple(row))

        def rows(self, given) -> None:
            lists[0] += 1
            rows.extend(given)

        def blob(self, key, data) -> None:
            rows.append(("blob", key))

        def close(self, info) -> None:
            rows.append(("close", info.header.id))

    infos, problems = stream_tape(data, "mixed", Output)
    return rows, infos, problems, lists[0]


def test_the_fast_path_gives_the_general_paths_rows_problems_and_endings(monkeypatch):
    data = mixed_tape()
    fast = _read(data)
    with monkeypatch.context() as m:
        m.setattr(SessionEvents, "run", lambda self, data, pos, stop: pos)
        general = _read(data)
    assert general[3] == 0 and fast[3] > 5  # the fast path did run, on several stretches
    assert fast[0] == general[0]
    assert [row.__class__ for row in fast[0]].count(tuple) > 100
    assert fast[1] == general[1]
    assert fast[2] == general[2]
    kinds = {p.kind for p in fast[2]}
    assert {"bad-record", "seq-gap", "bad-crc", "orphan", "torn"} <= kinds
    assert {info.end.reason.value for info in fast[1]} == {"closed", "crash", "killed"}
    assert "6 message(s) came after the tap's process-exit detach" in fast[1][0].end.detail


def test_parse_tape_gives_events_of_the_fast_paths_rows():
    tape = parse_tape(mixed_tape())
    events = tape.sessions[0].events
    assert [ev.kind for ev in events[:4]] == ["call", "return", "call", "return"]
    assert events[1].call_seq == 1 and events[1].duration_ns == 1_000
    x86 = tape.sessions[1]
    assert x86.header.arch == "x86" and x86.events[5].result == 0xFFFF_0000


@pytest.mark.parametrize("cut", range(1, 160, 7))
def test_a_pair_cut_anywhere_reads_the_same_on_both_paths(monkeypatch, cut):
    w = Writer()
    w.header()
    pairs(w, 10)
    data = bytes(w.data[:len(w.data) - cut])
    fast = _read(data)
    monkeypatch.setattr(SessionEvents, "run", lambda self, data, pos, stop: pos)
    assert _read(data)[:3] == fast[:3]
