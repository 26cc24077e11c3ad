"""Whole sessions streamed into one transaction (import, ingest): rows chained and inserted
a chunk at a time, so memory holds a chunk per open session however big the input is.

A session the database holds already is not stored again. Import compares it: its rows
are chained as they come and, at its end, the count and the last link must equal the
stored ones (the chain covers every field of every row), else it is refused as other
content. Ingest only counts its rows (begin(..., compare=False)). The transaction is the
caller's: a DrvtapeError anywhere rolls back everything, sessions before it too.

The database work runs in the caller's thread: a second inserting thread, the C insert path
stepping without the GIL while the tape was read on, was measured and removed (ingest of 1M
events at load ~7.4, two alternating runs: wall 9.2-9.9 s with it against 8.1-8.8 s without,
CPU 2.4 against 2.3 s).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.errors import DrvtapeError
from drvtape.schema.events import SessionHeader
from drvtape.store import chain, codec
from drvtape.store import tables as t
from drvtape.store.appends import EventInserter
from drvtape.store.blobs import insert_blobs
from drvtape.store.native_insert import pack
from drvtape.store.packed_rows import PackedRows

CHUNK_ROWS = 5_000
CHUNK_BLOB_BYTES = 8 << 20
# built once: SQLAlchemy building and coercing a select costs more than running it (once per session)
_BY_UUID = sa.select(t.sessions).where(t.sessions.c.uuid == sa.bindparam("uuid"))


@dataclass(eq=False)
class Loaded:
    """One session of the input, and what loading it did."""

    session_id: uuid.UUID
    already_there: bool  # stored before this load (or earlier in it)
    stored_events: int | None = None  # the events the database held for it then; None: not there
    events: int = 0  # the input's
    rows: list[Sequence] = field(default_factory=list, repr=False)  # not flushed yet: the last rows given one by one
    parts: list[Sequence] = field(default_factory=list, repr=False)  # and before them, packed rows and rows
    held: int = field(default=0, repr=False)  # the rows in parts
    pk: int | None = field(default=None, repr=False)  # None: not inserting
    stored_pk: int | None = field(default=None, repr=False)  # set: comparing with it
    tip: bytes = field(default=b"", repr=False)


class BulkLoad:
    """Sessions (begin, add rows, end) and blobs into the transaction of conn."""

    def __init__(self, conn: Connection, inserter: EventInserter,
                 insert_header: Callable[[Connection, SessionHeader], int]):
        self._conn = conn
        self._inserter = inserter
        self._insert_header = insert_header
        self._blobs: dict[str, bytes] = {}
        self._blob_bytes = 0
        self._open: list[Loaded] = []
        self._begun: set[uuid.UUID] = set()
        self.loaded: list[Loaded] = []

    def begin(self, header: SessionHeader, *, compare: bool = True) -> Loaded:
        """Start a session: stored now, or (the database has it) compared or only counted."""
        loaded = Loaded(header.id, already_there=False, tip=chain.genesis(header.id))
        first = header.id not in self._begun
        self._begun.add(header.id)
        self._open.append(loaded)
        self.loaded.append(loaded)
        self._look_up(loaded, header, compare, first)
        return loaded

    def add(self, loaded: Loaded, row: Sequence) -> None:
        """One row (ROW_COLUMNS order) of a session begun here."""
        loaded.rows.append(row)
        if len(loaded.rows) + loaded.held >= CHUNK_ROWS:
            self._flush(loaded)

    def add_rows(self, loaded: Loaded, rows: Sequence[Sequence]) -> None:
        """Rows (ROW_COLUMNS order; a list, or PackedRows kept packed) of a session begun here, in order."""
        if rows.__class__ is PackedRows:
            if loaded.rows:
                loaded.parts.append(loaded.rows)
                loaded.held += len(loaded.rows)
                loaded.rows = []
            loaded.parts.append(rows)
            loaded.held += len(rows)
        else:
            loaded.rows += rows
        if len(loaded.rows) + loaded.held >= CHUNK_ROWS:
            self._flush(loaded)

    def blob(self, key: str, data: bytes) -> None:
        if key not in self._blobs:
            self._blobs[key] = data
            self._blob_bytes += len(data)
            if self._blob_bytes >= CHUNK_BLOB_BYTES:
                self._flush_blobs()

    def end(self, loaded: Loaded) -> None:
        """A session's last row is in: a compared one must match the stored one to its last link."""
        self._flush(loaded)
        self._open.remove(loaded)
        self._compare_end(loaded)

    def finish(self) -> None:
        """End every session still open, and store the blobs still held."""
        for loaded in list(self._open):
            self.end(loaded)
        self._flush_blobs()

    def _look_up(self, loaded: Loaded, header: SessionHeader, compare: bool, first: bool) -> None:
        stored = self._conn.execute(_BY_UUID, {"uuid": str(header.id)}).mappings().first()
        loaded.already_there = stored is not None
        if stored is None:
            loaded.pk = self._insert_header(self._conn, header)
        elif compare and codec.header_from_columns(stored) != header:
            raise _other_content(header.id)
        elif compare:
            loaded.stored_pk = stored["pk"]
        elif first:
            loaded.stored_events = self._stored_events(stored["pk"])

    def _compare_end(self, loaded: Loaded) -> None:
        if loaded.stored_pk is not None:
            e = t.events
            last = self._conn.execute(sa.select(e.c.seq, e.c.chain).where(e.c.session_pk == loaded.stored_pk)
                                      .order_by(e.c.seq.desc()).limit(1)).first()
            stored = (last.seq, last.chain) if last else (0, chain.genesis(loaded.session_id))
            if stored != (loaded.events, loaded.tip):
                raise _other_content(loaded.session_id)

    def _flush(self, loaded: Loaded) -> None:
        rows = joined([*loaded.parts, loaded.rows]) if loaded.parts else loaded.rows
        loaded.rows, loaded.parts, loaded.held = [], [], 0
        if rows:
            self._flush_blobs()
            self._store_rows(loaded, rows)

    def _store_rows(self, loaded: Loaded, rows: list[Sequence]) -> None:
        if loaded.pk is not None:
            loaded.tip = self._inserter.insert(self._conn, loaded.pk, rows, loaded.tip, share_gil=False)
        elif loaded.stored_pk is not None:
            tip = loaded.tip
            for row in rows:
                tip = chain.link(tip, row)
            loaded.tip = tip
        loaded.events += len(rows)

    def _flush_blobs(self) -> None:
        if self._blobs:
            blobs, self._blobs, self._blob_bytes = self._blobs, {}, 0
            insert_blobs(self._conn, blobs)

    def _stored_events(self, session_pk: int) -> int:
        e = t.events
        return self._conn.execute(sa.select(sa.func.count()).select_from(e)
                                  .where(e.c.session_pk == session_pk)).scalar_one()


def joined(parts: list[Sequence]) -> Sequence:
    """The parts as one batch, in order: packed together when the C path takes every row
    (packed rows concatenate), else as tuples for the Python path to decide."""
    parts = [p for p in parts if p]
    if len(parts) == 1:
        return parts[0]
    packed = [p.packed if p.__class__ is PackedRows else pack(p, len(p)) for p in parts]
    if None in packed:
        return [row for p in parts for row in p]
    return PackedRows(b"".join(packed), sum(map(len, parts)))


def _other_content(session_id: uuid.UUID) -> DrvtapeError:
    return DrvtapeError(f"session {session_id} is already in the database with other content: nothing "
                        "imported (export both and compare, or run verify)")
