"""The schedule shared by recording a workload and replaying a session.

Units (a replayed call, or a workload step) are issued in order. Thread-faithful: each
recorded thread gets its own OS thread, and a unit is released once every earlier unit has
been issued (entered), its own thread's previous unit has returned, and every unit it names
in `after` has returned (replay passes the recording's happens-before, replay/order.py; a
workload passes none, which is the rule it records under). Serial: one thread, in order.

A unit that raises stops the run (the process crashed, or a replay diverged). A unit that
never returns is a hang: detected at quiescence for cooperative (simulated) drivers, and
once it has been in flight `timeout` seconds of the time this process could run for the
others (runtime/hang_timer.py).
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial

from drvtape.runtime.coop import Coordinator
from drvtape.runtime.faults import Abandoned
from drvtape.runtime.hang_timer import HangTimer
from drvtape.schema.outcome import Diverged, OutcomeKind


class Threads(StrEnum):
    """How a run uses threads."""

    FAITHFUL = "faithful"  # a thread per recorded (or workload) thread, each in its own order
    SERIAL = "serial"  # every unit on one thread, in order


@dataclass(slots=True)  # not frozen: one is built per replayed call, and a frozen one costs 4x
class Unit:
    thread: Hashable
    run: Callable[[], object]
    label: int  # what reports name it by: a seq or a step number
    after: tuple[int, ...] = ()  # indices of earlier units that must have returned before this one is issued


@dataclass(frozen=True)
class Schedule:
    """A run's units as parallel sequences (position i is unit i) and one function that runs
    unit i: a replay builds no object per call (a Unit is made only to report one)."""

    threads: Sequence[Hashable]
    labels: Sequence[int]
    after: Sequence[tuple[int, ...]]
    run: Callable[[int], object]

    @classmethod
    def of(cls, units: Sequence[Unit]) -> Schedule:
        return cls([u.thread for u in units], [u.label for u in units], [u.after for u in units],
                   lambda i: units[i].run())

    def __len__(self) -> int:
        return len(self.labels)

    def unit(self, index: int) -> Unit:
        return Unit(self.threads[index], partial(self.run, index), self.labels[index], self.after[index])


@dataclass
class ScheduleOutcome:
    """How a schedule ended: COMPLETED (every unit returned, or one ended the run on purpose with
    StopRun), FAULT or DIVERGED (a unit raised `error`; whether a FAULT is the driver's, the
    caller knows), or HANG (the `hung` units never returned)."""

    kind: OutcomeKind
    unit: Unit | None = None  # the unit that stopped the run, or the oldest one that never returned
    error: BaseException | None = None
    hung: list[Unit] = field(default_factory=list)
    idents: dict[Hashable, int] = field(default_factory=dict)  # recorded thread -> OS thread ident


class StopRun(Exception):
    """Raised by a unit to end the run early without it being a fault (e.g. a workload's exit)."""


def _stopped(unit: Unit, error: BaseException, idents: dict) -> ScheduleOutcome:
    """A unit raised: a fault unless it stopped the run on purpose (StopRun) or diverged."""
    kind = OutcomeKind.COMPLETED if isinstance(error, StopRun) else (
        OutcomeKind.DIVERGED if isinstance(error, Diverged) else OutcomeKind.FAULT)
    return ScheduleOutcome(kind, unit, error, idents=idents)


def run_serial(schedule: Schedule, coordinator: Coordinator) -> ScheduleOutcome:
    coordinator.serial = True
    run = schedule.run
    index = 0
    try:
        for index in range(len(schedule)):
            run(index)
    except Abandoned:
        unit = schedule.unit(index)
        return ScheduleOutcome(OutcomeKind.HANG, unit, hung=[unit], idents=_serial_idents(schedule, index))
    except BaseException as exc:  # noqa: BLE001 - any failure of the unit ends the run
        return _stopped(schedule.unit(index), exc, _serial_idents(schedule, index))
    return ScheduleOutcome(OutcomeKind.COMPLETED, idents=_serial_idents(schedule, len(schedule)))


def _serial_idents(schedule: Schedule, upto: int) -> dict[Hashable, int]:
    """Every recorded thread of the units up to `upto` (the one that ended the run included): this thread."""
    return dict.fromkeys(schedule.threads[:upto + 1], threading.get_ident())


class _Lane:
    """One replay thread standing for one recorded thread: it issues its own units, in order,
    each once it is released. Only the lane owning the next unit can be released, so a state
    change wakes that one lane (its own gate), never all of them; and it is woken once the
    waker has let go of the run's lock (handing over), so it does not wake only to wait for
    that lock: one switch per hand-over, as a bare two-thread baton."""

    def __init__(self, run: _FaithfulRun, key: Hashable, indices: Sequence[int]):
        self.run = run
        self.key = key
        self.indices = indices  # positions of this lane's units, in order
        self.next = indices[0]  # the position it waits to issue, or is running
        self.busy = False  # in a unit: released (cooperative) or entered, and not returned
        self.waiting = False  # blocked on gate until woken
        self.woken = False  # the waker counted it as running (cooperative)
        self.released = False  # woken by release_next: its unit may be issued
        self.finished = False  # issued all its units, or the run ended
        self.gate = threading.Lock()
        self.gate.acquire()
        self.ident: int | None = None
        self.thread = threading.Thread(target=self._loop, name=f"drvtape-lane-{key}", daemon=True)

    def wake(self) -> None:
        """Let the lane go (lock held; only when it is waiting)."""
        self.waiting = False
        self.gate.release()

    def _await_release(self, index: int) -> bool:
        """Block (lock held, released while blocked) until unit `index` may be issued; False
        when the run is over. A lane woken by release_next goes without testing again: what
        the waker saw returned stays returned, and only this lane can issue `index`."""
        run, cond = self.run, self.run.coord.cond
        while not run.over:
            self.waiting = True
            run.notify_if_still()
            run.unlock()
            self.gate.acquire()
            cond.acquire()
            if self.released:
                self.released = False
                return not run.over
            if run.releasable(index):
                return not run.over
        return False

    def _loop(self) -> None:
        self.run.coord.cond.acquire()
        self.ident = threading.get_ident()
        try:
            self._issue_all()
        finally:
            self.finished = True
            self.run.notify_if_still()
            self.run.unlock()

    def _issue_all(self) -> None:
        # This loop runs once per replayed call, on the path every hand-over waits on: locals
        # instead of attribute look-ups, the release test inlined, no clock read.
        run, coord = self.run, self.run.coord
        cond, returned, after, total = coord.cond, run.returned, run.schedule.after, run.total
        cooperative = run.cooperative
        for index in self.indices:
            self.next = index
            ready = run.issued == index and not run.over
            if ready:
                for d in after[index]:
                    if not returned[d]:
                        ready = False
                        break
            if not ready and not self._await_release(index):
                return
            if cooperative:
                if not self.woken:
                    coord.running += 1
                self.woken = False
            self.busy = True
            run.issued = index + 1
            run.release_next(handover=not cooperative)  # a cooperative unit may wait, lock held
            if not self._issue(index):
                return
            returned[index] = True
            run.returns += 1
            self.busy = False
            if cooperative:
                coord.running -= 1
                coord.wake_ready()
            run.release_next(handover=True)
            if run.returns == total or (cooperative and coord.running == 0):
                cond.notify_all()  # the end, or maybe quiescent: the caller's thread decides

    def _issue(self, index: int) -> bool:
        """Run unit `index` (lock held; released around a non-cooperative driver); False when
        the run is over."""
        run, cond = self.run, self.run.coord.cond
        try:
            if run.cooperative:
                run.schedule.run(index)
            else:
                run.unlock()
                try:
                    run.schedule.run(index)
                finally:
                    cond.acquire()
        except Abandoned:
            return False
        except BaseException as exc:  # noqa: BLE001 - the process "crashed"
            if run.stopped is None:
                run.stopped = (index, exc)
            run.coord.abandon()
            return False
        return not run.coord.abandoned


class _FaithfulRun:
    """Units issued in order, each on its thread's lane, under the happens-before they carry.
    The lanes hand the run to each other; the caller's thread only waits for the end, watches
    for hangs and, for cooperative drivers, settles the system when it is quiescent."""

    def __init__(self, coordinator: Coordinator, cooperative: bool, timeout: float, schedule: Schedule):
        self.coord = coordinator
        self.cooperative = cooperative
        self.timeout = timeout
        self.schedule = schedule
        self.total = len(schedule)
        self.stopped: tuple[int, BaseException] | None = None  # the unit that raised, and what
        self.returned = bytearray(self.total)  # 1 once unit i returned
        self.returns = 0
        self.issued = 0  # units entered so far: unit `issued` is the only one that can be released next
        self.over = False
        self.handing_to: _Lane | None = None  # released, to be woken when the lock is let go (unlock)
        positions: dict[Hashable, array] = {}  # 8 bytes a unit: a list held an int object per unit too
        for index, thread in enumerate(schedule.threads):
            positions.setdefault(thread, array("q")).append(index)
        self.lanes = {key: _Lane(self, key, indices) for key, indices in positions.items()}
        self.owner = [self.lanes[thread] for thread in schedule.threads]

    def releasable(self, index: int) -> bool:
        """Lock held: unit `index` may be issued (its lane's previous unit has returned: the
        lane only asks once it has)."""
        if self.issued != index:
            return False
        returned = self.returned
        for d in self.schedule.after[index]:  # a loop, not all(genexpr): this runs for every call
            if not returned[d]:
                return False
        return True

    def release_next(self, *, handover: bool) -> None:
        """Lock held: release the lane owning the next unit if it is waiting and may go now;
        woken at once, or with handover when the caller next lets go of the lock (unlock)."""
        issued = self.issued
        if issued < self.total:
            lane = self.owner[issued]
            if lane.waiting and lane.next == issued:
                returned = self.returned
                for d in self.schedule.after[issued]:  # releasable(issued), inlined: once per unit
                    if not returned[d]:
                        return
                lane.released = True
                if self.cooperative:
                    self.coord.running += 1
                    lane.woken = True
                if handover:
                    lane.waiting = False
                    self.handing_to = lane
                else:
                    lane.wake()

    def unlock(self) -> None:
        """Let go of the lock (held), then wake the lane released for hand-over, if any."""
        lane, self.handing_to = self.handing_to, None
        self.coord.cond.release()
        if lane is not None:
            lane.gate.release()

    def execute(self) -> ScheduleOutcome:
        coord = self.coord
        coord.serial = False
        with coord.cond:
            for lane in self.lanes.values():
                lane.thread.start()
            self._wait_for_end()
            outcome = self._outcome()
            self.over = True
            coord.abandon()
            for lane in self.lanes.values():
                if lane.waiting:
                    lane.wake()
            # No lane looks at these once the run is over: dropped, the lanes and the run make no
            # cycle, and the units go when the caller drops them instead of at the next full collection.
            self.lanes, self.owner = {}, []
        return outcome

    def _wait_for_end(self) -> None:
        """Wait (lock held) until every unit returned, one stopped the run, or a unit hung:
        cooperative, when nothing can run any more; otherwise by the hang timer's count."""
        coord, cond = self.coord, self.coord.cond
        timer = HangTimer(self.timeout)
        while self.stopped is None and self.returns < self.total:
            if self.cooperative:
                if coord.running == 0 and self._quiescent() and not coord.settle():
                    return  # nothing can wake: the busy lanes hang
                cond.wait()
            else:
                length = timer.tick()
                started = time.monotonic()
                timed_out = not cond.wait(length)
                in_flight = {ln: ln.next for ln in self.lanes.values() if ln.busy}
                if timer.expired(in_flight, length, time.monotonic() - started, timed_out):
                    return

    def _quiescent(self) -> bool:
        """Lock held, cooperative, no driver code running: no lane is on its way to issue or
        wait (each is blocked at its gate, in a call, or done)."""
        return all(ln.waiting or ln.busy or ln.finished for ln in self.lanes.values())

    def notify_if_still(self) -> None:
        """Lock held: a cooperative run may have become quiescent; the caller's thread decides."""
        if self.cooperative and self.coord.running == 0:
            self.coord.cond.notify_all()

    def _outcome(self) -> ScheduleOutcome:
        idents = {k: ln.ident for k, ln in self.lanes.items() if ln.ident is not None}
        if self.stopped is not None:
            index, exc = self.stopped
            return _stopped(self.schedule.unit(index), exc, idents)
        hung = [self.schedule.unit(i) for i in sorted(ln.next for ln in self.lanes.values() if ln.busy)]
        if hung:
            return ScheduleOutcome(OutcomeKind.HANG, hung[0], hung=hung, idents=idents)
        return ScheduleOutcome(OutcomeKind.COMPLETED, idents=idents)


def run_faithful(schedule: Schedule, coordinator: Coordinator, *, cooperative: bool,
                 timeout: float) -> ScheduleOutcome:
    return _FaithfulRun(coordinator, cooperative, timeout, schedule).execute()


def run_schedule(units: Sequence[Unit] | Schedule, coordinator: Coordinator, *, threads: Threads = Threads.FAITHFUL,
                 cooperative: bool = True, timeout: float = 5.0) -> ScheduleOutcome:
    """Run units thread-faithfully or serially.

    Cooperative drivers run a single thread's units on the caller's thread; the others always
    run on a lane so that a call that never returns can be timed out.
    """
    threads = Threads(threads)
    schedule = units if isinstance(units, Schedule) else Schedule.of(units)
    if cooperative and (threads is Threads.SERIAL or len(set(schedule.threads)) <= 1):
        return run_serial(schedule, coordinator)
    if threads is Threads.SERIAL:
        schedule = replace(schedule, threads=[0] * len(schedule))
    return run_faithful(schedule, coordinator, cooperative=cooperative, timeout=timeout)
