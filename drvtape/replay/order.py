"""What a replayed call must wait for: the recording's happens-before, computed once.

A recorded session is a partial order: each thread's calls in order, and every return that
was recorded before a call was issued happened before that call (docs/replay.md). For each
call this module finds the calls whose RETURN event came before its CALL event, keeping only
the frontier (the latest such call per other thread: its thread's earlier calls returned
before it did), and the DRV_OPEN whose returned dwDriverId the call carries. Both schedulers
(runtime/schedule.py for sim:/py:, drvhost for dll:) are given these, so they share one
definition. A call that never returned in the recording is nobody's dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.recording import RecordedCall
from drvtape.schema.values import as_unsigned64


class CallOrder(NamedTuple):
    after: tuple[int, ...]  # indices (into the calls) that must have returned before this call is issued
    id_from: int | None  # index of the DRV_OPEN that produced this call's dwDriverId, None when none did


def call_orders(calls: Sequence[RecordedCall]) -> list[CallOrder]:
    """One CallOrder per call, in the calls' order (ascending seq)."""
    return list(map(CallOrder, *happens_before(calls)))


def happens_before(calls: Sequence[RecordedCall]) -> tuple[list[tuple[int, ...]], list[int | None]]:
    """Each call's `after` and `id_from` (as CallOrder's), as two lists in the calls' order:
    the calls and their returns merged by seq in one pass. Replay computes this once per run
    for every call: plain loops and look-ups, and no object per call but its `after` (shared
    by a thread's calls while no return comes between them)."""
    returned_at = [c.returned_at for c in calls]
    returned_at.append(float("inf"))  # a sentinel past every call, at index len(calls)
    # The returned calls' indices by their returns' seq: no (seq, index) tuple per call (half the time and memory)
    returns = sorted((i for i, at in enumerate(returned_at) if at is not None), key=returned_at.__getitem__)
    latest_returned: dict[int, int] = {}  # recorded thread -> index of its latest returned call
    opened: dict[int, int] = {}  # dwDriverId -> index of the DRV_OPEN that last returned it
    after_for: dict[int, tuple[int, ...]] = {}  # thread -> its `after`, while no return came in between
    afters: list[tuple[int, ...]] = []
    id_from: list[int | None] = []
    driver_proc = EntryPoint.DRIVER_PROC
    next_return = 0
    j = returns[0]
    at = returned_at[j]
    for call in calls:
        seq = call.seq
        if at < seq:
            while at < seq:
                returned = calls[j]
                latest_returned[returned.thread] = j
                if returned.msg == DRV_OPEN and returned.result and returned.entry_point is driver_proc:
                    opened[as_unsigned64(returned.result)] = j
                next_return += 1
                j = returns[next_return]
                at = returned_at[j]
            after_for.clear()
        thread = call.thread
        after = after_for.get(thread)
        if after is None:
            after = after_for[thread] = tuple(sorted([k for t, k in latest_returned.items() if t != thread]))
        afters.append(after)
        driver_id = call.driver_id  # devices' instances are mapped by the host, not by an open
        if opened and driver_id and call.entry_point is driver_proc:
            id_from.append(opened.get(driver_id if driver_id > 0 else as_unsigned64(driver_id)))  # > 0: as it is
        else:
            id_from.append(None)
    return afters, id_from
