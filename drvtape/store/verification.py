"""`drvtape verify`: a session's header and events against their hash chain links.

What is found: an altered header field (its link, schema version 3 on), an event altered,
inserted, moved or removed before the last one (the chain), a stored value of a kind
drvtape never writes (the text 'None', text in an integer column: SQLite keeps any type),
removed sessions (fewer sessions than drvtape_meta says were stored), and a captured memory
block whose blob is missing or does not hash to its key (the chain covers each block's
sha256, so a blob altered in place is found here). What is not:
the newest events of a session removed (a shorter chain is still consistent), and any
change by someone who recomputes the links and the count (there is no anchor outside the
database). drvtape.store.chain has the link definitions.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drvtape.schema.details import DamagedDetail
from drvtape.schema.memory.captured import MemoryBlock, blob_key
from drvtape.schema.rows import ROW_COLUMNS, EventRow
from drvtape.store import chain, codec
from drvtape.store import tables as t
from drvtape.store.blobs import load_blobs, row_blocks

_SELECT_COLUMNS = [t.events.c[name] for name in ROW_COLUMNS]
_PAYLOAD = ROW_COLUMNS.index("payload")
HEADER_SEQ = 0  # the seq problems of a session's header are reported at
_ROWS_AT_ONCE = 10_000  # rows read and checked at a time: a session of any size in bounded memory


def verify_session(conn: Connection, session_pk: int) -> list[tuple[int, str]]:
    """(seq, what is wrong), the first problem only (every later link differs too)."""
    e, s = t.events, t.sessions
    header = conn.execute(sa.select(s).where(s.c.pk == session_pk)).mappings().one()
    session_id = uuid.UUID(header["uuid"])
    if header["header_link"] != chain.header_link(session_id, header):
        what = "has no link" if header["header_link"] is None else "does not match its link"
        return [(HEADER_SEQ, f"the session header (driver, target, machine, pid, start ...) {what}: altered")]
    query = (sa.select(*_SELECT_COLUMNS, e.c.chain).where(e.c.session_pk == session_pk).order_by(e.c.seq)
             .execution_options(stream_results=True, yield_per=_ROWS_AT_ONCE))  # a server-side cursor on PostgreSQL
    tip = chain.genesis(session_id)
    expected_seq = 0
    bad_blob: list[tuple[int, str]] = []  # the first, reported when the chain holds
    for chunk in conn.execute(query).partitions():
        blocks: list[tuple[int, MemoryBlock]] = []
        for stored_row in chunk:
            expected_seq += 1
            row, link = _decoded(stored_row[:-1]), stored_row[-1]
            if row is None:
                return [(expected_seq, f"seq {expected_seq} holds a value drvtape never writes: altered")]
            if row.seq != expected_seq:
                return [(expected_seq, f"seq {expected_seq} is missing: an event was removed")]
            tip = chain.link(tip, row)
            if link != tip:
                what = "has no chain link" if link is None else "does not match the hash chain"
                return [(row.seq, f"seq {row.seq} {what}: altered, inserted or moved")]
            if row.payload:
                blocks.extend(row_blocks([row]))
        if blocks and not bad_blob:
            bad_blob = blob_problems(conn, blocks)
    return bad_blob


def blob_problems(conn: Connection, blocks: list[tuple[int, MemoryBlock]]) -> list[tuple[int, str]]:
    """The first block, in seq order, whose blob is missing or is not the bytes its key names.
    Read a few blobs at a time: a session's distinct frames may not fit in memory together."""
    for start in range(0, len(blocks), _BLOBS_AT_ONCE):
        problem = _first_bad_blob(conn, blocks[start:start + _BLOBS_AT_ONCE])
        if problem:
            return [problem]
    return []


_BLOBS_AT_ONCE = 64


def _first_bad_blob(conn: Connection, blocks: list[tuple[int, MemoryBlock]]) -> tuple[int, str] | None:
    stored = load_blobs(conn, (b.sha256 for _, b in blocks))
    for seq, b in blocks:
        data = stored.get(b.sha256)
        if data is None:
            return seq, f"seq {seq}: the captured bytes of {b.path} (blob {b.sha256[:16]}) are missing"
        if len(data) != b.captured or blob_key(data) != b.sha256:
            return seq, f"seq {seq}: the captured bytes of {b.path} (blob {b.sha256[:16]}) do not match their hash: altered"
    return None


def _decoded(values) -> EventRow | None:
    """A stored row's values decoded; None when they hold a value drvtape never writes (the
    text 'None', text in an integer column, a call without a msg)."""
    if "None" in values or any(type(v) is not int and v is not None for i, v in enumerate(values) if i != _PAYLOAD):
        return None
    try:
        return codec.from_db_row(values)
    except DamagedDetail:
        return None


def removed_sessions(conn: Connection) -> int:
    """How many sessions stored here are gone (0 when none is, or the count is not there)."""
    stored = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == t.SESSIONS_STORED)).scalar()
    here = conn.execute(sa.select(sa.func.count()).select_from(t.sessions)).scalar_one()
    return max(int(stored) - here, 0) if stored is not None and stored.isdigit() else 0
