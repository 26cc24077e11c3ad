"""The event store on real SQLite files: versioning, refusal of foreign files, exactness, queries."""

import sqlite3
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.errors import DrvtapeError
from drvtape.schema.events import EndReason
from drvtape.formats.jsonl import dump_session
from drvtape.formats.jsonl_reader import parse_jsonl
from drvtape.store import tables
from drvtape.schema.messages import DRV_EXITSESSION, DRV_USER
from drvtape.schema.rows import Kind, event_to_row
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT64_MAX
from drvtape.store import EventFilter, Store

int64 = st.integers(INT64_MIN, INT64_MAX)
uint64 = st.integers(0, UINT64_MAX)
# the edges of both ranges, where signed/unsigned mix-ups show
int64_edges = st.one_of(int64, st.sampled_from([INT64_MIN, -1, 0, 1, INT64_MAX]))
uint64_edges = st.one_of(uint64, st.sampled_from([0, INT64_MAX, INT64_MAX + 1, UINT64_MAX]))
exact_values = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _meta(path) -> dict:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT key, value FROM drvtape_meta"))


def test_a_new_database_stores_the_schema_version(tmp_path):
    Store.open(str(tmp_path / "new.db"), create=True).close()
    assert _meta(tmp_path / "new.db") == {"application": "drvtape", "schema_version": str(tables.SCHEMA_VERSION)}


