"""Copying sessions between databases (push to a central one, pull back), resumably.

Per session: the source's chain (and every blob its memory blocks name) must verify, the
blobs a chunk's events name go over with that chunk, and the destination's highest seq and its
chain link must equal the source's link at that seq (else the two histories differ and
nothing is written); the events after it go
over in chunks, one transaction each, so an interrupted copy leaves a verified prefix that
the next copy continues. Copying a session that is already whole writes nothing.

The copy is marked in progress at the destination (Store.begin_copy) until it is whole and
has its end: orphan recovery there never ends it, so an interrupted copy stays resumable.
"""

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drvtape.errors import DrvtapeError
from drvtape.store import EventFilter, StoredSession, Store
from drvtape.store.blobs import row_blocks

CHUNK_EVENTS = 10_000


@dataclass(frozen=True)
class Copied:
    session: str
    events: int  # copied now
    total: int  # the session's events at the destination afterwards


def copy_sessions(source: Store, destination: Store, chosen: Sequence[StoredSession],
                  on_events: Callable[[int], None] = lambda n: None, chunk: int = CHUNK_EVENTS) -> list[Copied]:
    return [_copy(source, destination, s, on_events, chunk) for s in chosen]


def _copy(source: Store, destination: Store, session: StoredSession, on_events, chunk: int) -> Copied:
    damaged = source.verify(session.pk)
    if damaged:
        raise DrvtapeError(f"session {session.header.id} is damaged where it comes from: {damaged[0][1]}; "
                           "nothing copied")
    found = destination.find(session.header.id)
    done, dest_link = destination.last_link(found.pk) if found else (0, None)
    if (done, dest_link) == source.last_link(session.pk):  # whole already (a kill may have left its mark)
        _finish(source, destination, session)
        return Copied(str(session.header.id), 0, done)
    if done and source.link_at(session.pk, done) != dest_link:
        raise DrvtapeError(f"session {session.header.id} differs at seq {done} between the two databases: "
                           "nothing copied (run verify on both)")
    dest_pk = destination.begin_copy(session.header, f"copy from {source.where} by pid {os.getpid()}")
    copied = 0
    while True:
        rows = source.rows(session.pk, EventFilter(from_seq=done + 1, limit=chunk))
        if not rows:
            break
        destination.append_rows(dest_pk, rows, source.blobs(b.sha256 for _, b in row_blocks(rows)))
        done, copied = rows[-1].seq, copied + len(rows)
        on_events(len(rows))
    if destination.last_link(dest_pk)[1] != source.last_link(session.pk)[1]:
        raise DrvtapeError(f"session {session.header.id}: the copy's hash chain does not match the source's")
    _finish(source, destination, session)
    return Copied(str(session.header.id), copied, done)


def _finish(source: Store, destination: Store, session: StoredSession) -> None:
    """A whole copy stays marked in progress until the session has its end."""
    if source.has_end(session.pk):
        destination.end_copy(session.header.id)
