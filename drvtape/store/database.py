"""The event store: opening a database, its transactions and its writes (its reads are
drvtape.store.reading's).

A SQLite file by default (WAL), any SQLAlchemy URL by configuration. Events are appended,
never updated; everything else is read from them.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from drvtape.errors import DrvtapeError
from drvtape.schema.events import Event, SessionHeader
from drvtape.schema.rows import event_to_row
from drvtape.store import chain, codec, damage, opening
from drvtape.store.blobs import Blobs, insert_blobs
from drvtape.store import tables as t
from drvtape.store.appends import Appender, ChainTips, EventInserter
from drvtape.store.bulk import BulkLoad
from drvtape.store.engines import WRITE, create_engine, database_url, sqlite_path
from drvtape.store.reading import StoreReads

_PG_COUNT_LOCK = 0x64727675  # the advisory lock held while the count of stored sessions moves
# a header's statements built once: building and coercing them cost 10x running them (ingest
# and import store a header per 1,000 events or so: ~1 ms each, 1-2 us an event)
_PK_BY_UUID = sa.select(t.sessions.c.pk).where(t.sessions.c.uuid == sa.bindparam("uuid"))
_COUNT_SESSION = t.meta.update().where(t.meta.c.key == t.SESSIONS_STORED).values(
    value=sa.cast(sa.cast(t.meta.c.value, sa.BigInteger) + 1, sa.String(256)))
_INSERT_SESSION = t.sessions.insert()


@contextmanager
def opened(db: str | os.PathLike | Store | None, *, create: bool = False, read_only: bool = False) -> Iterator[Store]:
    """The Store given, or the database at a path or URL opened for the block and closed after it."""
    if isinstance(db, Store):
        yield db
        return
    with Store.open(db, create=create, read_only=read_only) as store:
        yield store


class Store(StoreReads):
    """A drvtape database opened: its transactions and its writes here, its reads in StoreReads."""

    def __init__(self, engine: Engine, where: str):
        self.engine = engine
        self.where = where  # the file, or the URL without its password: what messages name
        self.tips = ChainTips(engine)
        self._snapshot: Connection | None = None

    @functools.cached_property
    def inserter(self) -> EventInserter:
        """Made at the first write: a command that only reads compiles no insert and never
        probes for the C insert path (native_insert.registered)."""
        return EventInserter(self.engine)

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

    # ---- copying ------------------------------------------------------------------------

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


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
