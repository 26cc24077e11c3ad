"""Ending orphaned sessions: those whose recording process on this machine is gone.

A killed recorder cannot write its own end; without one its session would look open
forever. Writers call end_orphaned_sessions when they open a database to write (the
recorder, import, ingest, pull, derived sessions); a command that only reads never does.

The end says what is known: a fault last means the driver crashed the process; otherwise
the reason is unknown (SIGKILL, power, a native crash). A session a push or pull is still
copying is the copy's to finish, never recovery's (drvtape.store.sync). Two processes may recover the same
orphan at once: the second finds the end already there, or loses the insert of the same
seq (a UNIQUE violation), and leaves it be.
"""

from __future__ import annotations

import os
import platform
import uuid

import sqlalchemy as sa

from drvtape.schema.events import EndReason
from drvtape.schema.rows import Kind, end_row
from drvtape.store import tables as t
from drvtape.store.database import Store
from drvtape.store.processes import process_alive


def end_orphaned_sessions(store: Store) -> list[uuid.UUID]:
    """Give an end event to every orphaned session of this machine; the ids of those ended now."""
    ended = []
    for pk, session_id, pid in _orphans(store):
        if _end_session(store, pk, pid):
            ended.append(uuid.UUID(session_id))
    return ended


def _orphans(store: Store) -> list[tuple[int, str, int]]:
    """(pk, uuid, pid) of this machine's sessions with no end whose process is not running.
    pid 0 is no recorder's (a header written by a tool that names no process)."""
    s, e = t.sessions, t.events
    ended = sa.select(e.c.session_pk).where(t.IS_ENDING, e.c.kind == Kind.END)
    copying = sa.select(sa.func.substr(t.meta.c.key, len(t.COPYING) + 1)).where(t.meta.c.key.startswith(t.COPYING))
    query = sa.select(s.c.pk, s.c.uuid, s.c.pid).where(
        s.c.machine == platform.node(), s.c.pid > 0, s.c.pid != os.getpid(), s.c.pk.not_in(ended),
        s.c.uuid.not_in(copying))
    with store.engine.connect() as conn:
        return [(pk, session_id, pid) for pk, session_id, pid in conn.execute(query) if not process_alive(pid)]


def _end_session(store: Store, pk: int, pid: int) -> bool:
    """Append the end event; False when another process ended the session first."""
    e = t.events
    store.tips.forget(pk)  # whoever ends it, the tip this store knew is no longer the last
    try:
        with store.writing() as conn:
            # One read: an end is always a session's last event, and whoever commits one after
            # this read has taken the seq this insert wants.
            last = conn.execute(sa.select(e.c.seq, e.c.ts_ns, e.c.kind, e.c.call_seq).where(e.c.session_pk == pk)
                                .order_by(e.c.seq.desc()).limit(1)).first()
            if last is not None and last.kind == Kind.END:
                return False
            crashed = last is not None and last.kind == Kind.FAULT
            row = end_row(
                (last.seq if last else 0) + 1, last.ts_ns if last else 0, 0,
                EndReason.CRASH if crashed else EndReason.UNKNOWN, last.call_seq if crashed else None,
                f"the recording process (pid {pid}) ended without closing the session; "
                "ended by the next writer to open the database")
            store.inserter.insert(conn, pk, [row], store.tips.tip(pk, conn))
    except sa.exc.IntegrityError:
        return False  # the same seq inserted by another process meanwhile: it ended the session
    return True
