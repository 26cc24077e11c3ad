"""Store.append_rows (issue 2) in rows/s beside raw sqlite3 executemany of the very rows the
store writes (chain links precomputed) into a second file with drvtape's own DDL."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from time import perf_counter

import sqlalchemy as sa

from measure import rate, step, timed
from sample_rows import call_return_rows, new_header
from drvtape.schema.rows import ROW_COLUMNS
from drvtape.store import Store, chain
from drvtape.store import tables as t

TARGET_RATIO = 0.7


def raw_baseline(path: Path) -> sqlite3.Connection:
    """A second file with drvtape's own DDL (same tables and indexes), opened with raw sqlite3
    and the same settings the store uses (WAL, synchronous NORMAL, foreign keys on)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    t.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def bench_appends(tmp: Path, count: int, repeats: int = 3, batch: int = 8_192) -> dict:
    """Store.append_rows against raw sqlite3 executemany, the same rows in the same batches
    (the recorder's batch size, one transaction each); alternating order, best of `repeats`."""
    rows = call_return_rows(1, count // 2)
    batches = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    store = Store.open(str(tmp / "appends-store.db"), create=True)
    raw = raw_baseline(tmp / "appends-raw.db")
    insert = f"INSERT INTO events (session_pk, {', '.join(ROW_COLUMNS)}, chain) VALUES ({', '.join('?' * (len(ROW_COLUMNS) + 2))})"

    def run_store() -> float:
        pk = store.begin_session(new_header())
        start = perf_counter()
        for b in batches:
            store.append_rows(pk, b)
        return perf_counter() - start

    def run_raw(pk: int) -> float:
        raw.execute("INSERT INTO sessions (pk, uuid, driver, machine, os, process, recorder_version, started_us, "
                    "clock, source) VALUES (?, ?, 'bench', '', '', '', '', 0, '', 'bench')", (pk, str(uuid.uuid4())))
        # the very rows the store writes (session_pk and chain link included), prepared untimed
        links = iter(chain.links(chain.genesis(uuid.uuid4()), rows))
        with_pk = [[(pk, *r, next(links)) for r in b] for b in batches]
        start = perf_counter()
        for b in with_pk:
            raw.execute("BEGIN")
            raw.executemany(insert, b)
            raw.execute("COMMIT")
        return perf_counter() - start

    store_s, raw_s = [], []
    with step("appends: store vs raw sqlite3", 2 * repeats) as advance:
        for i in range(repeats):
            for which in (("store", "raw") if i % 2 == 0 else ("raw", "store")):
                (store_s.append(run_store()) if which == "store" else raw_s.append(run_raw(i + 1)))
                advance()
    with Store.open(str(tmp / "appends-store.db")) as check:
        stored = check.event_count()
    store.close()
    raw.close()
    chain_s, _ = timed(lambda: list(chain.links(chain.genesis(uuid.uuid4()), rows)))
    store_rate, raw_rate = rate(len(rows), min(store_s)), rate(len(rows), min(raw_s))
    return {
        "what": f"rows/s appending {len(rows)} call/return rows in batches of {batch} (one transaction each), "
                f"best of {repeats}, order alternated; raw = sqlite3 executemany of the same rows "
                "(chain links precomputed) into the same DDL",
        "rows": len(rows),
        "batch_rows": batch,
        "store_rows_per_s": store_rate,
        "raw_sqlite3_rows_per_s": raw_rate,
        "ratio": round(store_rate / raw_rate, 3),
        "chain_ns_per_row": round(chain_s * 1e9 / len(rows), 1),  # part of the store's time, not raw's
        "rows_stored_check": stored == repeats * len(rows),
        "target_ratio": TARGET_RATIO,
        "meets_target": store_rate / raw_rate >= TARGET_RATIO,
    }
