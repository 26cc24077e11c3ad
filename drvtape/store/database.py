"""The event store: the only module that speaks SQL.

A SQLite file by default (WAL), any SQLAlchemy URL by configuration. Events are appended,
never updated; everything else is read from them.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from drvtape.errors import DrvtapeError
from drvtape.schema.details import DamagedDetail
from drvtape.schema.entry_points import EntryPoint, entry_point_of
from drvtape.schema.events import Event, SessionHeader
from drvtape.schema.memory.selector import MessageSelector
from drvtape.schema.rows import ROW_COLUMNS, EventRow, Kind, event_to_row, row_to_event
from drvtape.schema.values import as_unsigned64
from drvtape.store import chain, codec, damage, opening, verification
from drvtape.store.blobs import Blobs, insert_blobs, load_blobs
from drvtape.store import tables as t
from drvtape.store.appends import Appender, ChainTips, EventInserter
from drvtape.store.bulk import BulkLoad
from drvtape.store.engines import WRITE, create_engine, database_url, sqlite_path
from drvtape.store.queries import (DriverQuery, EventFilter, ListedSession, SessionSummary, apply_filter, listed_sessions,
                                   received, sessions_query, summaries)

_PG_COUNT_LOCK = 0x64727675  # the advisory lock held while the count of stored sessions moves
# a header's statements built once: building and coercing them cost 10x running them (ingest
# and import store a header per 1,000 events or so: ~1 ms each, 1-2 us an event)
_PK_BY_UUID = sa.select(t.sessions.c.pk).where(t.sessions.c.uuid == sa.bindparam("uuid"))
_COUNT_SESSION = t.meta.update().where(t.meta.c.key == t.SESSIONS_STORED).values(
    value=sa.cast(sa.cast(t.meta.c.value, sa.BigInteger) + 1, sa.String(256)))
_INSERT_SESSION = t.sessions.insert()
_SELECT_COLUMNS = [t.events.c[name] for name in ROW_COLUMNS]


@contextmanager
def opened(db: str | os.PathLike | Store | None, *, create: bool = False, read_only: bool = False) -> Iterator[Store]:
    """The Store given, or the database at a path or URL opened for the block and closed after it."""
    if isinstance(db, Store):
        yield db
        return
    with Store.open(db, create=create, read_only=read_only) as store:
        yield store


@dataclass(frozen=True)
class StoredSession:
    pk: int
    header: SessionHeader


class Store:
    def __init__(self, engine: Engine, where: str):
        self.engine = engine
        self.where = where  # the file, or the URL without its password: what messages name
        self.inserter = EventInserter(engine)
        self.tips = ChainTips(engine)
        self._snapshot: Connection | None = None
        self._paged: DriverQuery | None = None  # stream_rows' query, compiled at its first use

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path_or_url: str | os.PathLike | None = None, *, create: bool = False,
             read_only: bool = False) -> Store:
        """Open a drvtape database. create=True makes a new one where there is none;
        read_only=True opens a SQLite file so that nothing can write to it.

        Opening an existing database writes nothing to it: orphaned sessions are ended by the
        writers that call drvtape.store.recovery, never here."""
        url = database_url(path_or_url)
        path = sqlite_path(url)
        if path is not None:
            opening.check_file(path, create)
            if not path.exists():
                opening.create_sqlite_file(path)
        engine = create_engine(url, path, read_only=read_only)
        where = str(path) if path is not None else engine.url.render_as_string(hide_password=True)
        damage.translate_engine_errors(engine, where, str(path) if path is not None else None)
        try:
            version = opening.checked_version(engine, where, create_tables=create and path is None)
            opening.refuse_older(version, where)
            opening.check_columns(engine, where)
        except sa.exc.DatabaseError as exc:
            engine.dispose()
            raise DrvtapeError(f"{where} is not a usable drvtape database: {_first_line(exc)}") from None
        except DrvtapeError:
            engine.dispose()
            raise
        return cls(engine, where)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in a write transaction (on SQLite it holds the write lock from its start)."""
        with self.engine.connect() as conn:
            conn.execution_options(**WRITE)
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection to read with: the snapshot's when one is open, else a new one."""
        if self._snapshot is not None:
            yield self._snapshot
            return
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read of this store in the block sees the database at one moment (one
        transaction; REPEATABLE READ on PostgreSQL): for a command that reads a session
        being recorded in several queries. One thread's reads."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                self._snapshot = conn
                try:
                    yield
                finally:
                    self._snapshot = None

    def appender(self, session_pk: int, *, fsync: bool) -> Appender:
        return Appender(self.engine, self.inserter, self.tips, session_pk, fsync)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------------

    def begin_session(self, header: SessionHeader) -> int:
        """Store a session header; returns the key that append_rows takes."""
        with self.writing() as conn:
            return self._insert_header(conn, header)

    def _insert_header(self, conn, header: SessionHeader) -> int:
        values = codec.header_values(header)
        if conn.execute(_PK_BY_UUID, {"uuid": values["uuid"]}).first():
            raise DrvtapeError(f"session {values['uuid']} is already in the database")
        values["header_link"] = chain.header_link(header.id, values)
        if conn.dialect.name == "postgresql":  # two first sessions would both insert the count
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_COUNT_LOCK})
        if conn.execute(_COUNT_SESSION).rowcount == 0:  # the first session stored here
            conn.execute(t.meta.insert().values(key=t.SESSIONS_STORED, value="1"))
        return conn.execute(_INSERT_SESSION, values).inserted_primary_key[0]

    def append_rows(self, session_pk: int, rows: Iterable[Sequence], blobs: Blobs | None = None) -> None:
        """Append event rows (ROW_COLUMNS order), with the blobs their memory blocks name, in one
        transaction: the recorder's hot path."""
        rows = list(rows)
        if not rows:
            return
        with self.writing() as conn:
            insert_blobs(conn, blobs)
            tip = self.inserter.insert(conn, session_pk, rows, self.tips.tip(session_pk, conn))
        self.tips.advance(session_pk, tip)

    def import_sessions(self, sessions: Iterable[tuple[SessionHeader, Sequence[Event]]],
                        blobs: Blobs | None = None) -> list[uuid.UUID]:
        """Store whole sessions (validated events) and their blobs in one transaction: all, or nothing."""
        stored = []
        with self.writing() as conn:
            insert_blobs(conn, blobs)
            for header, events in sessions:
                self._insert_session(conn, header, [event_to_row(ev) for ev in events])
                stored.append(header.id)
        return stored

    @contextmanager
    def bulk_load(self) -> Iterator[BulkLoad]:
        """Sessions streamed in (drvtape.store.bulk) in one transaction: all, or nothing."""
        with self.writing() as conn:
            load = BulkLoad(conn, self.inserter, self._insert_header)
            yield load
            load.finish()

    def store_session(self, header: SessionHeader, rows: Sequence[Sequence], blobs: Blobs | None = None) -> int:
        """Store a whole session (its header, its blobs, then its rows) in one transaction; its key."""
        with self.writing() as conn:
            insert_blobs(conn, blobs)
            return self._insert_session(conn, header, rows)

    def _insert_session(self, conn, header: SessionHeader, rows: Sequence[Sequence]) -> int:
        pk = self._insert_header(conn, header)
        self.inserter.insert(conn, pk, rows, chain.genesis(header.id))
        return pk

    # ---- reading -------------------------------------------------------------------------

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
        with self.reading() as conn:
            return listed_sessions(conn, query)

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
    def _fetch(self, query: DriverQuery, **values) -> list[EventRow]:
        """query's rows as EventRows. A DBAPI error met while fetching (past the statement's
        first step) is not seen by the engine's error handling: damage is named here as there."""
        with self.reading() as conn:
            try:
                rows = query.fetch(conn, **values)
            except conn.dialect.loaded_dbapi.Error as exc:
                sqlite_file = self.where if self.engine.dialect.name == "sqlite" else None
                message = damage.damage_message(exc, self.where, sqlite_file)
                if message is None:
                    raise
                raise damage.DamagedDatabase(message) from None
        return codec.from_db_rows(rows)

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

    def begin_copy(self, header: SessionHeader, by: str) -> int:
        """Mark a session as being copied here (`by` says who copies it), and store its header
        unless it is here already: its key. Recovery leaves a marked session alone."""
        key = t.COPYING + str(header.id)
        with self.writing() as conn:
            if conn.execute(sa.select(t.meta.c.key).where(t.meta.c.key == key)).first() is None:
                conn.execute(t.meta.insert().values(key=key, value=by[:256]))
            found = conn.execute(sa.select(t.sessions.c.pk).where(t.sessions.c.uuid == str(header.id))).scalar()
            return found if found is not None else self._insert_header(conn, header)

    def end_copy(self, session_id: uuid.UUID) -> None:
        """The copy of a session is whole and ended: recovery may look at it again."""
        marked = t.meta.c.key == t.COPYING + str(session_id)
        with self.reading() as conn:
            if conn.execute(sa.select(t.meta.c.key).where(marked)).first() is None:
                return  # nothing to write
        with self.writing() as conn:
            conn.execute(t.meta.delete().where(marked))

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


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
