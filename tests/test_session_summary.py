"""thread_counts, the per-session counts `sessions` lists (drvtape.store.session_summary),
always agrees with a COUNT over the events: after the recorder's appends in every durability,
its end, import, a whole stored session, push and pull, recovery of an interrupted session,
and the upgrade of a database recorded before the table existed (issue 16 item 4)."""

import os
import platform
import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest
import sqlalchemy as sa

from drvtape.recorder import Recorder
from drvtape.schema.events import CallEvent, ReturnEvent, SessionHeader, utc_now
from drvtape.schema.rows import CALL, RETURN
from drvtape.store import Store
from drvtape.store import tables
from drvtape.store.migrations import upgrade
from drvtape.store.recovery import end_orphaned_sessions
from drvtape.store.session_summary import recount
from drvtape.store.sync import copy_sessions

THREAD = 0xFFFF_8000_0000_1234  # above INT64_MAX: stored as its two's complement

COUNTED_FROM_EVENTS = ("SELECT session_pk, thread, count(*), sum(CASE WHEN kind = 0 THEN 1 ELSE 0 END) "
                       "FROM events GROUP BY session_pk, thread")


def counts(store: Store) -> tuple[set, set]:
    """(thread_counts' rows, the same counted over events) as sets of int tuples."""
    with store.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT session_pk, thread, events, calls FROM thread_counts").all()
        counted = conn.exec_driver_sql(COUNTED_FROM_EVENTS).all()
    return {tuple(map(int, r)) for r in kept}, {tuple(map(int, r)) for r in counted}


def assert_agree(store: Store) -> None:
    kept, counted = counts(store)
    assert kept == counted and counted
    for s in store.sessions():
        rows = store.rows(s.pk)
        assert (s.events, s.calls, s.threads) == (
            len(rows), sum(r.kind == CALL for r in rows), len({r.thread for r in rows if r.kind == CALL}))


def driver(driver_id, hdrvr, msg, lparam1, lparam2):
    return lparam1


@pytest.mark.parametrize("durability", ["batched", "process", "machine"])
def test_the_recorders_appends_and_end_are_counted(tmp_path, durability):
    with Store.open(tmp_path / "rec.db", create=True) as store:
        rec = Recorder(store, driver="counted", durability=durability, batch_size=16)
        hooked = rec.wrap(driver)

        together = threading.Barrier(3)  # alive at once: three thread ids, none reused

        def calls(n):
            together.wait()
            for i in range(n):
                hooked(0, 1, 0x4001, i, 0)
            together.wait()
        workers = [threading.Thread(target=calls, args=(40 + k,)) for k in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        rec.mark("between")
        rec.close()
        assert store.summary(store.resolve("last").pk).threads == 3
        assert_agree(store)


def session(calls: int, thread: int = THREAD) -> tuple[SessionHeader, list]:
    header = SessionHeader(id=uuid.uuid4(), driver="imported", machine="elsewhere", started_at=utc_now())
    events = []
    for i in range(calls):
        events.append(CallEvent(seq=2 * i + 1, ts_ns=i, thread=thread, msg=0x4001, driver_id=0, hdrvr=1,
                                lparam1=i, lparam2=0))
        events.append(ReturnEvent(seq=2 * i + 2, ts_ns=i, thread=thread, call_seq=2 * i + 1, msg=0x4001,
                                  driver_id=0, hdrvr=1, result=0, duration_ns=1))
    return header, events


def test_import_whole_sessions_and_push_pull_are_counted(tmp_path, db):
    local = tmp_path / "local.db"
    with Store.open(local, create=True) as store:
        store.import_sessions([session(7), session(3, thread=5)])
        header, _ = session(0)
        store.store_session(header, [(1, CALL, 0, 9, 0x4001, 0, 1, 0, 0, None, None, 0, None, None),
                                     (2, RETURN, 1, 9, 0x4001, 0, 1, None, None, 0, 1, None, 1, None)])
        assert_agree(store)
        with Store.open(db, create=True) as central:
            copy_sessions(store, central, [store.resolve(str(s.header.id)) for s in store.sessions()], chunk=4)
            assert_agree(central)
            assert [(s.events, s.calls, s.threads) for s in central.sessions()] == [
                (s.events, s.calls, s.threads) for s in store.sessions()]
            back = tmp_path / "back.db"
            with Store.open(back, create=True) as pulled:
                copy_sessions(central, pulled, [central.resolve(str(s.header.id)) for s in central.sessions()])
                assert_agree(pulled)
                assert [(s.events, s.calls, s.threads) for s in pulled.sessions()] == [
                    (s.events, s.calls, s.threads) for s in store.sessions()]


def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_the_end_recovery_gives_an_interrupted_session_is_counted(tmp_path):
    with Store.open(tmp_path / "orphan.db", create=True) as store:
        header = SessionHeader(id=uuid.uuid4(), driver="killed", machine=platform.node(), pid=dead_pid(),
                               started_at=utc_now())
        pk = store.begin_session(header)
        store.append_rows(pk, [(1, CALL, 0, THREAD, 0x4001, 0, 1, 0, 0, None, None, 0, None, None)])
        assert end_orphaned_sessions(store) == [header.id]
        assert store.summary(pk).events == 2 and store.summary(pk).end_reason is not None
        assert_agree(store)


def test_recount_counts_events_inserted_without_rows_in_hand(tmp_path):
    with Store.open(tmp_path / "bulk.db", create=True) as store:
        store.import_sessions([session(4)])
        pk = store.resolve("last").pk
        with store.writing() as conn:
            conn.exec_driver_sql(f"INSERT INTO events (session_pk, seq, kind, ts_ns, thread, msg) "
                                 f"SELECT session_pk, seq + 100, kind, ts_ns, 77, msg FROM events WHERE session_pk = {pk}")
            recount(conn, pk)
        assert_agree(store)


def test_an_upgraded_database_has_the_counts_of_what_it_held(tmp_path):
    path = tmp_path / "old.db"
    with Store.open(path, create=True) as store:
        store.import_sessions([session(6), session(2, thread=3)])
        expected = counts(store)[1]
        with store.writing() as conn:
            conn.execute(sa.text("DROP TABLE thread_counts"))
            conn.execute(sa.text("UPDATE drvtape_meta SET value = '7' WHERE key = 'schema_version'"))
    done = upgrade(path)
    assert (done.before, done.after) == (7, tables.SCHEMA_VERSION)
    with Store.open(path) as store:
        assert counts(store) == (expected, expected)
        assert_agree(store)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    os.remove(done.backup)
