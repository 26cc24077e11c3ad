"""The hash chain over a session's events: altering, removing, inserting or reordering a
stored event breaks it from that event on.

link(n) = first 16 bytes of SHA-256(link(n-1) || canonical(row n)); link(0) is the first 16
bytes of the SHA-256 of the session's UUID (its 16 bytes). canonical(row) is the row's 14
fields in ROW_COLUMNS order, unsigned values unsigned, integers in decimal, NULL as `None`,
text as it is, joined by 0x1F and encoded as UTF-8: easy to recompute in any language.
"""

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence

LINK_BYTES = 16
_CANONICAL = "\x1f".join(["%s"] * 14)  # one C-level format per row: half the cost of a join


def genesis(session_id: uuid.UUID) -> bytes:
    return hashlib.sha256(session_id.bytes).digest()[:LINK_BYTES]


def canonical(row: Sequence) -> bytes:
    return (_CANONICAL % tuple(row)).encode("utf-8")


def next_link(previous: bytes, canonical_row: bytes) -> bytes:
    return hashlib.sha256(previous + canonical_row).digest()[:LINK_BYTES]


def link(previous: bytes, row: Sequence) -> bytes:
    return next_link(previous, canonical(row))


def links(previous: bytes, rows: Iterable[Sequence]) -> Iterator[bytes]:
    for row in rows:
        previous = link(previous, row)
        yield previous
