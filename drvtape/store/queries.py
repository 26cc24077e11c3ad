"""The read side's query pieces: event filters and session summaries."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.schema import details
from drvtape.schema.entry_points import EntryPoint, entry_point_code
from drvtape.schema.memory.selector import MessageSelector
from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema.rows import END, FAULT, Kind
from drvtape.schema.values import as_signed64
from drvtape.store import codec, instance_sql
from drvtape.store import tables as t


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


@dataclass(frozen=True)
class SessionSummary:
    pk: int
    header: SessionHeader
    events: int
    calls: int
    threads: int
    end_reason: EndReason | None
    fault_seq: int | None
    hang_seq: int | None


@dataclass(frozen=True, slots=True)
class ListedSession:
    """A session as `drvtape sessions` lists it: SessionSummary's figures beside the sessions
    table's columns as stored, with no SessionHeader built (10,000 validated headers took
    0.32 s of a 1.1 s listing, issue 16). id and started_at are parsed: damage shows there."""
    id: uuid.UUID
    started_at: datetime
    columns: Mapping
    events: int
    calls: int
    threads: int
    end_reason: EndReason | None
    fault_seq: int | None
    hang_seq: int | None


CHUNK = 500  # sessions per query; more than this many are summed over every session at once


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


def summaries(conn: Connection, headers) -> list[SessionSummary]:
    """The summary of each session whose sessions-table row (a mapping) is in headers."""
    counts, endings = _figures(conn, [h["pk"] for h in headers])
    return [SessionSummary(h["pk"], codec.header_from_columns(h), *_counted(counts.get(h["pk"])),
                           *_ending(endings.get(h["pk"], ())))
            for h in headers]


def listed_sessions(conn: Connection, headers) -> list[ListedSession]:
    """summaries' figures of each session whose sessions-table row is in headers, as ListedSession."""
    counts, endings = _figures(conn, [h["pk"] for h in headers])
    return [ListedSession(uuid.UUID(h["uuid"]), codec.from_micros(h["started_us"]), h,
                          *_counted(counts.get(h["pk"])), *_ending(endings.get(h["pk"], ())))
            for h in headers]


def _figures(conn: Connection, pks: list[int]) -> tuple[dict, dict]:
    """The sessions' thread_counts sums and their rows of the endings' index, by session.

    A few sessions: CHUNK at a time. More: those of every session in one query each (both
    hold a few rows per session, never one per event), which costs less than binding
    thousands of keys."""
    counts, endings = {}, {}
    for chunk in _chunks(pks, CHUNK) if len(pks) <= CHUNK else [None]:
        counts.update({row.session_pk: row for row in conn.execute(_counts(chunk)).all()})
        for session_pk, *ending in conn.execute(_endings(chunk)).all():
            endings.setdefault(session_pk, []).append(ending)
    return counts, endings


def _counts(pks: list[int] | None):
    """Sums of thread_counts (drvtape.store.session_summary): a session's threads are those
    that sent it calls. pks None: every session."""
    c = t.thread_counts
    query = (sa.select(c.c.session_pk, sa.func.sum(c.c.events).label("events"),
                       sa.func.sum(c.c.calls).label("calls"),
                       sa.func.sum(sa.case((c.c.calls > 0, 1), else_=0)).label("threads"))
             .group_by(c.c.session_pk))
    return query if pks is None else query.where(c.c.session_pk.in_(pks))


def _endings(pks: list[int] | None):
    e = t.events
    query = (sa.select(e.c.session_pk, e.c.kind, e.c.call_seq, e.c.payload).where(t.IS_ENDING)
             .order_by(e.c.session_pk, e.c.seq))
    return query if pks is None else query.where(e.c.session_pk.in_(pks))


def _counted(counted) -> tuple[int, int, int]:
    """(events, calls, threads) from a row of _counts; a session without events has none."""
    return (int(counted.events), int(counted.calls), int(counted.threads)) if counted else (0, 0, 0)


def _ending(endings) -> tuple[EndReason | None, int | None, int | None]:
    """(end reason, the first fault's call, the hung call) from a session's rows of _endings."""
    reason = fault_seq = hang_seq = None
    for kind, call_seq, payload in endings:  # plain ints: IntEnum's == ran 10x slower
        if kind == FAULT and fault_seq is None:
            fault_seq = call_seq
        elif kind == END:
            reason = _end_reason(payload)
            if reason is EndReason.HANG:
                hang_seq = call_seq
    return reason, fault_seq, hang_seq


@functools.lru_cache(maxsize=1024)
def _end_reason(payload: str) -> EndReason:
    """Most sessions of a fleet end alike ("closed", no detail): each text is parsed once."""
    return details.decode_end(payload).reason


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
