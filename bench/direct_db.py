"""A drvtape database written directly, for the figures whose subject is not the writing
(issue 16 item 6: at 10M events, going through `import` or Store.append_rows made the set-up
take an hour): the schema made by Store itself, then each session's header row (its header
link by drvtape.store.chain), its events as drvtape stores them (drvtape.store.codec, which
chains them by drvtape.store.chain), its thread counts and the sessions-stored count,
inserted with raw sqlite3 executemany. tests/test_bench_direct_db.py checks that the file
holds what `import` of the same sessions stores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from drvtape.schema.events import SessionHeader
from drvtape.store import Store, chain, codec
from drvtape.store import tables as t
from drvtape.store.appends import INSERT_COLUMNS
from drvtape.store.session_summary import tally

HEADER_COLUMNS = tuple(c.name for c in t.sessions.columns)
COMMIT_EVERY = 100  # sessions per transaction: the WAL stays small


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _header_row(pk: int, header: SessionHeader) -> tuple:
    values = codec.header_values(header)
    values["header_link"] = chain.header_link(header.id, values)
    values["pk"] = pk
    return tuple(values.get(c) for c in HEADER_COLUMNS)


def write_sessions(path: Path, sessions: Iterable[tuple[SessionHeader, Sequence[Sequence]]],
                   advance: Callable[[int], None] = lambda n: None) -> int:
    """Store sessions (a header and its rows in ROW_COLUMNS order) in a new database at path, as
    drvtape stores them; the events stored. advance(1) after each session."""
    if path.exists():
        raise FileExistsError(f"{path}: write_sessions makes a new database")
    Store.open(str(path), create=True).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a bench's scratch file: a crash loses nothing of worth
    sessions_sql, events_sql = _insert("sessions", HEADER_COLUMNS), _insert("events", INSERT_COLUMNS)
    counts_sql = _insert("thread_counts", ("session_pk", "thread", "events", "calls"))
    pk = stored = 0
    conn.execute("BEGIN")
    for header, rows in sessions:
        pk += 1
        conn.execute(sessions_sql, _header_row(pk, header))
        db_rows, _ = codec.to_db_rows(pk, rows, chain.genesis(header.id))
        conn.executemany(events_sql, db_rows)
        conn.executemany(counts_sql, [(pk, thread, events, calls) for thread, (events, calls) in tally(rows).items()])
        stored += len(db_rows)
        if pk % COMMIT_EVERY == 0:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
        advance(1)
    conn.execute("UPDATE drvtape_meta SET value = ? WHERE key = ?", (str(pk), t.SESSIONS_STORED))
    if conn.execute("SELECT changes()").fetchone()[0] == 0:
        conn.execute("INSERT INTO drvtape_meta (key, value) VALUES (?, ?)", (t.SESSIONS_STORED, str(pk)))
    conn.execute("COMMIT")
    conn.close()
    return stored
