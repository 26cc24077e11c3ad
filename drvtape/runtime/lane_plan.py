"""Where each lane of a thread-faithful run must wait, worked out once before it starts.

A unit waits only for what another lane does: the issue of the unit just before it (when
that is another lane's) and the returns it must come after (another lane's; its own lane's
are behind it already). A return implies its unit's issue, so a unit coming after the
previous unit's return waits for that one event only. Each such event names, in the plan,
the unit it lets go: a lane finishing a unit looks up who is next in an array, no dict and
no search. Arrays of 32-bit ints, not lists of objects: a plan adds 12 bytes per unit.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

NOBODY = -1  # in issue_next/return_next: this event lets no unit go
SEVERAL = -2  # in return_next: the units this return lets go are in return_more


@dataclass(frozen=True, slots=True)
class LanePlan:
    lanes: dict[Hashable, array]  # recorded thread -> positions of its units, in order (4 bytes a unit)
    waits: array  # per unit: how many other lanes' events it waits for (0: it goes when its lane gets to it)
    issue_next: array  # per unit: the unit waiting for this one's issue, or NOBODY
    return_next: array  # per unit: the unit waiting for this one's return, NOBODY, or SEVERAL
    return_more: dict[int, list[int]]  # unit -> the units waiting for its return, when SEVERAL


def plan_lanes(threads: Sequence[Hashable], after: Sequence[tuple[int, ...]]) -> LanePlan:
    total = len(threads)
    lanes: dict[Hashable, array] = {}  # a list would hold an int object per unit too
    waits = array("i", bytes(4 * total))
    issue_next = array("i", [NOBODY]) * total
    return_next = array("i", [NOBODY]) * total
    return_more: dict[int, list[int]] = {}
    previous = None
    for index, thread in enumerate(threads):  # once per unit before the run: plain loops, no call per unit
        lane = lanes.get(thread)
        if lane is None:  # not setdefault: it would build an array per unit to throw away
            lane = lanes[thread] = array("i")
        lane.append(index)
        count = 0
        previous_returned = False
        for d in after[index]:
            if threads[d] != thread:
                count += 1
                previous_returned = previous_returned or d == index - 1
                waiting = return_next[d]
                if waiting == NOBODY:
                    return_next[d] = index
                else:
                    return_more.setdefault(d, [] if waiting == SEVERAL else [waiting]).append(index)
                    return_next[d] = SEVERAL
        if index and previous != thread and not previous_returned:
            count += 1
            issue_next[index - 1] = index
        waits[index] = count
        previous = thread
    return LanePlan(lanes, waits, issue_next, return_next, return_more)
