"""Queries at scale (issue 2, issue 16 item 5): one session's DRV_EXITSESSION events and
Store.sessions_with across a database of `events` events, and the file's bytes per event
beside a copy with the indexes events had before schema version 6."""

from __future__ import annotations

import shutil
import sqlite3
import statistics
from pathlib import Path

from direct_db import write_sessions
from measure import rate, step, timed
from sample_rows import DRV_USER_1, call_return_rows, new_header
from drvtape.schema import messages as m
from drvtape.store import EventFilter, Store

EVENTS_PER_SESSION = 1_000
QUERY_REPS = 50
TARGET_MS = 10
TARGET_BYTES_PER_EVENT = 90
# the baselines: the same queries in raw sqlite3 (Store.rows and Store.sessions_with build them in SQLAlchemy)
RAW_SESSION_MSG = ("SELECT seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2, result, call_seq, "
                   "depth, duration_ns, payload, entry_point FROM events WHERE session_pk = ? AND msg = ? ORDER BY seq")
RAW_SESSIONS_WITH = ("SELECT uuid FROM sessions WHERE pk IN (SELECT DISTINCT session_pk FROM events "
                     "WHERE msg = ? AND kind = 0) ORDER BY started_us, pk")
SCHEMA_5_INDEXES = ("CREATE INDEX ix_events_session_msg ON events (session_pk, msg, seq)",
                    "CREATE INDEX ix_events_msg_session ON events (msg, kind, session_pk)",
                    "CREATE INDEX ix_events_kind_session ON events (kind, session_pk)")


def build_query_db(path: Path, events: int) -> tuple[Store, list[int]]:
    """`events` events in sessions of EVENTS_PER_SESSION (LOAD, ENABLE, OPEN, then DRV_USER+1); every
    fourth session gets a DRV_EXITSESSION. Written directly (bench/direct_db.py): the figure is
    the queries', not the writing's. Returns the store and the pks of those sessions."""
    sessions = max(1, events // EVENTS_PER_SESSION)
    pairs = EVENTS_PER_SESSION // 2
    opening = (m.DRV_LOAD, m.DRV_ENABLE, m.DRV_OPEN)

    def session_rows(exit_at: int | None) -> list[tuple]:
        return call_return_rows(1, pairs, lambda i: opening[i] if i < len(opening)
                                else m.DRV_EXITSESSION if i == exit_at else DRV_USER_1)

    plain, with_exit = session_rows(None), session_rows(pairs - 4)
    with step(f"query: build {sessions * pairs * 2:,} events", sessions) as advance:
        write_sessions(path, ((new_header("sim:bench"), with_exit if k % 4 == 0 else plain) for k in range(sessions)),
                       advance)
    return Store.open(str(path)), [k + 1 for k in range(0, sessions, 4)]  # pks count from 1 in a new file


def file_bytes_per_event(path: Path, events: int) -> tuple[float, float]:
    """Bytes per event of the SQLite file, and of a copy with the three whole indexes events
    had before schema version 6 instead of its two partial ones (the baseline)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.with_name("query-schema-5.db")
    shutil.copyfile(path, before)
    with sqlite3.connect(before) as conn:
        conn.execute("DROP INDEX ix_events_calls_msg")
        conn.execute("DROP INDEX ix_events_endings")
        for ddl in SCHEMA_5_INDEXES:
            conn.execute(ddl)
        conn.commit()
        conn.execute("VACUUM")
    per_event = path.stat().st_size / events, before.stat().st_size / events
    before.unlink()
    return per_event


def raw_query_ms(path: Path, exiting: list[int]) -> tuple[float, float]:
    """The baselines: ms of the same fetches in raw sqlite3 (median; on as many other sessions
    of the same shape, not read yet: the store's fetches left theirs in the page cache) and of
    the same sessions_with."""
    other = len(exiting) // 2
    with sqlite3.connect(path) as conn:
        conn.execute(RAW_SESSION_MSG, (exiting[0], m.DRV_EXITSESSION)).fetchall()  # warm, as the store is
        times = [timed(lambda pk: conn.execute(RAW_SESSION_MSG, (pk, m.DRV_EXITSESSION)).fetchall(),
                       exiting[(i * 7919 + other) % len(exiting)])[0] * 1e3 for i in range(QUERY_REPS)]
        cross_s, _ = timed(lambda: conn.execute(RAW_SESSIONS_WITH, (m.DRV_EXITSESSION,)).fetchall())
    return statistics.median(times), cross_s * 1e3


def bench_query(tmp: Path, events: int) -> dict:
    """ms to fetch one session's DRV_EXITSESSION events (median over QUERY_REPS sessions), and
    Store.sessions_with(DRV_EXITSESSION) across the whole database, once; each beside the same
    query in raw sqlite3."""
    build_s, (store, exiting) = timed(build_query_db, tmp / "query.db", events)
    with store:
        total = store.event_count()
        flt = EventFilter(msgs=(m.DRV_EXITSESSION,))
        store.rows(exiting[0], flt)  # warm: first connection, statement compiled once
        times, found = [], set()
        for i in range(QUERY_REPS):
            seconds, rows = timed(store.rows, exiting[(i * 7919) % len(exiting)], flt)
            times.append(seconds * 1e3)
            found.add(len(rows))
        cross_s, with_exit = timed(store.sessions_with, m.DRV_EXITSESSION)
    raw_median_ms, raw_cross_ms = raw_query_ms(tmp / "query.db", exiting)
    bytes_per_event, before_schema_6 = file_bytes_per_event(tmp / "query.db", total)
    median_ms = statistics.median(times)
    return {
        "what": "ms to fetch one session's DRV_EXITSESSION events, median of "
                f"{QUERY_REPS} fetches on different sessions; baseline_raw_*: the same queries in raw sqlite3",
        "events_in_db": total,
        "sessions_in_db": max(1, events // EVENTS_PER_SESSION),
        "build_s": round(build_s, 2),
        "build_events_per_s": rate(total, build_s),
        "rows_per_fetch": sorted(found),
        "session_exitsession_median_ms": round(median_ms, 3),
        "session_exitsession_max_ms": round(max(times), 3),
        "sessions_with_exitsession_ms": round(cross_s * 1e3, 2),
        "sessions_with_exitsession_found": len(with_exit),
        "baseline_raw_session_exitsession_median_ms": round(raw_median_ms, 3),
        "baseline_raw_sessions_with_exitsession_ms": round(raw_cross_ms, 2),
        "bytes_per_event": round(bytes_per_event, 1),
        "bytes_per_event_before_schema_6": round(before_schema_6, 1),
        "target_bytes_per_event": TARGET_BYTES_PER_EVENT,
        "target_ms": TARGET_MS,
        "meets_target": median_ms < TARGET_MS and found == {2} and len(with_exit) == len(exiting),
    }
