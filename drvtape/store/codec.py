"""Rows and headers as the database holds them, and back.

Every 64-bit column is a signed BIGINT, so the unsigned values of a row (thread, driver_id,
hdrvr) go in as their two's-complement bits (drvtape.schema.values) and come back
unsigned. A stored row also carries its session's key first and its hash-chain link last
(drvtape.store.chain). Header times are Unix microseconds, UTC.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from itertools import repeat
from operator import itemgetter

from drvtape.errors import DrvtapeError
from drvtape.schema.details import DamagedDetail
from drvtape.schema.entry_points import entry_point_of
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import FAULT, ROW_COLUMNS, EventRow
from drvtape.schema.values import INT64_MAX, UINT64_MAX, as_signed64, as_unsigned64
from drvtape.store import chain

UNSIGNED_COLUMNS = ("thread", "driver_id", "hdrvr")  # also the C insert path's (native_insert.py)
UNSIGNED_AT = tuple(ROW_COLUMNS.index(c) for c in UNSIGNED_COLUMNS)
_THREAD, _DRIVER_ID, _HDRVR = UNSIGNED_AT
_KIND, _MSG = ROW_COLUMNS.index("kind"), ROW_COLUMNS.index("msg")
_ENTRY_POINT = ROW_COLUMNS.index("entry_point")
_WIDTH = len(ROW_COLUMNS)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_new_tuple = tuple.__new__
_thread_of, _driver_id_of, _hdrvr_of = map(itemgetter, UNSIGNED_AT)
_msg_of, _entry_point_of = itemgetter(_MSG), itemgetter(_ENTRY_POINT)
_INT_ONLY, _NULL_ONLY = {int}, {None}


def to_db_rows(session_pk: int, rows: Sequence[Sequence], tip: bytes) -> tuple[list[tuple], bytes]:
    """Rows as stored, after the chain link `tip`; and the new tip.

    Written as comprehensions around one sequential loop: this is the append hot path.
    """
    links = []
    for text in [chain.canonical(row) for row in rows]:
        tip = chain.next_link(tip, text)
        links.append(tip)
    return [(session_pk, *row, link) if len(row) == _WIDTH and row[_THREAD] <= INT64_MAX
            and (row[_DRIVER_ID] or 0) <= INT64_MAX and (row[_HDRVR] or 0) <= INT64_MAX
            else (session_pk, *signed_row(row), link)
            for row, link in zip(rows, links)], tip


def checked_msgs(counts: dict) -> dict:
    """Counts by msg (a GROUP BY msg of calls), refusing a msg that is not a number."""
    for msg in counts:
        if msg.__class__ is not int:
            raise DamagedDetail(f"a call has a msg that is not a number ({msg!r:.60})")
    return counts


def signed_row(row: Sequence) -> tuple:
    """A row's values as the database holds them (ROW_COLUMNS order); a row of the 14 fields
    before entry_point gets a NULL one. DrvtapeError for an unsigned column's integer past
    2**64-1: its bits would be cut to 64 silently, and the link, made over the value as
    given, would then not match the row stored (one below -2**63 the database refuses)."""
    values = tuple(_stored_unsigned(row, i) if i in UNSIGNED_AT and v is not None else v for i, v in enumerate(row))
    return values + (None,) * (_WIDTH - len(values))


def _stored_unsigned(row: Sequence, at: int) -> object:
    value = row[at]
    if value.__class__ is int and value > UINT64_MAX:
        raise DrvtapeError(f"seq {row[0]}: field {ROW_COLUMNS[at]!r}: {value} does not fit in 64 bits")
    return as_signed64(value)


def from_db_row(values: Sequence) -> EventRow:
    """A stored row's values (ROW_COLUMNS order, no key, no link) with unsigned values restored.

    Every read goes through here, so the common case (nothing negative) is two tests and
    tuple.__new__ (EventRow._make checks the length again, in Python: 1.6x the cost). The
    second is the msg of a call, return or fault, which every reader names: NULL or text
    there (damage) is DamagedDetail here, not a TypeError deep in a command; so is an entry
    point drvtape never writes (the third test, on the rows of device entry points only)."""
    if values[_MSG].__class__ is not int and values[_KIND] <= FAULT:
        raise DamagedDetail(f"seq {values[0]} has a msg that is not a number ({values[_MSG]!r:.60})")
    if values[_ENTRY_POINT] is not None:
        try:
            entry_point_of(values[_ENTRY_POINT])
        except ValueError as exc:
            raise DamagedDetail(f"seq {values[0]} has an {exc}") from None
    if values[_THREAD] < 0 or (values[_DRIVER_ID] or 0) < 0 or (values[_HDRVR] or 0) < 0:
        values = [as_unsigned64(v) if i in UNSIGNED_AT and v is not None else v for i, v in enumerate(values)]
    return _new_tuple(EventRow, values)


def from_db_rows(rows: list[Sequence]) -> list[EventRow]:
    """from_db_row of each row. Its three tests are made over the whole chunk at C level (map,
    set, min): a chunk that passes them is one tuple.__new__ per row; one that does not (an
    END row's NULL msg, a negative value, an entry point) goes row by row, which restores
    or refuses exactly as from_db_row does."""
    if rows and _passes_as_stored(rows):
        return list(map(_new_tuple, repeat(EventRow), rows))
    return [from_db_row(r) for r in rows]


def _passes_as_stored(rows: list[Sequence]) -> bool:
    """No row of the chunk needs a value restored or refused: every msg an int, no entry
    point, nothing negative in the unsigned columns."""
    return (set(map(type, map(_msg_of, rows))) == _INT_ONLY and set(map(_entry_point_of, rows)) == _NULL_ONLY
            and min(map(_thread_of, rows)) >= 0 and min(filter(None, map(_driver_id_of, rows)), default=0) >= 0
            and min(filter(None, map(_hdrvr_of, rows)), default=0) >= 0)


def header_values(header: SessionHeader) -> dict:
    """A header as the sessions table's columns."""
    values = header.model_dump(mode="json")
    values["uuid"] = values.pop("id")
    values["started_us"] = to_micros(header.started_at)
    del values["started_at"]
    return values


def header_from_columns(row) -> SessionHeader:
    """A header from a mapping of the sessions table's columns."""
    return SessionHeader(
        id=uuid.UUID(row["uuid"]), driver=row["driver"], driver_hash=row["driver_hash"], target=row["target"],
        machine=row["machine"], os=row["os"], process=row["process"], pid=row["pid"],
        recorder_version=row["recorder_version"], started_at=from_micros(row["started_us"]),
        clock=row["clock"], origin=uuid.UUID(row["origin"]) if row["origin"] else None, source=row["source"],
        arch=row["arch"],
    )


def to_micros(when: datetime) -> int:
    delta = when.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
