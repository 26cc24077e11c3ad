"""Each session's events and calls per thread (the thread_counts table), kept in the same
transaction as the events they count: `sessions` sums a few rows per session instead of
reading every event (issue 16).

Every path that inserts events keeps the counts through CountKeeper: EventInserter.insert
(appends, import, whole sessions, push/pull, recovery), the recorder's Appender, and bulk
paths that insert rows they hold (`add`). A path that inserts events without holding them as
rows (INSERT ... SELECT) calls `recount` for the session afterwards, in its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from drvtape.schema.rows import CALL, ROW_COLUMNS
from drvtape.schema.values import INT64_MAX, as_signed64
from drvtape.store import tables as t

_KIND, _THREAD = ROW_COLUMNS.index("kind"), ROW_COLUMNS.index("thread")
# SQLite (3.24+) and PostgreSQL spell the upsert alike
_UPSERT = sa.text(
    "INSERT INTO thread_counts (session_pk, thread, events, calls) VALUES (:session_pk, :thread, :events, :calls) "
    "ON CONFLICT (session_pk, thread) DO UPDATE SET events = thread_counts.events + excluded.events, "
    "calls = thread_counts.calls + excluded.calls")
_RECOUNT = sa.text(
    "INSERT INTO thread_counts (session_pk, thread, events, calls) "
    f"SELECT session_pk, thread, count(*), sum(CASE WHEN kind = {CALL} THEN 1 ELSE 0 END) "
    "FROM events WHERE session_pk = :session_pk GROUP BY session_pk, thread")
_NAMES = ("session_pk", "thread", "events", "calls")


def tally(rows: Sequence[Sequence]) -> dict[int, list[int]]:
    """{thread as stored: [events, calls]} of rows in ROW_COLUMNS order (threads unsigned)."""
    counts: dict[int, list[int]] = {}
    for row in rows:
        counted = counts.get(row[_THREAD])
        if counted is None:
            counted = counts[row[_THREAD]] = [0, 0]
        counted[0] += 1
        if row[_KIND] == CALL:
            counted[1] += 1
    return {as_signed64(thread) if thread > INT64_MAX else thread: c for thread, c in counts.items()}


class CountKeeper:
    """The upsert compiled once for a dialect, run by SQLAlchemy or on a DBAPI cursor."""

    def __init__(self, dialect: Dialect):
        self.sql = str(_UPSERT.compile(dialect=dialect))
        self._positional = dialect.positional

    def params(self, session_pk: int, rows: Sequence[Sequence]) -> list:
        """The upsert's parameters for rows (ROW_COLUMNS order) appended to a session."""
        values = [(session_pk, thread, events, calls) for thread, (events, calls) in tally(rows).items()]
        return values if self._positional else [dict(zip(_NAMES, v)) for v in values]

    def add(self, conn: Connection, session_pk: int, rows: Sequence[Sequence]) -> None:
        """Count rows appended to a session, in conn's transaction."""
        if rows:
            conn.exec_driver_sql(self.sql, self.params(session_pk, rows))


def recount(conn: Connection, session_pk: int) -> None:
    """Count a session's stored events anew (after events were inserted without rows in hand)."""
    conn.execute(t.thread_counts.delete().where(t.thread_counts.c.session_pk == session_pk))
    conn.execute(_RECOUNT, {"session_pk": session_pk})
