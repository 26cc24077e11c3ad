"""The SQLite insert path in C (drvtape/store/native/, built by setup.py where it can be).

Rows are packed under the GIL (sqlite_rows.pack_rows), then one statement per batch,
INSERT INTO events ... SELECT FROM drvtape_rows(packed, tip), chains and inserts them inside
SQLite: Python's sqlite3 steps a statement with the GIL released, so neither the chain nor
the inserts hold it. The Python path (codec.to_db_rows, then executemany) stays the
reference: a batch pack_rows does not take (None) goes there, and an engine this path cannot
serve (PostgreSQL, or SQLite where the module is missing or not registered) uses it only.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Iterator, Sequence

from sqlalchemy.engine import Connection, Engine

from drvtape.schema.rows import ROW_COLUMNS
from drvtape.store import codec
from drvtape.store import tables as t
from drvtape.store.packed_rows import PackedRows, sqlite_rows  # sqlite_rows None: not built, the Python path

UNSIGNED_MASK = sum(1 << i for i in codec.UNSIGNED_AT)
NOT_NULL_MASK = sum(1 << i for i, name in enumerate(ROW_COLUMNS) if not t.events.c[name].nullable)
# Rows packed between two releases of the GIL when it is shared: ~0.3-0.5 ms of packing at
# 0.06-0.13 us a row (bench/native_bench.py), what appends.GIL_SLICE_ROWS rows of chaining
# cost the Python path; each sleep(0) can give the CPU away for ~0.7 ms on a loaded machine.
PACK_SLICE_ROWS = 4_096
# last_insert_rowid(): the last row the INSERT ... SELECT stored, and so the new tip
TIP_SQL = "SELECT chain FROM events WHERE rowid = last_insert_rowid()"


@functools.cache  # asked at the first insert, not at import: a command that only reads opens no probe
def registered() -> bool:
    """Whether drvtape_rows exists on the connections Python's sqlite3 opens: the module was
    built, and links the libsqlite3 that sqlite3 uses (its auto-extension is that library's)."""
    if sqlite_rows is None:
        return False
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT count(*) FROM drvtape_rows(x'', ?)", (bytes(16),))
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


class NativeInsert:
    """One batch's rows in one INSERT ... SELECT over drvtape_rows."""

    def __init__(self, insert_columns: Sequence[str]):
        fields = ", ".join(f"f{i}" for i in range(len(ROW_COLUMNS)))
        self.sql = f"INSERT INTO events ({', '.join(insert_columns)}) SELECT ?, {fields}, chain FROM drvtape_rows(?, ?)"

    @staticmethod
    def serves(engine: Engine) -> bool:
        return registered() and engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite"

    def insert(self, conn: Connection, session_pk: int, rows: Sequence[Sequence], tip: bytes,
               share_gil: bool) -> bytes | None:
        """Insert rows after `tip`; the new tip, or None (nothing done) when a row is one the
        Python path must take. share_gil: packing yields the GIL every PACK_SLICE_ROWS rows."""
        if rows.__class__ is PackedRows:
            packed = rows.packed
        else:
            rows = rows if isinstance(rows, list) else list(rows)
            packed = pack(rows, PACK_SLICE_ROWS if share_gil else len(rows))
        if packed is None:
            return None
        conn.exec_driver_sql(self.sql, (session_pk, packed, tip))
        return conn.exec_driver_sql(TIP_SQL).scalar_one()


def pack(rows: list, slice_rows: int) -> bytes | None:
    slices = []
    for part in gil_offering_slices(rows, slice_rows):
        packed = sqlite_rows.pack_rows(part, UNSIGNED_MASK, NOT_NULL_MASK)
        if packed is None:
            return None
        slices.append(packed)
    return b"".join(slices)  # one slice: that bytes object itself, not a copy


def gil_offering_slices(rows: Sequence, step: int) -> Iterator[Sequence]:
    """rows in slices of `step`, the GIL offered between two (sleep(0)): a thread waiting for
    it (the hook's caller) takes it then. Both insert paths slice their batches with this."""
    for start in range(0, len(rows), step):
        if start:
            time.sleep(0)
        yield rows[start:start + step]
