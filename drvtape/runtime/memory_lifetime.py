"""How long the memory behind recorded calls lives in a replay: the one decision both
rebuilders use (runtime/memory.py's MemoryRefs for in-process drivers, replay/memory.py's
drvhost blocks).

One recorded address is one block. It lives from its first use to its last, and past it
where the catalog says the application keeps it alive ("until" a closing message to the
same instance: an ACMDRVSTREAMINSTANCE from ACMDM_STREAM_OPEN to ACMDM_STREAM_CLOSE, a stream
header from PREPARE to UNPREPARE, the formats of ICM_DECOMPRESS_BEGIN until
ICM_DECOMPRESS_END; when the recording never sends the closing message, to its last call).
It is freed after the user whose return the recording has last (calls on several threads
overlap), and never when one of its users never returned (the driver may still hold it).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from drvtape.schema.recording import RecordedCall

# The name of call i's message, None when the catalog does not know it (its blocks are not rebuilt)
MessageName = Callable[[int], "str | None"]
# The closing messages of call i's block at path, None (or empty) when it lives for its uses only
Until = Callable[[int, str], "Collection[str] | None"]


def release_points(calls: Sequence[RecordedCall], name: MessageName, until: Until) -> dict[int, list[int]]:
    """{index of a call: the recorded addresses freed after it}, addresses in first-use order."""
    users: dict[int, list[int]] = {}
    for i, call in enumerate(calls):
        if not (call.memory_in or call.memory_out) or name(i) is None:
            continue
        for b in (*call.memory_in, *call.memory_out):
            users.setdefault(b.address, []).append(i)
            closing = until(i, b.path)
            if closing:
                users[b.address].append(_closing(calls, name, i, closing))
    freed: dict[int, list[int]] = {}
    for address, used in users.items():
        last = _last_returned(calls, used)
        if last is not None:
            freed.setdefault(last, []).append(address)
    return freed


def _closing(calls: Sequence[RecordedCall], name: MessageName, i: int, names: Collection[str]) -> int:
    """The first call from i on to the same instance whose message closes the block (the last call when none does)."""
    instance = calls[i].driver_id
    return next((j for j in range(i, len(calls)) if calls[j].driver_id == instance and name(j) in names),
                len(calls) - 1)


def _last_returned(calls: Sequence[RecordedCall], used: list[int]) -> int | None:
    """The user whose return was recorded last; None (never freed) when one never returned."""
    if any(calls[j].returned_at is None for j in used):
        return None
    return max(used, key=lambda j: calls[j].returned_at)
