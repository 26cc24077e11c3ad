"""Whole sessions streamed into one transaction (import, ingest): rows chained and inserted
a chunk at a time, so memory holds one chunk however big the input is.

A session the database holds already is not stored again: its rows are chained as they
come and, at its end, the count and the last link must equal the stored ones (the chain
covers every field of every row), else it is refused as other content. The transaction
is the caller's: a DrvtapeError anywhere rolls back everything, sessions before it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.errors import DrvtapeError
from drvtape.schema.events import SessionHeader
from drvtape.store import chain, codec
from drvtape.store import tables as t
from drvtape.store.appends import EventInserter
from drvtape.store.blobs import insert_blobs

CHUNK_ROWS = 5_000
CHUNK_BLOB_BYTES = 8 << 20


@dataclass
class Loaded:
    """One session of the input, and what loading it did."""

    session_id: uuid.UUID
    events: int = 0
    already_there: bool = False


class BulkLoad:
    """Sessions (begin, add rows, end) and blobs into the transaction of conn."""

    def __init__(self, conn: Connection, inserter: EventInserter,
                 insert_header: Callable[[Connection, SessionHeader], int]):
        self._conn = conn
        self._inserter = inserter
        self._insert_header = insert_header
        self._rows: list[Sequence] = []
        self._blobs: dict[str, bytes] = {}
        self._blob_bytes = 0
        self._pk: int | None = None  # None: comparing with the stored session, not inserting
        self._stored_pk = 0
        self._tip = b""
        self.current: Loaded | None = None
        self.loaded: list[Loaded] = []

    def begin(self, header: SessionHeader) -> Loaded:
        """Start a session: stored now, or compared with the one the database holds."""
        self.end()
        s = t.sessions
        stored = self._conn.execute(sa.select(s).where(s.c.uuid == str(header.id))).mappings().first()
        if stored is None:
            self._pk = self._insert_header(self._conn, header)
        elif codec.header_from_columns(stored) != header:
            raise _other_content(header.id)
        else:
            self._pk, self._stored_pk = None, stored["pk"]
        self._tip = chain.genesis(header.id)
        self.current = Loaded(header.id, already_there=stored is not None)
        self.loaded.append(self.current)
        return self.current

    def add(self, row: Sequence) -> None:
        """One row (ROW_COLUMNS order) of the current session."""
        self._rows.append(row)
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def blob(self, key: str, data: bytes) -> None:
        if key not in self._blobs:
            self._blobs[key] = data
            self._blob_bytes += len(data)
            if self._blob_bytes >= CHUNK_BLOB_BYTES:
                self._flush_blobs()

    def end(self) -> None:
        """End the current session (begin and finish do): a stored one must match to its last link."""
        self._flush()
        self._flush_blobs()
        if self.current is None:
            return
        if self._pk is None:
            e = t.events
            last = self._conn.execute(sa.select(e.c.seq, e.c.chain).where(e.c.session_pk == self._stored_pk)
                                      .order_by(e.c.seq.desc()).limit(1)).first()
            stored = (last.seq, last.chain) if last else (0, chain.genesis(self.current.session_id))
            if stored != (self.current.events, self._tip):
                raise _other_content(self.current.session_id)
        self.current = None

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        self._flush_blobs()
        if self._pk is None:
            for row in rows:
                self._tip = chain.link(self._tip, row)
        else:
            db_rows, self._tip = codec.to_db_rows(self._pk, rows, self._tip)
            self._conn.exec_driver_sql(self._inserter.sql, self._inserter.params(db_rows))
        self.current.events += len(rows)

    def _flush_blobs(self) -> None:
        if self._blobs:
            insert_blobs(self._conn, self._blobs)
            self._blobs, self._blob_bytes = {}, 0


def _other_content(session_id: uuid.UUID) -> DrvtapeError:
    return DrvtapeError(f"session {session_id} is already in the database with other content: nothing "
                        "imported (export both and compare, or run verify)")
