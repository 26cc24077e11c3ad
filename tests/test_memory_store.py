"""Captured memory in the store: blocks on call/return events, their bytes once per sha256 in
the blobs table, the hash chain covering the block list, verify checking every blob, and the
read model replay uses (memory_in / memory_out / blob() / arch)."""

import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay import load_recording
from drvtape.schema.events import CallEvent, ReturnEvent, SessionHeader
from drvtape.schema.memory.captured import Phase, blob_key, block
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.rows import event_to_row, row_to_event
from drvtape.store import Store



@dataclass
class Tape:
    header: SessionHeader
    events: list = field(default_factory=list)


def header(session_id: str, **fields) -> SessionHeader:
    return SessionHeader(id=uuid.UUID(session_id), driver="vidc.SRLE", target="sim:vfw-decoder", machine="box-a",
                         os="Linux", process="pytest", recorder_version="0.1.0",
                         started_at=datetime(2024, 5, 1, 12, tzinfo=timezone.utc), **fields)

ICM_DECOMPRESS = 0x4000 + 4098  # a class message with pointers: its memory is what matters
FRAME = bytes(range(256)) * 300  # 76,800 bytes: a 320x240 8-bit frame
FORMAT = b"\x28\x00\x00\x00" + bytes(36)  # a BITMAPINFOHEADER's 40 bytes
SESSION_ID = "dddd0005-0000-4000-8000-000000000005"


def codec_tape(frames: int = 10, arch: str | None = None) -> tuple[Tape, dict[str, bytes]]:
    """A session decoding `frames` identical frames: each call reads the format and the input
    frame at the same addresses, each return has the output frame."""
    tape = Tape(header(SESSION_ID, arch=arch))
    blobs = {blob_key(FRAME): FRAME, blob_key(FORMAT): FORMAT}
    for _ in range(frames):
        seq = len(tape.events) + 1
        inputs = (block("lparam1.lpbiInput", Phase.CALL, 0x10_0000, len(FORMAT), FORMAT),
                  block("lparam1.lpInput", Phase.CALL, 0x20_0000, len(FRAME), FRAME))
        tape.events.append(CallEvent(seq=seq, ts_ns=seq, thread=1, msg=ICM_DECOMPRESS, driver_id=7, hdrvr=9,
                                     lparam1=0x30_0000, lparam2=24, memory=inputs))
        output = (block("lparam1.lpOutput", Phase.RETURN, 0x40_0000, len(FRAME), FRAME),)
        tape.events.append(ReturnEvent(seq=seq + 1, ts_ns=seq + 1, thread=1, call_seq=seq, msg=ICM_DECOMPRESS,
                                       driver_id=7, hdrvr=9, result=0, duration_ns=1, memory=output))
    return tape, blobs


def stored(tmp_path, tape, blobs) -> str:
    db = str(tmp_path / "m.db")
    with Store.open(db, create=True) as store:
        store.store_session(tape.header, [event_to_row(ev) for ev in tape.events], blobs)
    return db


def sql(db, query, *args):
    conn = sqlite3.connect(db)
    with conn:
        rows = conn.execute(query, args).fetchall()
    conn.close()
    return rows


def test_repeated_identical_frames_store_their_bytes_once(tmp_path):
    tape, blobs = codec_tape(frames=10)
    db = stored(tmp_path, tape, blobs)
    assert sql(db, "SELECT count(*), sum(size) FROM blobs") == [(2, len(FRAME) + len(FORMAT))]
    with Store.open(db) as store:  # a second session of the same frames adds no blob
        again = Tape(header(str(uuid.uuid4())), tape.events)
        pk = store.begin_session(again.header)
        store.append_rows(pk, [event_to_row(ev) for ev in again.events], blobs)
    assert sql(db, "SELECT count(*) FROM blobs") == [(2,)]


def test_blocks_round_trip_through_rows_and_the_store(tmp_path):
    tape, blobs = codec_tape(frames=2)
    assert [row_to_event(event_to_row(ev)) for ev in tape.events] == tape.events
    db = stored(tmp_path, tape, blobs)
    with Store.open(db, read_only=True) as store:
        assert store.events(store.resolve("last").pk) == tape.events
        assert store.verify(store.resolve("last").pk) == []


def test_an_event_without_memory_keeps_the_text_it_had(tmp_path):
    plain = CallEvent(seq=1, ts_ns=0, thread=1, msg=1, driver_id=0, hdrvr=1, lparam1=0, lparam2=0)
    assert event_to_row(plain).payload is None  # so the chain links of older sessions stay valid
    ret = ReturnEvent(seq=2, ts_ns=0, thread=1, call_seq=1, msg=1, driver_id=0, hdrvr=1, result=1, duration_ns=0)
    assert event_to_row(ret).payload is None


def test_the_read_model_gives_each_calls_memory_and_its_bytes(tmp_path):
    tape, blobs = codec_tape(frames=3, arch="x86")
    db = stored(tmp_path, tape, blobs)
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
    assert recording.arch == "x86"
    first = recording.calls[0]
    assert [b.path for b in first.memory_in] == ["lparam1.lpbiInput", "lparam1.lpInput"]
    assert [b.path for b in first.memory_out] == ["lparam1.lpOutput"]
    assert recording.blob(first.memory_in[1].sha256) == FRAME  # read after the store closed: loaded lazily
    assert recording.blob(first.memory_in[0].sha256) == FORMAT


