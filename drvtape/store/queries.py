"""The read side's query pieces: event filters, session summaries and queries run through
the DBAPI cursor."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.schema.entry_points import EntryPoint, entry_point_code
from drvtape.schema.memory.selector import MessageSelector
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import Kind
from drvtape.schema.values import as_signed64
from drvtape.store import codec, instance_sql
from drvtape.store import tables as t
from drvtape.store.session_summary import FIGURE_COLUMNS, SessionFigures, figures, with_figures


@dataclass(frozen=True)
class EventFilter:
    """What `drvtape events` can ask for; every value is bound as a parameter, never spliced."""

    msgs: tuple[int | MessageSelector, ...] = ()  # an int: that code at DriverProc, to any instance
    kinds: tuple[Kind, ...] = ()
    threads: tuple[int, ...] = ()
    from_seq: int | None = None
    to_seq: int | None = None
    from_ts_ns: int | None = None
    to_ts_ns: int | None = None
    results: tuple[int, ...] = ()
    limit: int | None = None


class DriverQuery:
    """A select compiled once for a dialect and run with exec_driver_sql, its rows fetched from
    the DBAPI cursor as the driver gives them (tuples): no compile per run and no Row object
    per row, which cost as much as the fetch itself (Store.stream_rows, issue 16). Values
    are bound by name (sa.bindparam), in the dialect's paramstyle."""

    def __init__(self, query, dialect: sa.engine.Dialect):
        self._compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = str(self._compiled)
        self._positions = self._compiled.positiontup  # None for a named paramstyle (psycopg's)
        self.names = tuple(query.selected_columns.keys())  # the rows' columns, in order

    def fetch(self, conn: Connection, **values) -> list[tuple]:
        params = self._compiled.construct_params(values)
        if self._positions is not None:
            params = tuple(params[name] for name in self._positions)
        return conn.exec_driver_sql(self.sql, params).cursor.fetchall()


def apply_filter(query, flt: EventFilter, dialect: str):
    """query (of t.events) narrowed to flt; dialect: the engine's name (the class test's SQL)."""
    e = t.events
    if flt.msgs:
        query = query.where(messages_are(flt.msgs, dialect))
    if flt.kinds:
        query = query.where(e.c.kind.in_([int(k) for k in flt.kinds]))
    if flt.threads:
        query = query.where(e.c.thread.in_([as_signed64(v) for v in flt.threads]))
    if flt.from_seq is not None:
        query = query.where(e.c.seq >= flt.from_seq)
    if flt.to_seq is not None:
        query = query.where(e.c.seq <= flt.to_seq)
    if flt.from_ts_ns is not None:
        query = query.where(e.c.ts_ns >= flt.from_ts_ns)
    if flt.to_ts_ns is not None:
        query = query.where(e.c.ts_ns <= flt.to_ts_ns)
    if flt.results:
        query = query.where(e.c.kind == Kind.RETURN, e.c.result.in_(flt.results))
    return query


def messages_are(selectors, dialect: str):
    """Whether an event of t.events is one of these messages (MessageSelector, or an int:
    DriverProc's code): its code at its entry point and, for a class's own name, sent to an
    instance of that class. A class test is a few index searches per event it looks at
    (instance_sql.instance_class_is), after the code has narrowed the events."""
    e = t.events
    wanted = [MessageSelector(s) if isinstance(s, int) else s for s in selectors]
    any_class = sorted({s.code for s in wanted if s.entry_point is EntryPoint.DRIVER_PROC and s.driver_class is None})
    terms = [sa.and_(e.c.entry_point.is_(None), e.c.msg.in_(any_class))] if any_class else []
    for n, s in enumerate(w for w in wanted if w.entry_point is not EntryPoint.DRIVER_PROC or w.driver_class):
        if s.entry_point is not EntryPoint.DRIVER_PROC:
            terms.append(sa.and_(e.c.entry_point == entry_point_code(s.entry_point), e.c.msg == s.code))
            continue
        name = f"msg_class_{n}"
        in_class = sa.text(instance_sql.instance_class_is(instance_sql.Dialect(dialect), e.name, f":{name}"))
        terms.append(sa.and_(e.c.entry_point.is_(None), e.c.msg == s.code,
                             in_class.bindparams(sa.bindparam(name, s.driver_class.value))))
    return sa.or_(*terms)


@dataclass(frozen=True, slots=True)
class SessionSummary(SessionFigures):
    pk: int
    header: SessionHeader


@dataclass(frozen=True, slots=True)
class ListedSession(SessionFigures):
    """A session as `drvtape sessions` lists it: its figures beside the sessions table's
    columns as stored, with no SessionHeader built (10,000 validated headers took 0.32 s of a
    1.1 s listing, issue 16). id and started_at are parsed: damage shows there."""
    id: uuid.UUID
    started_at: datetime
    columns: Mapping


def sessions_query(*, dialect: str, machine: str | None = None, driver: str | None = None,
                   with_msg: int | MessageSelector | None = None, limit: int | None = None):
    """The sessions table's rows a listing shows, newest first; limit keeps the newest.
    with_msg: sessions that got that message (a call of it; an int is DriverProc's code)."""
    s = t.sessions
    query = sa.select(s).order_by(s.c.started_us.desc(), s.c.pk.desc())
    if machine is not None:
        query = query.where(s.c.machine == machine)
    if driver is not None:
        query = query.where(s.c.driver.contains(driver, autoescape=True))
    if with_msg is not None:
        query = query.where(received(with_msg, dialect))
    if limit is not None:
        query = query.limit(limit)
    return query


def received(msg: int | MessageSelector, dialect: str):
    """A condition on t.sessions: the session got a call of msg (ix_events_calls_msg finds
    the calls by code). For a class's name a correlated EXISTS, which stops at a session's
    first call to an instance of the class: an IN tested the class of every call of that
    code in the database (100,000 MCI_STATUS calls: 2.5 s)."""
    s, e = t.sessions, t.events
    calls = sa.select(e.c.session_pk).where(t.IS_CALL, messages_are((msg,), dialect))
    if isinstance(msg, MessageSelector) and msg.driver_class is not None:
        return sa.exists(calls.where(e.c.session_pk == s.c.pk))
    return s.c.pk.in_(calls.distinct())


def summaries(conn: Connection, listed: sa.Select) -> list[SessionSummary]:
    """The summary of each session that listed (a select of the sessions table) selects, oldest first."""
    return [SessionSummary(*figures(row[-FIGURE_COLUMNS:]), pk=row.pk, header=codec.header_from_columns(row._mapping))
            for row in conn.execute(with_figures(listed))]


def listing_query(listed: sa.Select, dialect: sa.engine.Dialect) -> DriverQuery:
    """summaries' statement, to be fetched as tuples (listed_sessions)."""
    return DriverQuery(with_figures(listed), dialect)


def listed_sessions(query: DriverQuery, rows: list[tuple]) -> list[ListedSession]:
    """listing_query's rows as ListedSession (as tuples from the DBAPI, not SQLAlchemy Rows:
    10,000 sessions' Rows and mappings took 0.16 s more than the fetch, issue 16)."""
    names = query.names[:-FIGURE_COLUMNS]
    uuid_at, started_at = names.index("uuid"), names.index("started_us")
    return [ListedSession(*figures(row[-FIGURE_COLUMNS:]), id=uuid.UUID(row[uuid_at]),
                          started_at=codec.from_micros(row[started_at]), columns=dict(zip(names, row)))
            for row in rows]
