"""The read side's query pieces: event filters and session summaries."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.schema import details
from drvtape.schema.entry_points import EntryPoint, entry_point_code
from drvtape.schema.memory.selector import MessageSelector
from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema.rows import Kind
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


CHUNK = 500  # sessions per query; more than this many are summed over every session at once


def summaries(conn: Connection, headers) -> list[SessionSummary]:
    """The summary of each session whose sessions-table row (a mapping) is in headers.

    A few sessions: their rows of thread_counts and of the endings' index, CHUNK at a time.
    More: those of every session in one query each (both hold a few rows per session, never
    one per event), which costs less than binding thousands of keys."""
    pks = [h["pk"] for h in headers]
    counts, endings = {}, {}
    for chunk in _chunks(pks, CHUNK) if len(pks) <= CHUNK else [None]:
        counts.update({row.session_pk: row for row in conn.execute(_counts(chunk))})
        for row in conn.execute(_endings(chunk)):
            endings.setdefault(row.session_pk, []).append(row)
    return [_summary(h, counts.get(h["pk"]), endings.get(h["pk"], [])) for h in headers]


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


def _summary(h, counted, endings) -> SessionSummary:
    reason = fault_seq = hang_seq = None
    for row in endings:
        if row.kind == Kind.FAULT and fault_seq is None:
            fault_seq = row.call_seq
        elif row.kind == Kind.END:
            reason = _end_reason(row.payload)
            if reason is EndReason.HANG:
                hang_seq = row.call_seq
    return SessionSummary(
        pk=h["pk"], header=codec.header_from_columns(h), events=int(counted.events) if counted else 0,
        calls=int(counted.calls) if counted else 0, threads=int(counted.threads) if counted else 0,
        end_reason=reason, fault_seq=fault_seq, hang_seq=hang_seq,
    )


@functools.lru_cache(maxsize=1024)
def _end_reason(payload: str) -> EndReason:
    """Most sessions of a fleet end alike ("closed", no detail): each text is parsed once."""
    return details.decode_end(payload).reason


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
