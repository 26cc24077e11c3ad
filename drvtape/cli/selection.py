"""Which sessions a command works on, and how a table names them so the name can be copied."""

import bisect
import uuid

from drvtape.cli.options import require_sessions_or_all
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


def copyable_ids(store: Store, ids: list[uuid.UUID], *, every: bool, wide: bool = False) -> dict[uuid.UUID, str]:
    """For each id, the shortest prefix of it (at least 8 characters) that names its session
    alone in the database: what a table shows, so that it can be pasted as SESSION. every:
    the ids are all the database holds (then no query is needed). wide: the full ids."""
    if wide:
        return {i: str(i) for i in ids}
    # One read of every id, not a resolve per id: 10,000 listed sessions took 22 s (issue 16).
    texts = sorted(str(i) for i in ids) if every else store.session_ids()
    shown = {}
    for i in ids:
        text = str(i)
        n = bisect.bisect_left(texts, text)
        # most neighbours differ within SHORTEST_ID characters: then they need no count
        neighbours = [other for other in texts[max(n - 1, 0):n] + texts[n + 1:n + 2]
                      if other[:SHORTEST_ID] == text[:SHORTEST_ID]]
        shared = max((_common_length(text, other) for other in neighbours), default=0)
        shown[i] = text[:max(SHORTEST_ID, shared + 1)]
    return shown


def _common_length(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
