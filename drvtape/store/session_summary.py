"""A session's summary figures without reading its events: its events and calls per thread
(the thread_counts table), kept in the same transaction as the events they count, and its
first fault and last end, found in the endings' partial index (issue 16).

Every path that inserts events keeps the counts through CountKeeper: EventInserter.insert
(appends, import, whole sessions, push/pull, recovery), the recorder's Appender, and bulk
paths that insert rows they hold (`add`). A path that inserts events without holding them as
rows (INSERT ... SELECT) calls `recount` for the session afterwards, in its transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from drvtape.schema import details
from drvtape.schema.events import EndReason
from drvtape.schema.rows import CALL, END, FAULT, ROW_COLUMNS
from drvtape.schema.values import INT64_MAX, as_signed64
from drvtape.store import tables as t
from drvtape.store.packed_rows import PackedRows

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
    if rows.__class__ is PackedRows:  # counted in C, no row unpacked
        return rows.tally()
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


# ---- reading the figures -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """What a session's events say about it: how many, the calls among them, the threads
    that sent calls, its last end's reason (None: no end yet), the call its first fault
    interrupted, and the hung call when its last end says it hung (as sessions_view)."""
    events: int
    calls: int
    threads: int
    end_reason: EndReason | None
    fault_seq: int | None
    hang_seq: int | None

    @property
    def outcome(self) -> str:
        if self.fault_seq is not None:
            return f"fault at seq {self.fault_seq}"
        if self.end_reason is EndReason.HANG:
            return f"hang at seq {self.hang_seq}"
        return "open" if self.end_reason is None else "completed"


FIGURE_COLUMNS = 6  # what with_figures adds after the sessions' columns, figures() reads


def with_figures(listed: sa.Select) -> sa.Select:
    """The rows of listed (a select of the sessions table) oldest first, each with its
    figures' columns after the sessions' columns. Per session a few index searches, none of
    them over its events: thread_counts' rows, the endings index for the first fault and the
    last end, then that end's row."""
    s = listed.subquery("listed")
    c, e = t.thread_counts, t.events
    last_end = t.events.alias("last_end")

    def summed(value) -> sa.ScalarSelect:
        return sa.select(sa.func.sum(value)).where(c.c.session_pk == s.c.pk).scalar_subquery()

    def ending(kind: int) -> sa.Select:
        return sa.select(e.c.seq).where(e.c.session_pk == s.c.pk, t.IS_ENDING,
                                        e.c.kind == sa.literal_column(str(kind)))

    first_fault = ending(FAULT).with_only_columns(e.c.call_seq).order_by(e.c.seq).limit(1).scalar_subquery()
    last_end_seq = ending(END).with_only_columns(sa.func.max(e.c.seq)).scalar_subquery()
    return (sa.select(s, summed(c.c.events), summed(c.c.calls), summed(sa.case((c.c.calls > 0, 1), else_=0)),
                      first_fault, last_end.c.payload, last_end.c.call_seq)
            .select_from(s.outerjoin(last_end, sa.and_(last_end.c.session_pk == s.c.pk,
                                                       last_end.c.seq == last_end_seq)))
            .order_by(s.c.started_us, s.c.pk))


def figures(values: Sequence) -> tuple:
    """SessionFigures' fields from with_figures' last FIGURE_COLUMNS columns of a row (sums
    are Decimal on PostgreSQL; a session without events has none)."""
    events, calls, threads, fault_seq, end_payload, end_call_seq = values
    reason = None if end_payload is None else _end_reason(end_payload)
    return (int(events or 0), int(calls or 0), int(threads or 0), reason, fault_seq,
            end_call_seq if reason is EndReason.HANG else None)


@functools.lru_cache(maxsize=1024)
def _end_reason(payload: str) -> EndReason:
    """Most sessions of a fleet end alike ("closed", no detail): each text is parsed once."""
    return details.decode_end(payload).reason
