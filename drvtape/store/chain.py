"""The hash chain over a session's events: altering, removing, inserting or reordering a
stored event breaks it from that event on.

link(n) = first 16 bytes of SHA-256(link(n-1) || canonical(row n)); link(0) is the first 16
bytes of the SHA-256 of the session's UUID (its 16 bytes). canonical(row) is the row's 14
fields in ROW_COLUMNS order, unsigned values unsigned, integers in decimal, NULL as `None`,
text as it is, joined by 0x1F and encoded as UTF-8: easy to recompute in any language.
The 15th field, entry_point (schema version 7), joins the text only when it is set (a device
entry point's call), so every event of a DriverProc keeps the link it had before.

A session's header has a link of its own (schema version 3): next_link(link(0), the header's
HEADER_FIELDS in that order, as a row is written), stored in sessions.header_link. In this
text NULL and the text 'None' look alike: drvtape never writes the text 'None' (payloads are
JSON objects, every other column an integer), and `verify` reports a stored value of a type
drvtape never writes besides checking the links.
"""

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence

LINK_BYTES = 16
_CANONICAL = "\x1f".join(["%s"] * 14)  # one C-level format per row: half the cost of a join
_CANONICAL_ENTRY_POINT = "\x1f".join(["%s"] * 15)
_ENTRY_POINT = 14


def genesis(session_id: uuid.UUID) -> bytes:
    return hashlib.sha256(session_id.bytes).digest()[:LINK_BYTES]


def canonical(row: Sequence) -> bytes:
    """A row of 15 fields, or of the 14 before entry_point (a DriverProc's)."""
    if len(row) == _ENTRY_POINT:
        return (_CANONICAL % tuple(row)).encode("utf-8")
    if row[_ENTRY_POINT] is None:
        return (_CANONICAL % tuple(row[:_ENTRY_POINT])).encode("utf-8")
    return (_CANONICAL_ENTRY_POINT % tuple(row)).encode("utf-8")


def next_link(previous: bytes, canonical_row: bytes) -> bytes:
    return hashlib.sha256(previous + canonical_row).digest()[:LINK_BYTES]


def link(previous: bytes, row: Sequence) -> bytes:
    return next_link(previous, canonical(row))


HEADER_FIELDS = ("uuid", "driver", "driver_hash", "target", "machine", "os", "process", "pid",
                 "recorder_version", "started_us", "clock", "origin", "source")
_HEADER_CANONICAL = "\x1f".join(["%s"] * len(HEADER_FIELDS))


def header_link(session_id: uuid.UUID, columns) -> bytes:
    """The link of a session's header: its columns (a mapping) chained after link(0).

    `arch` (schema version 5) joins the text as a 14th field only when it is set, so the
    headers stored before it keep their links."""
    text = _HEADER_CANONICAL % tuple(columns[name] for name in HEADER_FIELDS)
    if columns.get("arch") is not None:
        text += "\x1f" + columns["arch"]
    return next_link(genesis(session_id), text.encode("utf-8"))


def links(previous: bytes, rows: Iterable[Sequence]) -> Iterator[bytes]:
    for row in rows:
        previous = link(previous, row)
        yield previous
