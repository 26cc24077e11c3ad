"""The C fast path of ingest (sqlite_rows.read_pairs: a CALL with no payload and at once its
RETURN, read straight into packed rows) stores exactly what the Python reader, the
reference, stores: the same rows and chain links, thread counts, problems and endings, on
generated tapes with every record kind and damage, cut anywhere."""
import sqlite3
import struct
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from drvtape.cli.ingest import stream_into
from drvtape.formats.tape_frames import CHUNK_ALIGN
from drvtape.formats.tape_memory import PHASE_CALL, PHASE_RETURN
from drvtape.recorder.ingest import stream_tape
from drvtape.recorder.tape_events import SessionEvents
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN, DRV_USER
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT64_MAX
from drvtape.store import Store
from drvtape.store.packed_rows import PackedRows

from test_tape_ingest import QPC0, TID, _string, fault, wstr
from test_tape_memory import Writer3

U64 = st.sampled_from([0, 1, INT64_MAX, INT64_MAX + 1, UINT64_MAX, 0xFFFF_8000_0000_1000]) | st.integers(0, UINT64_MAX)
I64 = st.sampled_from([0, -1, INT64_MIN, INT64_MAX, 0xFFFF_0000 - (1 << 32)]) | st.integers(INT64_MIN, INT64_MAX)
THREAD = st.sampled_from([TID, 1, 0xFFFF_FFFF])
MSG = st.sampled_from([DRV_OPEN, DRV_CLOSE, DRV_USER, 0xFFFF_FFFF])
# QPC ticks added to a call's time: before the start, at and past what a 64-bit ns clock holds
TICK = (st.sampled_from([0, -QPC0, 92_233_720_368_547_000, 92_233_720_368_548_000, 10 ** 18]) | st.integers(-20, 20)
        | st.integers(-QPC0, 10 ** 12))


class Tape(Writer3):
    """A version 4 tape with a drawn clock."""

    def __init__(self, pid: int, freq: int, qpc_start: int):
        super().__init__(pid=pid)
        self.freq, self.qpc_start = freq, qpc_start
        self.calls: list[int] = []

    def header(self, pointer_size: int = 8, **_) -> int:
        self.seq = 0
        body = struct.pack("<I8sIIIIIQQQQQ", 1, b"DRVTAPE1", 4, self.pid, 0, pointer_size, 0, self.freq,
                           self.qpc_start, 133_590_240_000_000_000, 0, 0)
        for text in ("BOX", "Windows 10", "C:\\app.exe", "C:\\drv.dll", "C:\\tap\\drvtap.dll"):
            body += _string(text)
        return self.frame(body)

    def call(self, msg: int, **fields) -> int:
        seq = super().call(msg, **fields)
        self.calls.append(seq)
        return seq


def pairs(draw, w: Tape) -> None:
    thread, depth, entry, tick = draw(THREAD), draw(st.integers(0, 3)), draw(st.integers(0, 6)), draw(TICK)
    for _ in range(draw(st.integers(1, 12))):
        msg, driver_id, hdrvr = draw(MSG), draw(U64), draw(U64)
        seq = w.call(msg, driver_id=driver_id, hdrvr=hdrvr, l1=draw(I64), l2=draw(I64), thread=thread,
                     depth=depth, tick=tick, entry_point=entry)
        w.ret(seq, draw(I64), msg=msg, driver_id=draw(U64), hdrvr=hdrvr, thread=thread,
              entry_point=draw(st.sampled_from([entry, 0, 1])))


def earlier_call(draw, w: Tape) -> int:
    return draw(st.sampled_from(w.calls)) if w.calls else 1


