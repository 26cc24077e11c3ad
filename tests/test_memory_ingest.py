"""Tape version 3's MEMORY records ingested onto their CALL/RETURN events: call-phase blocks
on the call, return-phase blocks on its return, bytes once per sha256, flags kept; records
that name no call, come after their return or repeat a path are reported and skipped."""

from drvtape.cli.ingest import ingest_tapes
from drvtape.formats.tape_memory import MF_TRUNCATED, MF_UNREADABLE, PHASE_CALL, PHASE_RETURN
from drvtape.recorder.ingest import parse_tape
from drvtape.schema.memory.captured import Phase, blob_key
from drvtape.schema.messages import DRV_USER
from drvtape.store import Store

from test_tape_memory import Writer3, decompress_session

ICM_DECOMPRESS = DRV_USER + 13
FRAME = bytes(range(256)) * 4


def test_blocks_land_on_the_call_and_return_of_their_call():
    w, _ = decompress_session()
    tape = parse_tape(bytes(w.data))
    (session,) = tape.sessions
    call, ret, _end = session.events
    assert not tape.problems
    assert [(b.path, b.phase, b.size, b.captured) for b in call.memory] == [
        ("lparam1", Phase.CALL, 64, 64), ("lparam1.lpbiInput", Phase.CALL, 40, 40)]
    assert call.memory[1].address == 0x7FF6_0002_0000
    output, unreadable = ret.memory
    assert (output.path, output.size, output.captured, output.truncated) == ("lparam1.lpOutput", 4096, 16, True)
    assert unreadable.unreadable and unreadable.captured == 0
    assert session.blobs[call.memory[0].sha256] == bytes(range(64))
    assert session.blobs[output.sha256] == b"\xAA" * 16


def test_identical_frames_are_one_blob_and_the_session_stores_and_verifies(tmp_path):
    w = Writer3()
    w.header()
    for _ in range(5):
        seq = w.call(ICM_DECOMPRESS, driver_id=0x1234, l1=0x7FF6_0001_0000, l2=64)
        w.memory(seq, PHASE_CALL, "lparam1.lpInput", FRAME)
        w.memory(seq, PHASE_RETURN, "lparam1.lpOutput", FRAME, address=0x7FF6_0009_0000)
        w.ret(seq, 0, msg=ICM_DECOMPRESS, driver_id=0x1234)
    w.end()
    tape = parse_tape(bytes(w.data))
    (session,) = tape.sessions
    assert list(session.blobs) == [blob_key(FRAME)]
    db = str(tmp_path / "i.db")
    with Store.open(db, create=True) as store:
        ingest_tapes(store, [tape])
        pk = store.resolve("last").pk
        assert store.verify(pk) == []
        events = store.events(pk)
        assert sum(len(ev.memory) for ev in events if ev.kind in ("call", "return")) == 10
        with store.reading() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM blobs").scalar() == 1


def test_memory_records_that_cannot_belong_are_reported_and_skipped():
    w = Writer3()
    w.header()
    seq = w.call(ICM_DECOMPRESS, driver_id=0x1234)
    w.memory(seq, PHASE_CALL, "lparam1", bytes(8))
    dup = w.memory(seq, PHASE_CALL, "lparam1", bytes(8))
    lost = w.memory(seq + 40, PHASE_CALL, "lparam1", bytes(8))
    w.ret(seq, 0, msg=ICM_DECOMPRESS, driver_id=0x1234)
    late = w.memory(seq, PHASE_RETURN, "lparam1", bytes(8))
    bad_path = w.memory(seq, PHASE_CALL, "lparam1.no such", bytes(8))
    w.end()
    tape = parse_tape(bytes(w.data))
    (session,) = tape.sessions
    assert [len(ev.memory) for ev in session.events[:2]] == [1, 0]
    found = {p.offset: p for p in tape.problems}
    assert "second call block" in found[dup].detail
    assert "its call record is missing" in found[lost].detail
    assert "after its call's return" in found[late].detail
    assert found[bad_path].kind == "bad-record"


def test_flags_become_truncated_and_unreadable_blocks():
    w = Writer3()
    w.header()
    seq = w.call(ICM_DECOMPRESS, driver_id=0x1234)
    w.memory(seq, PHASE_CALL, "lparam1.lpInput", FRAME[:100], size=len(FRAME), flags=MF_TRUNCATED)
    w.memory(seq, PHASE_CALL, "lparam1.lpbiInput", b"", size=40, flags=MF_UNREADABLE)
    w.ret(seq, 0, msg=ICM_DECOMPRESS, driver_id=0x1234)
    w.end()
    (session,) = parse_tape(bytes(w.data)).sessions
    cut, gone = session.events[0].memory
    assert cut.truncated and (cut.size, cut.captured) == (len(FRAME), 100)
    assert gone.unreadable and gone.sha256 == blob_key(b"")
