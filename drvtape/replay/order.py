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


class CallOrder(NamedTuple):  # a tuple: one is built per replayed call
    after: tuple[int, ...]  # indices (into the calls) that must have returned before this call is issued
    id_from: int | None  # index of the DRV_OPEN that produced this call's dwDriverId, None when none did


def call_orders(calls: Sequence[RecordedCall]) -> list[CallOrder]:
    """One CallOrder per call, in the calls' order (ascending seq): the calls and their
    returns merged by seq in one pass."""
    returns = sorted((c.returned_at, i) for i, c in enumerate(calls) if c.returned_at is not None)
    returns.append((float("inf"), -1))  # a sentinel past every call
    latest_returned: dict[int, int] = {}  # recorded thread -> index of its latest returned call
    opened: dict[int, int] = {}  # dwDriverId -> index of the DRV_OPEN that last returned it
    orders: list[CallOrder] = []
    next_return = 0
    after_for: dict[int, tuple[int, ...]] = {}  # thread -> its `after`, while no return came in between
    for call in calls:  # once per replayed call: kept to plain loops and look-ups
        seq, thread = call.seq, call.thread
        at, j = returns[next_return]
        while at < seq:
            returned = calls[j]
            latest_returned[returned.thread] = j
            if returned.msg == DRV_OPEN and returned.result and returned.entry_point is EntryPoint.DRIVER_PROC:
                opened[as_unsigned64(returned.result)] = j
            after_for.clear()
            next_return += 1
            at, j = returns[next_return]
        after = after_for.get(thread)
        if after is None:
            frontier = [k for t, k in latest_returned.items() if t != thread]
            frontier.sort()
            after = after_for[thread] = tuple(frontier)
        by_open = call.driver_id and call.entry_point is EntryPoint.DRIVER_PROC  # devices: mapped by the host
        orders.append(CallOrder(after, opened.get(as_unsigned64(call.driver_id)) if by_open else None))
    return orders
