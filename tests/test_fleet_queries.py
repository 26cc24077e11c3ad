"""Fleet-size queries use the indexes, and the indexes are small (issue 16 items 4 and 5).

The statements are the ones the store itself runs (captured as it runs them), explained by
each engine: one session's events, of one message or all; which sessions got a message;
sessions' faults and ends; the orphans' query; the sessions' counts (thread_counts). On SQLite
every step on `events` or `thread_counts` is a SEARCH
through an index, or a scan of the endings' partial index, never a SCAN of the table; on PostgreSQL, with 1M events, no Seq Scan on events. The
bytes per event are those of a real SQLite file after a checkpoint.
"""

import os
import re
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import sqlalchemy as sa

from drvtape.schema.events import SessionHeader
from drvtape.schema.memory.selector import parse_selector
from drvtape.schema.messages import DRV_EXITSESSION, DRV_USER
from drvtape.schema.rows import CALL, RETURN, end_row
from drvtape.store import EventFilter, Store
from drvtape.store.recovery import end_orphaned_sessions
from drvtape.store.session_summary import recount

THREAD = 0x7F3A_5C2D_E700  # a realistic Linux pthread id
BYTES_PER_EVENT = 90


def header(n: int) -> SessionHeader:
    return SessionHeader(id=uuid.uuid4(), driver="sim:fleet", target="sim:fleet", machine="fleet-lab",
                         os="Linux", process="fleet", pid=os.getpid(), recorder_version="test",
                         started_at=datetime(2026, 1, 1, tzinfo=timezone.utc), clock="perf_counter_ns",
                         source="hook")


def session_rows(pairs: int, exit_at: int | None) -> list[tuple]:
    """A call and its return per message (DRV_USER, or DRV_EXITSESSION at exit_at), then `end`."""
    rows = []
    for i in range(pairs):
        seq, ts, msg = 2 * i + 1, 1_000 * i, DRV_EXITSESSION if i == exit_at else DRV_USER
        rows.append((seq, CALL, ts, THREAD, msg, 0x1001, 0x7E10, i, -1, None, None, 0, None, None))
        rows.append((seq + 1, RETURN, ts + 400, THREAD, msg, 0x1001, 0x7E10, None, None, 0, seq, None, 400, None))
    rows.append(end_row(2 * pairs + 1, 1_000 * pairs, THREAD, "closed"))
    return rows


def fill(store: Store, sessions: int, pairs: int) -> list[int]:
    """Sessions of 2 * pairs + 1 events; every fourth gets a DRV_EXITSESSION. Their pks."""
    pks = []
    for n in range(sessions):
        pk = store.begin_session(header(n))
        store.append_rows(pk, session_rows(pairs, pairs - 4 if n % 4 == 0 else None))
        pks.append(pk)
    return pks


@contextmanager
def statements(store: Store):
    """The statements on `events` the store runs in the block, with their parameters."""
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if not executemany and "events" in statement:
            seen.append((statement, parameters))
    sa.event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", note)


def fleet_statements(store: Store, pk: int) -> list:
    """What `events SESSION`, `events --msg`, `sessions --with-msg` (of DRV_*, MCI_* and MODM_*
    names) and a writer's opening ask."""
    with statements(store) as seen:
        assert len(store.rows(pk)) > 0
        assert len(store.rows(pk, EventFilter(msgs=(DRV_EXITSESSION,)))) == 2
        assert store.sessions(with_msg=DRV_EXITSESSION)
        assert store.sessions_with(DRV_EXITSESSION)
        # a class's name (the instance's class decides) and a device entry point's (issue 13)
        named = (parse_selector("MCI_STATUS"), parse_selector("MODM_SETVOLUME"))
        assert store.rows(pk, EventFilter(msgs=named)) == []
        assert store.sessions(with_msg=named[0]) == [] and store.sessions_with(named[1]) == []
        end_orphaned_sessions(store)
    assert len(seen) >= 8
    return seen


def indexed(step: str) -> bool:
    """A SQLite plan step that reads part of an index: a SEARCH, or a scan of the endings'
    partial index (a few entries per session, never one per event)."""
    return step.startswith("SEARCH") or step.endswith("INDEX ix_events_endings")


def test_sqlite_fleet_queries_search_the_indexes_and_an_event_takes_at_most_90_bytes(tmp_path):
    path = tmp_path / "fleet.db"
    with Store.open(path, create=True) as store:
        pks = fill(store, sessions=60, pairs=500)
        seen = fleet_statements(store, pks[8])
        with store.engine.connect() as conn:
            events = conn.exec_driver_sql("SELECT count(*) FROM events").scalar()
            for statement, parameters in seen:
                plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                on_tables = [step for step in plan if re.search(" (events|thread_counts) ", f"{step} ")]
                assert on_tables and all(indexed(step) for step in on_tables), (statement, plan)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    assert events == 60 * 1001
    assert size / events <= BYTES_PER_EVENT, f"{size / events:.1f} B per event"


PG_SESSIONS, PG_PAIRS = 1_000, 500  # 1,001,000 events


def pg_bulk_fill(conn, sessions: int, pairs: int) -> None:
    """Fleet-sized sessions written by SQL (chain links left out: no query here reads them)."""
    conn.exec_driver_sql(
        "INSERT INTO sessions (uuid, driver, machine, os, process, pid, recorder_version, started_us, clock, "
        "source) SELECT md5(g::text)::uuid::text, 'sim:bulk', 'bulk-lab', 'Linux', 'bulk', 1, 'test', g, "
        f"'perf_counter_ns', 'hook' FROM generate_series(1, {sessions}) g")
    last = 2 * pairs + 1
    end = '{"reason":"closed","detail":null}'
    conn.exec_driver_sql(
        "INSERT INTO events (session_pk, seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2, "
        "result, call_seq, depth, duration_ns, payload) "
        f"SELECT s.pk, g, CASE WHEN g = {last} THEN 4 WHEN mod(g, 2) = 1 THEN 0 ELSE 1 END, g * 500, {THREAD}, "
        f"CASE WHEN g = {last} THEN NULL WHEN mod(s.pk, 4) = 0 AND g IN ({last - 8}, {last - 7}) "
        f"THEN {DRV_EXITSESSION} ELSE {DRV_USER} END, 4097, 32272, g, -1, 0, NULL, 0, 400, "
        f"CASE WHEN g = {last} THEN '{end}' END "
        f"FROM sessions s CROSS JOIN generate_series(1, {last}) g WHERE s.driver = 'sim:bulk'")
    for pk in conn.exec_driver_sql("SELECT pk FROM sessions WHERE driver = 'sim:bulk'").scalars():
        recount(conn, pk)  # events written by SQL: their counts too (drvtape.store.session_summary)
    conn.exec_driver_sql("ANALYZE")


def test_postgres_fleet_queries_use_the_indexes_at_a_million_events(postgres):
    url = postgres.new_database()
    with Store.open(url, create=True) as store:
        pks = fill(store, sessions=8, pairs=50)
        with store.engine.begin() as conn:
            pg_bulk_fill(conn, PG_SESSIONS, PG_PAIRS)
        seen = fleet_statements(store, pks[4])
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() > 1_000_000
            for statement, parameters in seen:
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                # thread_counts has a row per session and thread: a scan of it can be the best plan
                reads_events = re.search(r"\b(FROM|JOIN) events\b", statement)
                assert "Seq Scan on events" not in plan and ("Index" in plan or not reads_events), (statement, plan)
