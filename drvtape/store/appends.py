"""The one way events get into the database: rows through the codec, chained, inserted.

Store.append_rows, Store.import_sessions, the recorder's Appender and orphan recovery all
insert through an EventInserter and take a session's last chain link from ChainTips.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from drvtape.schema.rows import ROW_COLUMNS
from drvtape.store import chain, codec
from drvtape.store import tables as t
from drvtape.store.blobs import BlobInserter
from drvtape.store.native_insert import NativeInsert, gil_offering_slices
from drvtape.store.session_summary import CountKeeper

INSERT_COLUMNS = ("session_pk", *ROW_COLUMNS, "chain")
# Rows chained between two releases of the GIL. Building rows is pure Python: a writer thread
# doing a whole batch at once held the GIL for tens of ms, and a hooked call that needed it
# waited out the interpreter's 5 ms switch interval, more than once (issue 16).
GIL_SLICE_ROWS = 128


class ChainTips:
    """The last chain link of each session appended to through this store, read once.

    A tip moves on only after its rows are committed (`advance`); `forget` drops one that
    another writer may have moved (the next read takes it from the database).
    """

    def __init__(self, engine: Engine):
        self._engine = engine
        self._links: dict[int, bytes] = {}

    def tip(self, session_pk: int, conn: Connection | None = None) -> bytes:
        """The session's last link: the genesis link when it has no events yet."""
        link = self._links.get(session_pk)
        if link is not None:
            return link
        if conn is not None:
            return _stored_tip(conn, session_pk)
        with self._engine.connect() as own:
            return _stored_tip(own, session_pk)

    def advance(self, session_pk: int, link: bytes) -> None:
        self._links[session_pk] = link

    def forget(self, session_pk: int) -> None:
        self._links.pop(session_pk, None)


def _stored_tip(conn: Connection, session_pk: int) -> bytes:
    e, s = t.events, t.sessions
    last = conn.execute(sa.select(e.c.chain).where(e.c.session_pk == session_pk)
                        .order_by(e.c.seq.desc()).limit(1)).scalar()
    if last is not None:
        return last
    return chain.genesis(uuid.UUID(conn.execute(sa.select(s.c.uuid).where(s.c.pk == session_pk)).scalar_one()))


class EventInserter:
    """On SQLite with drvtape's C module, one INSERT ... SELECT per batch that chains and
    inserts without the GIL (native_insert.py). Otherwise, and for the rows that path leaves to
    this one, one INSERT statement compiled by SQLAlchemy for the engine's dialect, run as one
    executemany: as fast as raw DBAPI, where Core's dict-per-row path measured 0.2-0.3x of it.
    native=False: this Python path only (the reference; benchmarks compare the two)."""

    def __init__(self, engine: Engine, *, native: bool = True):
        self.sql = str(t.events.insert().compile(dialect=engine.dialect))
        self._positional = engine.dialect.positional
        self.counts = CountKeeper(engine.dialect)  # thread_counts, kept in the same transaction
        self.native = NativeInsert(INSERT_COLUMNS) if native and NativeInsert.serves(engine) else None

    def params(self, db_rows: list[tuple]) -> list:
        """Stored rows (codec.to_db_rows) as the statement's parameters."""
        return db_rows if self._positional else [dict(zip(INSERT_COLUMNS, r)) for r in db_rows]

    def insert(self, conn: Connection, session_pk: int, rows: Sequence[Sequence], tip: bytes, *,
               share_gil: bool = True) -> bytes:
        """Insert rows (ROW_COLUMNS order) after the link `tip`, in conn's transaction; the new tip.
        share_gil=False (a bulk load, no hooked thread waiting): chained in one go, no yielding:
        on a loaded machine each sleep(0) gave the CPU away for ~0.7 ms (5 us an event)."""
        if not rows:
            return tip
        new_tip = self.native.insert(conn, session_pk, rows, tip, share_gil) if self.native else None
        if new_tip is None:
            new_tip = self._insert_chained_in_python(conn, session_pk, rows, tip,
                                                     GIL_SLICE_ROWS if share_gil else len(rows))
        self.counts.add(conn, session_pk, rows)
        return new_tip

    def _insert_chained_in_python(self, conn: Connection, session_pk: int, rows: Sequence[Sequence],
                                  tip: bytes, step: int) -> bytes:
        db_rows = []
        for part in gil_offering_slices(rows, step):
            chunk, tip = codec.to_db_rows(session_pk, part, tip)
            db_rows += chunk
        conn.exec_driver_sql(self.sql, self.params(db_rows))
        return tip


class Appender:
    """Commits one event at a time on its own connection: for the recorder's durable modes.

    With fsync, SQLite syncs the WAL at each commit (synchronous=FULL): the event survives
    the machine going down. Without, the commit is written to the OS (synchronous=NORMAL in
    WAL mode): it survives the process dying.
    """

    def __init__(self, engine: Engine, inserter: EventInserter, tips: ChainTips, session_pk: int, fsync: bool):
        self._inserter = inserter
        self._tips = tips
        self._pk = session_pk
        # One statement per commit: SQLAlchemy's per-execute work cost more than the commit
        # itself (45 vs 14 us per event), so this path uses the DBAPI connection it hands out.
        self.storage_errors = engine.dialect.loaded_dbapi.Error
        self._conn = engine.raw_connection()
        self._cursor = self._conn.cursor()
        self._blobs = BlobInserter(engine.dialect)
        if engine.dialect.name == "sqlite":
            self._cursor.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'NORMAL'}")
            self._conn.commit()

    def append(self, row: Sequence, blobs: Mapping[str, bytes] | None = None) -> None:
        """Commit one row (and the blobs it names); a storage failure (the DBAPI's Error) is
        raised with nothing stored."""
        db_rows, tip = codec.to_db_rows(self._pk, [row], self._tips.tip(self._pk))
        try:
            if blobs:
                self._cursor.executemany(self._blobs.sql, self._blobs.params(blobs))
            self._cursor.execute(self._inserter.sql, self._inserter.params(db_rows)[0])
            self._cursor.execute(self._inserter.counts.sql, self._inserter.counts.params(self._pk, [row])[0])
            self._conn.commit()
        except self.storage_errors:
            with contextlib.suppress(self.storage_errors):
                self._conn.rollback()
            raise
        self._tips.advance(self._pk, tip)

    def close(self) -> None:
        self._cursor.close()
        self._conn.close()
