"""How long a non-cooperative driver's calls have been in flight, counted in the time this
process could run, the rule drvhost's watchdog follows (docs/replay.md).

The run's caller waits in ticks of 10 ms (1 ms once a call has been in flight an eighth of
the timeout), and a tick that came back late counts as at most twice the shortest tick of
its length seen so far. A call that computes or spins is counted while the process runs, one
that waits for what never comes in full; on a loaded machine (runnable, not running) a hang
is found later in wall time, never earlier. The replay threads read no clock: a call's time
starts when a tick first sees it in flight, within a tick of its issue.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

COARSE_TICK = 0.010
FINE_TICK = 0.001


class HangTimer:
    def __init__(self, timeout: float):
        self.timeout = timeout
        self._shortest: dict[float, float] = {}  # tick length -> the shortest such tick seen
        self._counted: dict[Hashable, tuple[object, float]] = {}  # thread -> (its call in flight, seconds)

    def tick(self) -> float:
        """How long the next wait is."""
        longest = max((seconds for _, seconds in self._counted.values()), default=0.0)
        return FINE_TICK if longest >= self.timeout / 8 else COARSE_TICK

    def expired(self, in_flight: Mapping[Hashable, object], length: float, took: float, timed_out: bool) -> bool:
        """Count a wait of `length` seconds that took `took` (ended by its timeout, or early by a
        notify), given each busy thread's call in flight; True once one call has been in flight
        for the whole timeout."""
        if timed_out:
            # A length not timed yet is bounded by the shortest of the lengths that were: ticks
            # start coarse, so the first fine tick of a loaded machine is not taken as its measure.
            known = self._shortest.get(length, min(self._shortest.values(), default=took))
            shortest = self._shortest[length] = min(known, took)
            took = min(took, 2 * shortest)
        before = self._counted
        self._counted = counted = {}
        for thread, call in in_flight.items():
            seen = before.get(thread)
            counted[thread] = (call, seen[1] + took if seen is not None and seen[0] == call else 0.0)
        return any(seconds >= self.timeout for _, seconds in counted.values())
