"""How long a non-cooperative driver's calls have been in flight, counted as drvhost's watchdog
counts them (docs/replay.md): the larger of two counts decides.

- The time this process could run: the run's caller waits in ticks of 10 ms (1 ms once a
  call has been in flight an eighth of the timeout), and a tick that came back late counts
  as at most the shortest tick of its length seen so far. A call that waits for what never
  comes is counted in full; on a loaded machine (runnable, not running) a hang is found
  later in wall time, never earlier.
- The CPU time the call's thread used, from an eighth of the timeout on: a Python call that
  spins holds the GIL and makes every tick late, so the ticks alone would count it slowly.
  Read through time.pthread_getcpuclockid; where the platform has no per-thread CPU clock, a
  late tick counts as two shortest ticks instead (what this timer did before it had one).

The replay threads read no clock: a call's time starts when a tick first sees it in flight,
within a tick of its issue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import NamedTuple

COARSE_TICK = 0.010
FINE_TICK = 0.001
HAS_THREAD_CPU_CLOCK = hasattr(time, "pthread_getcpuclockid")


class ThreadCpuClock(NamedTuple):
    """A thread's CPU-time clock (clock_gettime's id) and the thread it names."""

    clock_id: int
    thread: threading.Thread


def own_cpu_clock() -> ThreadCpuClock | None:
    """The calling thread's CPU-time clock, for cpu_seconds, or None where there is none. Taken
    by the thread itself (a pthread id of an ended thread may not be used at all)."""
    if not HAS_THREAD_CPU_CLOCK:
        return None
    try:
        return ThreadCpuClock(time.pthread_getcpuclockid(threading.get_ident()), threading.current_thread())
    except OSError:  # ENOENT: the system has no per-thread CPU clocks
        return None


def cpu_seconds(clock: ThreadCpuClock | None) -> float | None:
    """The CPU seconds its thread has used on `clock` (own_cpu_clock), or None (no clock, or
    the thread ended). Read only while the thread is alive: its kernel thread outlives join()
    by a moment, so the clock still read then, and its id, once freed, can name a later thread."""
    if clock is None or not clock.thread.is_alive():
        return None
    try:
        return time.clock_gettime(clock.clock_id)
    except OSError:
        return None


class _Count(NamedTuple):
    call: object  # the thread's call in flight
    ticks: float  # seconds counted by the ticks since it was first seen
    cpu_start: float | None  # the thread's CPU time when first read (past an eighth of the timeout)
    cpu_mark: float  # `ticks` at that read


class HangTimer:
    def __init__(self, timeout: float, cpu_time: Callable[[Hashable], float | None] | None = None):
        """cpu_time(thread): the CPU seconds its OS thread has used, or None; without it (or
        without a per-thread CPU clock here) late ticks count as two."""
        self.timeout = timeout
        self.cpu_time = cpu_time if HAS_THREAD_CPU_CLOCK else None
        self._late_ticks_count = 1 if self.cpu_time is not None else 2
        self._shortest: dict[float, float] = {}  # tick length -> the shortest such tick seen
        self._counted: dict[Hashable, _Count] = {}  # thread -> its call in flight, and its count

    def tick(self) -> float:
        """How long the next wait is."""
        longest = max((count.ticks for count in self._counted.values()), default=0.0)
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
            took = min(took, self._late_ticks_count * shortest)
        before = self._counted
        self._counted = counted = {}
        hung = False
        for thread, call in in_flight.items():
            seen = before.get(thread)
            if seen is None or seen.call != call:
                counted[thread] = _Count(call, 0.0, None, 0.0)
                continue
            count = counted[thread] = self._counted_on(thread, seen, seen.ticks + took)
            hung = hung or max(count.ticks, self._by_cpu(thread, count)) >= self.timeout
        return hung

    def _counted_on(self, thread: Hashable, seen: _Count, ticks: float) -> _Count:
        """The thread's count after this tick: its CPU time read first once past an eighth."""
        if seen.cpu_start is None and self.cpu_time is not None and ticks >= self.timeout / 8:
            return _Count(seen.call, ticks, self.cpu_time(thread), ticks)
        return seen._replace(ticks=ticks)

    def _by_cpu(self, thread: Hashable, count: _Count) -> float:
        """The call's count by its thread's CPU time: the ticks' count at the first read plus
        the CPU time used since (0 before it is read)."""
        if count.cpu_start is None or count.cpu_mark == count.ticks:
            return 0.0
        now = self.cpu_time(thread)
        return 0.0 if now is None else count.cpu_mark + now - count.cpu_start
