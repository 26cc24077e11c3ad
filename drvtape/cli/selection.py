"""Which sessions a command works on, and how a table names them so the name can be copied."""

import uuid

from drvtape.cli.options import require_sessions_or_all
from drvtape.errors import DrvtapeError
from drvtape.store import Store, StoredSession

SHORTEST_ID = 8


def chosen_sessions(store: Store, refs: list[str] | None, every: bool) -> list[StoredSession]:
    """The sessions named (each once, in the order given), or with --all every session."""
    require_sessions_or_all(refs, every)
    if every:
        return [StoredSession(s.pk, s.header) for s in store.sessions()]
    unique: dict[int, StoredSession] = {}
    for ref in refs:
        stored = store.resolve(ref)
        unique.setdefault(stored.pk, stored)
    return list(unique.values())


def copyable_id(store: Store, session_id: uuid.UUID, *, wide: bool = False) -> str:
    """The shortest prefix of the id (at least 8 characters) that names this session alone in
    the database: what a table shows, so that it can be pasted as SESSION. --wide: the full id."""
    text = str(session_id)
    if wide:
        return text
    for length in range(SHORTEST_ID, len(text)):
        try:
            store.resolve(text[:length])
        except DrvtapeError:  # ambiguous: more characters
            continue
        return text[:length]
    return text
