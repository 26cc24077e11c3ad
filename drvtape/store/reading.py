"""The event store's reads: sessions, their summaries, their events and their links.

Store (drvtape.store.database) mixes StoreReads in; every method that decodes stored values
is `@damage.reads`, so a value drvtape never writes is named damage in one line.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from drvtape.errors import DrvtapeError
from drvtape.schema.details import MEMORY_MARK, DamagedDetail
from drvtape.schema.entry_points import EntryPoint, entry_point_of
from drvtape.schema.events import Event, SessionHeader
from drvtape.schema.memory.selector import MessageSelector
from drvtape.schema.rows import ROW_COLUMNS, EventRow, Kind, row_to_event
from drvtape.schema.values import as_unsigned64
from drvtape.store import codec, damage, verification
from drvtape.store import tables as t
from drvtape.store.blobs import load_blobs
from drvtape.store.queries import (DriverQuery, EventFilter, ListedSession, SessionSummary, apply_filter, listed_sessions,
                                   listing_query, received, sessions_query, summaries)

_SELECT_COLUMNS = [t.events.c[name] for name in ROW_COLUMNS]


@dataclass(frozen=True)
class StoredSession:
    pk: int
    header: SessionHeader


class StoreReads:
    """Store's reads: sessions, their summaries and their events, each in a connection of
    `reading()` (the snapshot's when one is open). The class that mixes it in gives
    `engine`, `where` (what messages name) and `reading()`."""

    _paged: DriverQuery | None = None  # stream_rows' query, compiled at its first use

    @damage.reads
    def resolve(self, ref: str) -> StoredSession:
        """A session by full UUID, unique prefix of it, or `last`."""
        s = t.sessions
        text = ref.strip().lower()
        if text == "last":  # the session stored most recently (recorded, imported or ingested)
            query = sa.select(s).order_by(s.c.pk.desc()).limit(1)
        elif re.fullmatch(r"[0-9a-f-]{1,36}", text):
            query = sa.select(s).where(s.c.uuid.startswith(text, autoescape=True)).limit(2)
        else:
            raise DrvtapeError(f"{ref!r} is not a session: give a UUID, a unique prefix of one, or 'last'")
        with self.reading() as conn:
            found = conn.execute(query).mappings().all()
        if not found:
            raise DrvtapeError("the database has no sessions" if text == "last" else f"no session matches {ref!r}")
        if len(found) > 1:
            raise DrvtapeError(f"session prefix {ref!r} is ambiguous: give more of the UUID")
        return StoredSession(found[0]["pk"], codec.header_from_columns(found[0]))

    @damage.reads
    def sessions(self, *, machine: str | None = None, driver: str | None = None,
                 with_msg: int | MessageSelector | None = None, limit: int | None = None) -> list[SessionSummary]:
        """Session summaries, oldest first; limit keeps the newest. with_msg: sessions that got
        that message (a call of it; an int is DriverProc's code)."""
        query = sessions_query(dialect=self.engine.dialect.name, machine=machine, driver=driver, with_msg=with_msg,
                               limit=limit)
        with self.reading() as conn:
            return summaries(conn, query)

    @damage.reads
    def listing(self, *, machine: str | None = None, driver: str | None = None,
                with_msg: int | MessageSelector | None = None, limit: int | None = None) -> list[ListedSession]:
        """As sessions, without building a SessionHeader per session (what `drvtape sessions` prints)."""
        query = sessions_query(dialect=self.engine.dialect.name, machine=machine, driver=driver, with_msg=with_msg,
                               limit=limit)
        listed = listing_query(query, self.engine.dialect)
        return listed_sessions(listed, self._driver_rows(listed))

    @damage.reads
    def summary(self, session_pk: int) -> SessionSummary:
        with self.reading() as conn:
            return summaries(conn, sa.select(t.sessions).where(t.sessions.c.pk == session_pk))[0]

    @damage.reads
    def threads(self, session_pk: int) -> list[int]:
        """A session's OS thread ids in order of first appearance."""
        e = t.events
        first = sa.func.min(e.c.seq)
        query = (sa.select(e.c.thread, first).where(e.c.session_pk == session_pk)
                 .group_by(e.c.thread).order_by(first))
        with self.reading() as conn:
            return [as_unsigned64(thread) for thread, _ in conn.execute(query)]

    @damage.reads
    def call_counts(self, session_pk: int) -> dict[int, int]:
        """How many calls of each message a session's DriverProc received."""
        e = t.events
        query = (sa.select(e.c.msg, sa.func.count())
                 .where(e.c.session_pk == session_pk, e.c.kind == Kind.CALL, e.c.entry_point.is_(None))
                 .group_by(e.c.msg).order_by(e.c.msg))
        with self.reading() as conn:
            return codec.checked_msgs(dict(conn.execute(query).all()))

    @damage.reads
    def device_call_counts(self, session_pk: int) -> dict[tuple[EntryPoint, int], int]:
        """How many calls of each message each device entry point (wodMessage ...) received."""
        e = t.events
        query = (sa.select(e.c.entry_point, e.c.msg, sa.func.count())
                 .where(e.c.session_pk == session_pk, e.c.kind == Kind.CALL, e.c.entry_point.is_not(None))
                 .group_by(e.c.entry_point, e.c.msg).order_by(e.c.entry_point, e.c.msg))
        with self.reading() as conn:
            rows = conn.execute(query).all()
        codec.checked_msgs({msg: n for _, msg, n in rows})
        try:
            return {(entry_point_of(code), msg): n for code, msg, n in rows}
        except ValueError as exc:
            raise DamagedDetail(f"a call has an {exc}") from None

    @damage.reads
    def rows(self, session_pk: int, flt: EventFilter | None = None) -> list[EventRow]:
        """A session's event rows (ROW_COLUMNS order, unsigned values restored), in seq order."""
        e = t.events
        query = sa.select(*_SELECT_COLUMNS).where(e.c.session_pk == session_pk)
        if flt is not None:
            query = apply_filter(query, flt, self.engine.dialect.name)
        query = query.order_by(e.c.seq)
        if flt is not None and flt.limit is not None:
            query = query.limit(flt.limit)
        return self._fetch(DriverQuery(query, self.engine.dialect))

    def stream_rows(self, session_pk: int, chunk: int = 10_000) -> Iterator[EventRow]:
        """A session's rows in seq order, read `chunk` at a time (bounded memory at any size),
        keyset-paged by seq with one query compiled once per store."""
        if self._paged is None:
            e = t.events
            self._paged = DriverQuery(sa.select(*_SELECT_COLUMNS).where(
                e.c.session_pk == sa.bindparam("pk"), e.c.seq > sa.bindparam("after"))
                .order_by(e.c.seq).limit(sa.bindparam("chunk")), self.engine.dialect)
        done = 0
        while rows := self._fetch(self._paged, pk=session_pk, after=done, chunk=chunk):
            yield from rows
            done = rows[-1].seq

    @damage.reads
    def replay_shape(self, session_pk: int) -> tuple[int, int, bool]:
        """(the session's outer calls, the threads they were made on, whether a call or return
        may hold captured memory: its details have the mark schema.details reads memory by),
        in one pass of the database over its rows (replay/streamed.py)."""
        e = t.events
        outer_call = (e.c.kind == Kind.CALL) & (e.c.depth == 0)
        memory = e.c.kind.in_((Kind.CALL, Kind.RETURN)) & e.c.payload.contains(MEMORY_MARK, autoescape=True)
        query = sa.select(sa.func.coalesce(sa.func.sum(sa.case((outer_call, 1), else_=0)), 0),
                          sa.func.count(sa.distinct(sa.case((outer_call, e.c.thread), else_=None))),
                          sa.func.coalesce(sa.func.max(sa.case((memory, 1), else_=0)), 0))
        with self.reading() as conn:
            calls, threads, has_memory = conn.execute(query.where(e.c.session_pk == session_pk)).one()
        return int(calls), int(threads), bool(has_memory)

    @damage.reads
    def _fetch(self, query: DriverQuery, **values) -> list[EventRow]:
        """query's rows as EventRows."""
        return codec.from_db_rows(self._driver_rows(query, **values))

    def _driver_rows(self, query: DriverQuery, **values) -> list[tuple]:
        """query's rows as the DBAPI gives them. A DBAPI error met while fetching (past the
        statement's first step) is not seen by the engine's error handling: damage is named
        here as there."""
        with self.reading() as conn:
            try:
                rows = query.fetch(conn, **values)
            except conn.dialect.loaded_dbapi.Error as exc:
                sqlite_file = self.where if self.engine.dialect.name == "sqlite" else None
                message = damage.damage_message(exc, self.where, sqlite_file)
                if message is None:
                    raise
                raise damage.DamagedDatabase(message) from None
        return rows

    @damage.reads
    def events(self, session_pk: int, flt: EventFilter | None = None) -> list[Event]:
        return [row_to_event(r) for r in self.rows(session_pk, flt)]

    @damage.reads
    def blobs(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The stored bytes of captured memory by sha256; a key not stored is absent."""
        with self.reading() as conn:
            return load_blobs(conn, keys)

    @damage.reads
    def verify(self, session_pk: int) -> list[tuple[int, str]]:
        """Check a session's header and events against their links, and the blobs its memory
        blocks name: [(seq, what is wrong)], the first problem only; seq 0 is the header
        (drvtape.store.verification)."""
        with self.reading() as conn:
            return verification.verify_session(conn, session_pk)

    def removed_sessions(self) -> int:
        """How many sessions once stored here are gone."""
        with self.reading() as conn:
            return verification.removed_sessions(conn)

    @damage.reads
    def find(self, session_id: uuid.UUID) -> StoredSession | None:
        with self.reading() as conn:
            row = conn.execute(sa.select(t.sessions).where(t.sessions.c.uuid == str(session_id))).mappings().first()
        return StoredSession(row["pk"], codec.header_from_columns(row)) if row else None

    def last_link(self, session_pk: int) -> tuple[int, bytes | None]:
        """(the highest seq stored, its chain link); (0, None) for a session with no events."""
        e = t.events
        with self.reading() as conn:
            row = conn.execute(sa.select(e.c.seq, e.c.chain).where(e.c.session_pk == session_pk)
                               .order_by(e.c.seq.desc()).limit(1)).first()
        return (row.seq, row.chain) if row else (0, None)

    def has_end(self, session_pk: int) -> bool:
        """Whether the session has its end event (summary().end_reason without the summary's counts)."""
        e = t.events
        query = sa.select(e.c.seq).where(e.c.session_pk == session_pk, t.IS_ENDING, e.c.kind == Kind.END).limit(1)
        with self.reading() as conn:
            return conn.execute(query).first() is not None

    def link_at(self, session_pk: int, seq: int) -> bytes | None:
        e = t.events
        with self.reading() as conn:
            return conn.execute(sa.select(e.c.chain).where(e.c.session_pk == session_pk, e.c.seq == seq)).scalar()

    @damage.reads
    def sessions_with(self, msg: int | MessageSelector) -> list[uuid.UUID]:
        """Every session that received a message (a call event for it; an int is DriverProc's
        code), oldest first."""
        s = t.sessions
        query = sa.select(s.c.uuid).where(received(msg, self.engine.dialect.name)).order_by(s.c.started_us, s.c.pk)
        with self.reading() as conn:
            return [uuid.UUID(u) for (u,) in conn.execute(query)]

    @damage.reads
    def session_ids(self) -> list[str]:
        """Every session's UUID as stored (lower-case text), sorted."""
        with self.reading() as conn:
            return [u for (u,) in conn.execute(sa.select(t.sessions.c.uuid).order_by(t.sessions.c.uuid))]

    def event_count(self) -> int:
        with self.reading() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar_one()