def step(draw, w: Tape) -> None:
    kind = draw(st.sampled_from(["pairs"] * 8 + ["payload", "memory", "nested", "threads",
                                 "bad-entry", "seq", "padding", "handled", "crash", "orphan", "late-memory",
                                 "detach", "end", "header"]))
    if kind == "pairs":
        pairs(draw, w)
    elif kind == "payload":
        w.send(DRV_OPEN, 7, payloads=(wstr(1, "vidc.mrle"),))
    elif kind == "memory":
        seq = w.call(DRV_USER + 13, driver_id=0x1234, l1=0x7FF6_0001_0000)
        w.memory(seq, PHASE_CALL, "lparam1", bytes(range(64)))
        w.memory(seq, PHASE_RETURN, "lparam1.lpOutput", b"\xAA" * 16)
        w.ret(seq, 0, msg=DRV_USER + 13, driver_id=0x1234)
    elif kind == "nested":
        outer = w.call(DRV_USER + 1)
        pairs(draw, w)
        w.ret(outer, 7, msg=DRV_USER + 1)
    elif kind == "threads":
        one, two = w.call(DRV_USER + 2, thread=1), w.call(DRV_USER + 3, thread=2)
        w.ret(two, 2, msg=DRV_USER + 3, thread=2)
        w.ret(one, 1, msg=DRV_USER + 2, thread=1)
    elif kind == "bad-entry":
        w.send(DRV_USER, 0, entry_point=draw(st.sampled_from([7, 9, 0xFFFF])))
    elif kind == "seq":
        w.seq = max(0, w.seq + draw(st.integers(-6, 6)))  # a gap, or seqs going back
    elif kind == "padding":
        w.data += bytes(-len(w.data) % CHUNK_ALIGN)
    elif kind == "handled":
        seq = w.call(DRV_USER + 4)
        fault(w, seq)
        w.ret(seq, 0, msg=DRV_USER + 4)
    elif kind == "crash":
        fault(w, w.call(DRV_USER + 5))
    elif kind == "orphan":  # a return, or a fault, of a call that already returned (or never was)
        target = earlier_call(draw, w)
        if draw(st.booleans()):
            w.ret(target, 0, msg=DRV_USER)
        else:
            fault(w, target)
    elif kind == "late-memory":
        w.memory(earlier_call(draw, w), draw(st.sampled_from([PHASE_CALL, PHASE_RETURN])), "lparam1", b"\x01" * 8)
    elif kind == "detach":
        w.seq += 1
        w.frame(struct.pack("<IIIIQQII", 6, w.pid, TID, 0, w.seq, QPC0 + 10 * w.seq, 0, 0))
    elif kind == "end":
        w.end()
    else:
        w.header(pointer_size=draw(st.sampled_from([4, 8])))


@st.composite
def tapes(draw) -> bytes:
    clock = dict(freq=draw(st.sampled_from([10_000_000, 10_000_000, 3_579_545, 1, UINT64_MAX])),
                 qpc_start=draw(st.sampled_from([QPC0, QPC0, QPC0, 0, QPC0 + 1_000, UINT64_MAX])))
    a, b = Tape(4242, **clock), Tape(99, **clock)
    b.data = a.data  # two processes writing into one tape
    a.header()
    b.header(pointer_size=4)
    headers = len(a.data)  # damage there is a tape both paths refuse alike: not drawn
    for _ in range(draw(st.integers(1, 12))):
        step(draw, draw(st.sampled_from([a, a, b])))
    data = bytearray(a.data)
    if len(data) == headers:
        return bytes(data)
    for _ in range(draw(st.integers(0, 3))):  # damage: a byte changed anywhere
        data[draw(st.integers(headers, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(data[:len(data) - draw(st.integers(0, min(200, len(data) - headers)))])  # and cut near the end


def python_reader_only():
    return mock.patch.object(SessionEvents, "run", lambda self, data, pos, stop: pos)


def read(data: bytes) -> tuple:
    """Rows as handed on (in order), the sessions' infos and the problems; and how many
    PackedRows the C path handed on."""
    rows: list = []
    packed = [0]

    class Output:
        def __init__(self, header):
            rows.append(("session", header.id))

        def row(self, row) -> None:
            rows.append(tuple(row))

        def rows(self, given) -> None:
            packed[0] += given.__class__ is PackedRows
            rows.extend(given)

        def blob(self, key, data) -> None:
            rows.append(("blob", key))

        def close(self, info) -> None:
            rows.append(("close", info))

    try:
        infos, problems = stream_tape(data, "generated", Output)
    except Exception as exc:  # noqa: BLE001  (a tape both paths refuse: the same error)
        return ("refused", type(exc), str(exc)), packed[0]
    return (rows, infos, problems), packed[0]


def stored(folder: Path, name: str, data: bytes) -> tuple:
    """What ingesting the tape stores: every table's rows, links and counts included; and
    what stream_into says."""
    tape, db = folder / "generated.drvtape", folder / f"{name}.db"
    tape.write_bytes(data)
    with Store.open(db, create=True) as store, store.bulk_load() as load:
        said = stream_into(load, str(tape))
    conn = sqlite3.connect(db)
    try:
        tables = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                  for table in ("sessions", "events", "thread_counts", "blobs")}
    finally:
        conn.close()
    return said, tables


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tapes())
def test_the_c_path_reads_what_the_python_reader_reads(data):
    c_path, handed_on = read(data)
    with python_reader_only():
        reference, none = read(data)
    assert none == 0
    assert c_path == reference
    target(float(handed_on))  # tapes the C path reads more stretches of (tests/test_tape_fast_path.py checks it does)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tapes())
def test_the_c_path_stores_what_the_python_reader_stores(data):
    if read(data)[0][0] == "refused":
        return
    with tempfile.TemporaryDirectory(prefix="drvtape-c-path-") as folder:
        c_path = stored(Path(folder), "c", data)
        with python_reader_only():
            reference = stored(Path(folder), "python", data)
    assert c_path == reference

