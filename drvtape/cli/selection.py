"""Which sessions a command works on, and how a table names them so the name can be copied."""

import uuid
from collections.abc import Iterator

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
    wanted = {str(i): i for i in ids}
    return {wanted[text]: text[:length] for text, length in unique_lengths(sorted(wanted) if every else
                                                                          store.session_ids()) if text in wanted}


def unique_lengths(texts: list[str]) -> Iterator[tuple[str, int]]:
    """Each of the sorted texts with the length of its shortest prefix (at least SHORTEST_ID)
    that no other text starts with: one walk comparing neighbours (a bisect per id took
    0.12-0.15 s of 10,000 sessions' listing)."""
    lengths = [SHORTEST_ID] * len(texts)
    for n in range(len(texts) - 1):
        text, following = texts[n], texts[n + 1]
        # most neighbours differ within SHORTEST_ID characters: then they need no count
        if following.startswith(text[:SHORTEST_ID]):
            shared = _common_length(text, following) + 1
            lengths[n], lengths[n + 1] = max(lengths[n], shared), max(lengths[n + 1], shared)
    return zip(texts, lengths)


def _common_length(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
