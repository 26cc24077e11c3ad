"""Rows already packed for the C insert path (drvtape/store/native/packed_rows.h), made
without a Python tuple per row (drvtape.recorder.tape_events' fast path reads a tape's
common records straight into them).

A PackedRows is a sequence of rows in ROW_COLUMNS order like any other, so every consumer
of rows takes it: NativeInsert inserts its bytes as they are, session_summary.tally counts
them in C, and anything else (the Python insert path on PostgreSQL, a tape read in memory)
gets the rows as tuples, unpacked once on first use.
"""

from __future__ import annotations

from collections.abc import Sequence

try:
    import drvtape.store.sqlite_rows as sqlite_rows  # the C module itself, not the package
except ImportError:  # not built: nothing makes packed rows
    sqlite_rows = None


class PackedRows(Sequence):
    """`count` rows as packed bytes."""

    __slots__ = ("packed", "count", "_rows")

    def __init__(self, packed: bytes, count: int):
        self.packed, self.count = packed, count
        self._rows: list[tuple] | None = None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        return self._unpacked()[index]

    def __iter__(self):
        return iter(self._unpacked())

    def _unpacked(self) -> list[tuple]:
        if self._rows is None:
            self._rows = sqlite_rows.unpack_rows(self.packed)
        return self._rows

    def tally(self) -> dict[int, list[int]]:
        """{thread as stored: [events, calls]}, as session_summary.tally counts rows."""
        return sqlite_rows.tally_packed(self.packed)
