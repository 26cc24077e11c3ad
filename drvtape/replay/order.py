"""What a replayed call must wait for: the recording's happens-before, computed once.

A recorded session is a partial order: each thread's calls in order, and every return that
was recorded before a call was issued happened before that call (docs/replay.md). For each
call this module finds the calls whose RETURN event came before its CALL event, keeping only
the frontier (the latest such call per other thread: its thread's earlier calls returned
before it did), and the DRV_OPEN whose returned dwDriverId the call carries. Both schedulers
(runtime/schedule.py for sim:/py:, drvhost for dll:) are given these, so they share one
definition. A call that never returned in the recording is nobody's dependency.

It is one pass in seq order holding only the calls in flight (a heap by their returns' seq),
each thread's latest returned call and the ids DRV_OPENs returned: a streamed replay feeds
it a window of calls at a time (HappensBefore.extend), a loaded one all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from heapq import heappop, heappush
from typing import NamedTuple

from drvtape.replay.call_table import order_fields
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.recording import RecordedCall
from drvtape.schema.values import as_unsigned64

_DRIVER_PROC = 0  # entry_point_code(EntryPoint.DRIVER_PROC): devices' instances are mapped by the host, not by an open


class CallOrder(NamedTuple):
    after: tuple[int, ...]  # indices (into the calls) that must have returned before this call is issued
    id_from: int | None  # index of the DRV_OPEN that produced this call's dwDriverId, None when none did


def call_orders(calls: Sequence[RecordedCall]) -> list[CallOrder]:
    """One CallOrder per call, in the calls' order (ascending seq)."""
    return list(map(CallOrder, *happens_before(calls)))


def happens_before(calls: Sequence[RecordedCall]) -> tuple[list[tuple[int, ...]], list[int | None]]:
    """Each call's `after` and `id_from` (as CallOrder's), as two lists in the calls' order."""
    return HappensBefore().extend(order_fields(calls))


class HappensBefore:
    """The calls' happens-before, fed in seq order a piece at a time; indices count every call fed."""

    def __init__(self):
        self.fed = 0  # calls fed so far: the next one's index
        self.in_flight: list[tuple[int, int, int, int]] = []  # heap of (return's seq, index, thread, id it opened or 0)
        self.latest_returned: dict[int, int] = {}  # recorded thread -> index of its latest returned call
        self.opened: dict[int, int] = {}  # dwDriverId -> index of the DRV_OPEN that last returned it
        self.after_for: dict[int, tuple[int, ...]] = {}  # thread -> its `after`, while no return came in between

    def extend(self, fields: Iterable[tuple]) -> tuple[list[tuple[int, ...]], list[int | None]]:
        """The `after` and `id_from` of the calls whose call_table.order_fields these are.
        Plain loops and look-ups, once per call: no object per call but its `after` (shared by a
        thread's calls while no return comes between them) and its heap entry while in flight."""
        in_flight, latest_returned, opened, after_for = self.in_flight, self.latest_returned, self.opened, self.after_for
        afters: list[tuple[int, ...]] = []
        id_from: list[int | None] = []
        index = self.fed
        for seq, thread, msg, driver_id, result, returned_at, entry in fields:
            if in_flight and in_flight[0][0] < seq:
                while in_flight and in_flight[0][0] < seq:
                    _, j, returned_thread, opened_id = heappop(in_flight)
                    latest_returned[returned_thread] = j
                    if opened_id:
                        opened[opened_id] = j
                after_for.clear()
            after = after_for.get(thread)
            if after is None:
                after = after_for[thread] = tuple(sorted([k for t, k in latest_returned.items() if t != thread]))
            afters.append(after)
            if opened and driver_id and entry == _DRIVER_PROC:
                id_from.append(opened.get(driver_id if driver_id > 0 else as_unsigned64(driver_id)))  # > 0: as it is
            else:
                id_from.append(None)
            if returned_at is not None:
                opens = msg == DRV_OPEN and result and entry == _DRIVER_PROC
                heappush(in_flight, (returned_at, index, thread, as_unsigned64(result) if opens else 0))
            index += 1
        self.fed = index
        return afters, id_from
