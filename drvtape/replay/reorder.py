"""explore's seeded reorderings: orders the recording allows, and ones that break one edge.

An order is a sequence of the calls' CALL and RETURN events: each thread's in its recorded
order, and every return that the recording has before a call (replay/order.py's `after`)
still before it. Even seeds draw such an order at random. Odd seeds also break one of those
edges on purpose (chosen by the seed): the call is issued before that return, as if the
client had not waited for it. `broken_edges` tells which edges an order breaks, so what is
reported as perturbed is checked, not assumed.

The reordered calls are renumbered 1..n in their issue order, and each one's `returned_at`
is the seq of the last call issued before it returned: what call_orders compares, so a
replay of them keeps this order's happens-before (and issues calls in seq order).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from drvtape.replay.order import call_orders
from drvtape.schema.messages import message_name
from drvtape.schema.recording import RecordedCall


@dataclass(frozen=True)
class BrokenEdge:
    """In the recording `returned` returned before `issued` (another thread's) was issued; in
    the explored order `issued` went first. Both are the recording's calls."""

    returned: RecordedCall
    issued: RecordedCall

    def describe(self) -> str:
        return (f"seq {self.issued.seq} {message_name(self.issued.msg)} issued before seq {self.returned.seq} "
                f"{message_name(self.returned.msg)} returned")


def interleaving(calls: Sequence[RecordedCall], seed: int) -> list[RecordedCall]:
    """The seed's order of the calls, renumbered (see the module's docstring)."""
    rng = random.Random(seed)
    orders = call_orders(calls)
    edges = [(d, c) for c, order in enumerate(orders) for d in order.after]
    if seed % 2:
        rng.shuffle(edges)
        for edge in edges:  # an edge whose breaking leaves no order (a cycle) is passed over
            events = _linear_extension(calls, orders, rng, edge)
            if events is not None:
                return _renumbered(calls, events)
    return _renumbered(calls, _linear_extension(calls, orders, rng, None))


def broken_edges(recorded: Sequence[RecordedCall], reordered: Sequence[RecordedCall]) -> list[BrokenEdge]:
    """The recording's edges that the reordered calls (interleaving's) do not keep."""
    by_thread: dict[int, list[RecordedCall]] = {}
    for call in reordered:
        by_thread.setdefault(call.thread, []).append(call)
    position: dict[int, int] = {}
    same = []  # same[i]: recorded call i in the reordering (each thread keeps its order)
    for call in recorded:
        k = position.get(call.thread, 0)
        position[call.thread] = k + 1
        same.append(by_thread[call.thread][k])
    broken = []
    for c, order in enumerate(call_orders(recorded)):
        for d in order.after:
            at = same[d].returned_at
            if at is None or at >= same[c].seq:
                broken.append(BrokenEdge(recorded[d], recorded[c]))
    return broken


def _linear_extension(calls: Sequence[RecordedCall], orders, rng: random.Random,
                      broken: tuple[int, int] | None) -> list[tuple[bool, int]] | None:
    """A random order of the events as (is_call, index), keeping every edge but `broken`
    (d, c), whose call c instead comes before d's return (and still after the return of d's
    thread's previous call, so that no other edge breaks with it); None when that leaves no
    order."""
    lanes: dict[int, list[tuple[bool, int]]] = {}
    previous: dict[int, int] = {}  # index -> the previous call of its thread
    for i, call in enumerate(calls):
        lane = lanes.setdefault(call.thread, [])
        if lane:
            previous[i] = lane[-1][1]
        lane.append((True, i))
        if call.returned_at is not None:
            lane.append((False, i))
    after = [order.after for order in orders]
    if broken is not None:
        d, c = broken
        after[c] = tuple(x for x in after[c] if x != d) + ((previous[d],) if d in previous else ())
    for lane in lanes.values():
        lane.reverse()
    returned = [False] * len(calls)
    issued = [False] * len(calls)

    def ready(event: tuple[bool, int]) -> bool:
        is_call, i = event
        if not is_call:
            return broken is None or broken[0] != i or issued[broken[1]]
        return all(returned[d] for d in after[i])

    events = []
    while lanes:
        threads = [t for t in sorted(lanes) if ready(lanes[t][-1])]
        if not threads:
            return None
        thread = rng.choice(threads)
        is_call, i = event = lanes[thread].pop()
        (issued if is_call else returned)[i] = True
        events.append(event)
        if not lanes[thread]:
            del lanes[thread]
    return events


def _renumbered(calls: Sequence[RecordedCall], events: list[tuple[bool, int]]) -> list[RecordedCall]:
    seq: dict[int, int] = {}
    returned_at: dict[int, int] = {}
    for is_call, i in events:
        if is_call:
            seq[i] = len(seq) + 1
        else:
            returned_at[i] = len(seq)
    ordered = sorted(seq, key=seq.get)
    return [replace(calls[i], seq=seq[i], returned_at=returned_at.get(i)) for i in ordered]