def test_a_session_without_arch_reads_as_x64():
    tape, _ = codec_tape(frames=1)
    assert recording_from_rows(tape.header, [event_to_row(ev) for ev in tape.events]).arch == "x64"


def test_a_tampered_blob_is_reported_by_verify(tmp_path):
    tape, blobs = codec_tape(frames=3)
    db = stored(tmp_path, tape, blobs)
    sql(db, "UPDATE blobs SET data = ? WHERE sha256 = ?", FRAME[:-1] + b"\x00", blob_key(FRAME))
    with Store.open(db, read_only=True) as store:
        [(seq, problem)] = store.verify(store.resolve("last").pk)
    assert seq == 1 and "lparam1.lpInput" in problem and "do not match their hash" in problem


def test_a_missing_blob_is_reported_by_verify(tmp_path):
    tape, blobs = codec_tape(frames=3)
    db = stored(tmp_path, tape, blobs)
    sql(db, "DELETE FROM blobs WHERE sha256 = ?", blob_key(FORMAT))
    with Store.open(db, read_only=True) as store:
        [(seq, problem)] = store.verify(store.resolve("last").pk)
    assert seq == 1 and "lparam1.lpbiInput" in problem and "missing" in problem


def test_a_block_pointed_at_other_bytes_breaks_the_chain(tmp_path):
    tape, blobs = codec_tape(frames=3)
    db = stored(tmp_path, tape, blobs)
    other = blob_key(FORMAT)
    [(payload,)] = sql(db, "SELECT payload FROM events WHERE seq = 4")
    sql(db, "UPDATE events SET payload = ? WHERE seq = 4", payload.replace(blob_key(FRAME), other))
    with Store.open(db, read_only=True) as store:
        [(seq, problem)] = store.verify(store.resolve("last").pk)
    assert seq == 4 and "hash chain" in problem


def test_an_altered_arch_is_found_by_verify(tmp_path):
    tape, blobs = codec_tape(frames=1)
    db = stored(tmp_path, tape, blobs)
    sql(db, "UPDATE sessions SET arch = 'x86'")
    with Store.open(db, read_only=True) as store:
        [(seq, problem)] = store.verify(store.resolve("last").pk)
    assert seq == 0 and "header" in problem


def test_a_block_of_the_other_phase_is_damage(tmp_path):
    tape, blobs = codec_tape(frames=1)
    db = stored(tmp_path, tape, blobs)
    sql(db, "UPDATE events SET payload = replace(payload, '\"call\"', '\"return\"') WHERE seq = 1")
    with Store.open(db, read_only=True) as store, pytest.raises(DrvtapeError, match="other phase"):
        store.events(store.resolve("last").pk)


def test_blobs_are_stored_once_on_both_engines_and_verify(db):
    tape, blobs = codec_tape(frames=4)
    with Store.open(db, create=True) as store:
        store.store_session(tape.header, [event_to_row(ev) for ev in tape.events], blobs)
        again = Tape(header(str(uuid.uuid4())), tape.events)
        store.store_session(again.header, [event_to_row(ev) for ev in again.events], blobs)
        assert store.blobs([blob_key(FRAME)]) == {blob_key(FRAME): FRAME}
        assert [store.verify(s.pk) for s in store.sessions()] == [[], []]
        with store.reading() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM blobs").scalar() == 2


def test_a_recording_reads_many_blobs_in_few_queries(tmp_path):
    tape = Tape(header(SESSION_ID))
    frames = [bytes([i]) * 64 for i in range(150)]
    for i, data in enumerate(frames):
        seq = 2 * i + 1
        tape.events.append(CallEvent(seq=seq, ts_ns=seq, thread=1, msg=ICM_DECOMPRESS, driver_id=7, hdrvr=9,
                                     lparam1=1, lparam2=24,
                                     memory=(block("lparam1.lpInput", Phase.CALL, 0x20_0000, 64, data),)))
        tape.events.append(ReturnEvent(seq=seq + 1, ts_ns=seq + 1, thread=1, call_seq=seq, msg=ICM_DECOMPRESS,
                                       driver_id=7, hdrvr=9, result=0, duration_ns=1))
    db = stored(tmp_path, tape, {blob_key(f): f for f in frames})
    asked = []
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
        counted = recording.__class__(recording.header, recording.calls, recording.outcome,
                                      lambda keys: asked.append(keys) or store.blobs(keys))
        assert [counted.blob(c.memory_in[0].sha256) for c in counted.calls] == frames
    assert len(asked) == 3  # 64 keys a query


def test_a_pushed_session_takes_its_blobs_along(tmp_path, drvtape):
    tape, blobs = codec_tape(frames=3)
    db = stored(tmp_path, tape, blobs)
    central = tmp_path / "central.db"
    done = drvtape("--db", db, "push", "--to", str(central), "--all")
    assert done.code == 0, done.stderr
    with Store.open(str(central), read_only=True) as store:
        pk = store.resolve("last").pk
        assert store.verify(pk) == [] and store.blobs(blobs) == blobs
