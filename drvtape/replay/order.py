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
from dataclasses import dataclass

from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.recording import RecordedCall
from drvtape.schema.values import as_unsigned64


@dataclass(frozen=True)
class CallOrder:
    after: tuple[int, ...]  # indices (into the calls) that must have returned before this call is issued
    id_from: int | None  # index of the DRV_OPEN that produced this call's dwDriverId, None when none did


def call_orders(calls: Sequence[RecordedCall]) -> list[CallOrder]:
    """One CallOrder per call, in the calls' order (ascending seq)."""
    events = [(c.seq, i, True) for i, c in enumerate(calls)]
    events += [(c.returned_at, i, False) for i, c in enumerate(calls) if c.returned_at is not None]
    events.sort()
    latest_returned: dict[int, int] = {}  # recorded thread -> index of its latest returned call
    opened: dict[int, int] = {}  # dwDriverId -> index of the DRV_OPEN that last returned it
    orders: list[CallOrder | None] = [None] * len(calls)
    for _seq, i, is_call in events:
        call = calls[i]
        if is_call:
            after = tuple(sorted(j for t, j in latest_returned.items() if t != call.thread))
            orders[i] = CallOrder(after, opened.get(as_unsigned64(call.driver_id)) if call.driver_id else None)
        else:
            latest_returned[call.thread] = i
            if call.msg == DRV_OPEN and call.result:
                opened[as_unsigned64(call.result)] = i
    return orders
