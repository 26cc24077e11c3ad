"""`drvtape sessions` at fleet size (issue 16 item 4): seconds the command takes in process
(start-up excluded: it is the same for every command) to list every session as a table, as
--json, and with --with-msg; beside it the sessions' counts read from thread_counts
(schema 8) and, the baseline, the same counts taken over every event (what schema 6 ran).
"""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from pathlib import Path

from drvtape.cli import main as drvtape_main
from drvtape.schema import messages as m
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import CALL, RETURN, end_row
from drvtape.store import Store

TARGET_S = 1.0
THREAD = 0x7F3A_5C2D_E700
COUNTS = ("SELECT session_pk, sum(events), sum(calls), sum(CASE WHEN calls > 0 THEN 1 ELSE 0 END) "
          "FROM thread_counts GROUP BY session_pk")
COUNTS_OVER_EVENTS = ("SELECT session_pk, count(*), sum(CASE WHEN kind = 0 THEN 1 ELSE 0 END), "
                      "count(DISTINCT CASE WHEN kind = 0 THEN thread END) FROM events GROUP BY session_pk")


def session_rows(pairs: int, msg: int) -> list[tuple]:
    rows = []
    for i in range(pairs):
        seq = 2 * i + 1
        rows.append((seq, CALL, 1_000 * i, THREAD, msg, 0x1001, 0x7E10, i, 0, None, None, 0, None, None))
        rows.append((seq + 1, RETURN, 1_000 * i + 400, THREAD, msg, 0x1001, 0x7E10, None, None, 0, seq, None, 400,
                     None))
    rows.append(end_row(2 * pairs + 1, 1_000 * pairs, THREAD, "closed"))
    return rows


def build(path: Path, sessions: int, pairs: int) -> None:
    """Sessions of 2 * pairs + 1 events; every fourth got a DRV_EXITSESSION."""
    plain, exiting = session_rows(pairs, m.DRV_USER + 1), session_rows(pairs, m.DRV_EXITSESSION)
    with Store.open(path, create=True) as store:
        for n in range(sessions):
            header = SessionHeader(id=uuid.uuid4(), driver="sim:bench", target="sim:bench", machine="bench",
                                   started_at=utc_now(), pid=0)
            store.store_session(header, exiting if n % 4 == 0 else plain)


def command_s(*args: str) -> tuple[float, int]:
    """Seconds `drvtape ARGS` takes in this process, and the lines it printed."""
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        drvtape_main(list(args))
    return time.perf_counter() - started, out.getvalue().count("\n")


def query_s(store: Store, sql: str) -> float:
    with store.engine.connect() as conn:
        started = time.perf_counter()
        conn.exec_driver_sql(sql).all()
        return time.perf_counter() - started


def bench_listing(tmp: Path, sessions: int, pairs: int) -> dict:
    path = tmp / "listing.db"
    started = time.perf_counter()
    build(path, sessions, pairs)
    build_s = time.perf_counter() - started
    db = ["--db", str(path)]
    command_s(*db, "sessions", "--limit", "1")  # warm: imports and the first connection
    table_s, table_lines = command_s(*db, "sessions")
    json_s, _ = command_s(*db, "sessions", "--json")
    with_msg_s, with_msg_lines = command_s(*db, "sessions", "--with-msg", "DRV_EXITSESSION")
    with Store.open(path) as store:
        counts_s, over_events_s = query_s(store, COUNTS), query_s(store, COUNTS_OVER_EVENTS)
    return {
        "what": f"s to list {sessions:,} sessions of {2 * pairs + 1} events in process (start-up excluded); "
                "the counts from thread_counts beside the same counts over every event (schema 6's way)",
        "sessions": sessions,
        "events": sessions * (2 * pairs + 1),
        "build_s": round(build_s, 1),
        "table_s": round(table_s, 3),
        "table_lines": table_lines,
        "json_s": round(json_s, 3),
        "with_msg_s": round(with_msg_s, 3),
        "with_msg_lines": with_msg_lines,
        "counts_ms": round(counts_s * 1e3, 1),
        "baseline_counts_over_events_ms": round(over_events_s * 1e3, 1),
        "target_s": TARGET_S,
        "meets_target": max(table_s, json_s, with_msg_s) <= TARGET_S and table_lines == sessions + 4,
    }
