"""runtime/memory_lifetime.py: the one decision of how long a recorded block lives, which the
in-process rebuilder (MemoryRefs) and the drvhost planner both follow."""
from __future__ import annotations

from drvtape.runtime.memory_lifetime import release_points
from drvtape.schema.memory.captured import Phase, block
from drvtape.schema.recording import RecordedCall

ID = 0x10


def call(index: int, msg: str, *addresses: int, returned_at: int | None = -1, driver_id: int = ID) -> RecordedCall:
    seq = 2 * index + 1
    blocks = tuple(block("lparam1", Phase.CALL, a, 4, bytes(4)) for a in addresses)
    return RecordedCall(seq, 0, index, driver_id, 0x10, 0, 0, None, 0,
                        returned_at=seq + 1 if returned_at == -1 else returned_at, memory_in=blocks), msg


def points(*calls_and_names, until=None):
    calls = [c for c, _ in calls_and_names]
    names = [n for _, n in calls_and_names]
    return release_points(calls, lambda i: names[i], lambda i, path: (until or {}).get(names[i]))


def test_a_block_is_freed_after_its_last_use():
    assert points(call(0, "A", 0x100), call(1, "A", 0x100, 0x200), call(2, "A")) == {1: [0x100, 0x200]}


def test_a_hint_keeps_it_until_the_closing_message_to_the_same_instance_or_to_the_end():
    hint = {"OPEN": ("CLOSE",)}
    assert points(call(0, "OPEN", 0x100), call(1, "CLOSE", driver_id=ID + 1), call(2, "X"), call(3, "CLOSE"),
                  call(4, "X"), until=hint) == {3: [0x100]}
    assert points(call(0, "OPEN", 0x100), call(1, "X"), call(2, "X"), until=hint) == {2: [0x100]}


def test_freed_after_the_user_that_returned_last_and_never_when_one_did_not_return():
    assert points(call(0, "A", 0x100, returned_at=10), call(1, "A", 0x100, returned_at=4)) == {0: [0x100]}
    assert points(call(0, "A", 0x100, returned_at=None), call(1, "A", 0x100)) == {}


def test_a_message_the_catalog_does_not_know_keeps_nothing_alive():
    assert points(call(0, "A", 0x100), call(1, None, 0x100)) == {0: [0x100]}
