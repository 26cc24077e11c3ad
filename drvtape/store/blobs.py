"""The bytes of captured memory, stored once per sha256 in the blobs table.

Writers hand over {sha256: bytes} with the rows that name them; a key already stored is
skipped by the database (ON CONFLICT DO NOTHING, which both engines drvtape runs on, SQLite
and PostgreSQL, have), so two writers storing one frame at once both succeed and one row remains.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.schema import details
from drvtape.schema.memory.captured import MemoryBlock, Phase
from drvtape.schema.rows import CALL, RETURN
from drvtape.store import tables as t

Blobs = Mapping[str, bytes]  # sha256 hex -> the captured bytes
_CHUNK = 500  # keys per IN (...) query: below every engine's parameter limit


def _upsert(dialect_name: str):
    # the engine's dialect module (sqlite, postgresql), imported when first used: importing
    # the PostgreSQL dialect here cost 38 ms of every command's start-up (python -X importtime)
    insert = importlib.import_module(f"sqlalchemy.dialects.{dialect_name}").insert
    return insert(t.blobs).on_conflict_do_nothing(index_elements=["sha256"])


def insert_blobs(conn: Connection, blobs: Blobs | None) -> None:
    """Store each blob not stored yet, in conn's transaction."""
    if blobs:
        conn.execute(_upsert(conn.dialect.name),
                     [{"sha256": key, "size": len(data), "data": data} for key, data in blobs.items()])


class BlobInserter:
    """The upsert compiled once for a DBAPI cursor (the recorder's one-commit-per-event path)."""

    def __init__(self, dialect):
        self.sql = str(_upsert(dialect.name).compile(dialect=dialect))
        self._positional = dialect.positional

    def params(self, blobs: Blobs) -> list:
        if self._positional:
            return [(key, len(data), data) for key, data in blobs.items()]
        return [{"sha256": key, "size": len(data), "data": data} for key, data in blobs.items()]


def load_blobs(conn: Connection, keys: Iterable[str]) -> dict[str, bytes]:
    """{sha256: bytes} of the keys stored; a key not stored is absent."""
    b = t.blobs
    keys = list(dict.fromkeys(keys))
    found: dict[str, bytes] = {}
    for start in range(0, len(keys), _CHUNK):
        query = sa.select(b.c.sha256, b.c.data).where(b.c.sha256.in_(keys[start:start + _CHUNK]))
        found.update((key, bytes(data)) for key, data in conn.execute(query))
    return found


PHASE_OF_KIND = {CALL: Phase.CALL, RETURN: Phase.RETURN}


def row_blocks(rows: Iterable) -> Iterator[tuple[int, MemoryBlock]]:
    """(seq, block) of every memory block the event rows name, in order."""
    for row in rows:
        phase = PHASE_OF_KIND.get(row.kind)
        if phase is not None and row.payload:
            yield from ((row.seq, b) for b in details.decode_memory(row.payload, phase))