def test_a_database_of_a_newer_schema_version_is_refused_clearly(tape_db):
    with sqlite3.connect(tape_db) as conn:
        conn.execute("UPDATE drvtape_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(DrvtapeError, match=r"schema version 99.*newer.*upgrade drvtape"):
        Store.open(str(tape_db))


def test_a_sqlite_file_of_another_application_is_not_a_drvtape_database(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    for create in (False, True):  # and it is never adopted, even by a command that writes
        with pytest.raises(DrvtapeError, match="not a drvtape database"):
            Store.open(str(path), create=create)
    with sqlite3.connect(path) as conn:
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["customers"]


def test_a_text_file_is_refused_cleanly(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(DrvtapeError, match=f"{path}.*not a.*database"):
        Store.open(str(path))


def test_reading_never_creates_a_file(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(DrvtapeError, match="no drvtape database"):
        Store.open(str(path))
    assert list(tmp_path.iterdir()) == []


def test_seq_is_unique_within_a_session(tmp_path, tapes):
    tape = tapes.Tape(tapes.header(str(uuid.uuid4())))
    tape.send(1, 1)
    with Store.open(str(tmp_path / "u.db"), create=True) as store:
        pk = store.begin_session(tape.header)
        store.append_rows(pk, [event_to_row(ev) for ev in tape.events])
        with pytest.raises(sa.exc.IntegrityError):
            store.append_rows(pk, [event_to_row(tape.events[0])])
        assert store.events(pk) == tape.events  # the failed append left nothing behind


def test_import_sessions_is_all_or_nothing(tape_db, tapes):
    ids = tapes.IDS
    fresh, duplicate = tapes.Tape(tapes.header(str(uuid.uuid4()))), tapes.Tape(tapes.header(ids["shutdown"]))
    fresh.send(1, 1)
    with Store.open(str(tape_db)) as store:
        before = store.event_count()
        with pytest.raises(DrvtapeError, match=f"{ids['shutdown']} is already in the database"):
            store.import_sessions([(fresh.header, fresh.events), (duplicate.header, duplicate.events)])
        assert store.event_count() == before
        with pytest.raises(DrvtapeError, match="no session matches"):
            store.resolve(str(fresh.header.id))


def _tape_of_values(tapes, lparam1, lparam2, result, driver_id, hdrvr, thread):
    tape = tapes.Tape(tapes.header(str(uuid.uuid4())))
    seq = tape.call(DRV_USER + 7, thread=thread, driver_id=driver_id, hdrvr=hdrvr, lparam1=lparam1, lparam2=lparam2)
    tape.ret(seq, result)
    tape.end(EndReason.CLOSED)
    return tape


@exact_values
@given(lparam1=int64_edges, lparam2=int64_edges, result=int64_edges,
       driver_id=uint64_edges, hdrvr=uint64_edges, thread=uint64_edges)
def test_64_bit_values_round_trip_exactly_through_a_sqlite_file(tmp_path, tapes, lparam1, lparam2, result,
                                                                driver_id, hdrvr, thread):
    tape = _tape_of_values(tapes, lparam1, lparam2, result, driver_id, hdrvr, thread)
    with Store.open(str(tmp_path / "exact.db"), create=True) as store:
        tape.store_in(store)
    with Store.open(str(tmp_path / "exact.db")) as store:  # a fresh connection: values came from the file
        stored = store.resolve(str(tape.header.id))
        assert store.events(stored.pk) == tape.events
        assert store.events(stored.pk, EventFilter(threads=(thread,), results=(result,))) == [tape.events[1]]


@exact_values
@given(lparam1=int64_edges, lparam2=int64_edges, result=int64_edges,
       driver_id=uint64_edges, hdrvr=uint64_edges, thread=uint64_edges)
def test_64_bit_values_round_trip_exactly_through_export_and_import(tmp_path, tapes, lparam1, lparam2, result,
                                                                    driver_id, hdrvr, thread):
    tape = _tape_of_values(tapes, lparam1, lparam2, result, driver_id, hdrvr, thread)
    exported = list(dump_session(tape.header, tape.events))
    with Store.open(str(tmp_path / "rt.db"), create=True) as store:
        store.import_sessions(parse_jsonl(exported, "rt.jsonl"))
        stored = store.resolve(str(tape.header.id))
        assert store.events(stored.pk) == tape.events
        assert list(dump_session(stored.header, store.events(stored.pk))) == exported


def test_resolve_by_uuid_prefix_and_last(tape_db, tapes):
    ids = tapes.IDS
    with Store.open(str(tape_db)) as store:
        assert str(store.resolve(ids["clean"]).header.id) == ids["clean"]
        assert str(store.resolve("BBBB").header.id) == ids["clean"]
        assert str(store.resolve("last").header.id) == ids["open"]
        with pytest.raises(DrvtapeError, match="ambiguous"):
            store.resolve("aaaa")
        with pytest.raises(DrvtapeError, match="no session matches"):
            store.resolve("dddd")


def test_cross_session_queries(tape_db, tapes):
    ids = tapes.IDS
    with Store.open(str(tape_db)) as store:
        assert [str(u) for u in store.sessions_with(DRV_EXITSESSION)] == [ids["shutdown"], ids["hang"]]
        summaries = {str(s.header.id): s for s in store.sessions()}
        assert summaries[ids["shutdown"]].fault_seq == 14 and summaries[ids["shutdown"]].threads == 2
        assert summaries[ids["hang"]].hang_seq == 6
        assert summaries[ids["open"]].end_reason is None
        assert [str(s.header.id) for s in store.sessions(machine="box-b")] == [ids["hang"], ids["clean"]]


def test_event_filters(tape_db, tapes):
    ids = tapes.IDS
    with Store.open(str(tape_db)) as store:
        pk = store.resolve(ids["shutdown"]).pk
        seqs = lambda **f: [ev.seq for ev in store.events(pk, EventFilter(**f))]  # noqa: E731
        assert seqs(threads=(tapes.T1,)) == [5, 6, 7, 8]
        assert seqs(kinds=(Kind.FAULT, Kind.END)) == [15, 16]
        assert seqs(msgs=(DRV_EXITSESSION,)) == [10, 11]
        assert seqs(from_seq=3, to_seq=5) == [3, 4, 5]
        assert seqs(results=(-1,)) == [8]
        assert seqs(limit=2) == [1, 2]
