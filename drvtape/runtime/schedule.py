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
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial

from drvtape.runtime.coop import Coordinator
from drvtape.runtime.faults import Abandoned
from drvtape.runtime.handover import closed_gate
from drvtape.runtime.hang_timer import HangTimer, ThreadCpuClock, cpu_seconds, own_cpu_clock
from drvtape.runtime.lane_plan import NOBODY, plan_lanes
from drvtape.runtime.lane_threads import LaneThreads
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


_LET_GO = object()  # in _FaithfulRun.meet: the unit was let go before its lane got to it


class _Lane:
    """One replay thread standing for one recorded thread: it issues its own units in order,
    waiting only where the plan says another lane's issue or return comes first
    (runtime/lane_plan.py). The lane completing the last of those lets it go by opening its
    gate; a lane's consecutive units need none. A lane that let others go opens their gates
    when it next waits, and then hands over to one of them in one step with the GIL let go
    first (runtime/handover.py), or before its next unit runs when that one need not wait.
    Cooperative drivers run holding the coordinator's lock: a lane that lets another go and
    then waits passes that lock on to it instead of letting go of it."""

    def __init__(self, run: _FaithfulRun, key: Hashable, indices: Sequence[int]):
        self.run = run
        self.key = key
        self.indices = indices  # positions of this lane's units, in order
        self.next = indices[0]  # the position it waits to issue, or is running
        self.busy = False  # in a unit: entered and not returned
        self.handed = False  # cooperative: woken holding the coordinator's lock (its waker passed it on)
        self.finished = False  # issued all its units and they returned
        self.gate = closed_gate()
        self.ident: int | None = None
        self.cpu_clock: ThreadCpuClock | None = None  # its thread's CPU-time clock (hang_timer), when not cooperative

    def loop(self) -> None:
        """The lane's work, run on its OS thread (LaneThreads)."""
        self.ident = threading.get_ident()
        if self.run.cooperative:
            self._issue_cooperative()
        else:
            self.cpu_clock = own_cpu_clock()
            self._issue_free()

    def _issue_free(self) -> None:
        """A non-cooperative driver: units run with no lock held. These loops run once per
        replayed call, on the path every hand-over waits on: locals, arrays, no clock."""
        run = self.run
        plan, meet, let_go, gate, unit_run = run.plan, run.meet, run.let_go, self.gate, run.schedule.run
        waits, issue_next, return_next, return_more = plan.waits, plan.issue_next, plan.return_next, plan.return_more
        woken: list[_Lane] = []  # lanes this one let go, their gates not opened yet
        try:
            for index in self.indices:
                self.next = index
                if waits[index]:
                    if meet.setdefault(index, self) is self:  # it waits: the last event it waits for wakes it
                        if run.over:
                            return
                        if woken:
                            gate.pass_to(_open_all_but_one(woken).gate)
                        else:
                            gate.acquire()
                    else:
                        meet.pop(index, None)
                if woken:
                    _open_all(woken)
                if run.over:
                    return
                self.busy = True
                if issue_next[index] >= 0 and (lane := let_go(issue_next[index])) is not None:
                    lane.gate.release()
                try:
                    unit_run(index)
                except Abandoned:
                    return
                except BaseException as exc:  # noqa: BLE001 - the process "crashed"
                    with run.coord.cond:
                        run.stop(index, exc)
                    return
                self.busy = False
                waiting = return_next[index]
                if waiting >= 0:
                    if (lane := let_go(waiting)) is not None:
                        woken.append(lane)
                elif waiting != NOBODY:
                    woken.extend(lane for unit in return_more[index] if (lane := let_go(unit)) is not None)
            _open_all(woken)
            with run.coord.cond:
                self.finished = True
                run.coord.cond.notify_all()  # maybe the end: the caller's thread decides
        finally:
            _open_all(woken)

    def _issue_cooperative(self) -> None:
        """A cooperative driver: units run holding the coordinator's lock, which this lane
        holds from one unit to the next until it waits. coord.running counts the lanes that
        can go on (this one until it waits or leaves; one it lets go from then on)."""
        run, coord = self.run, self.run.coord
        plan, meet, let_go, unit_run = run.plan, run.meet, run.let_go, run.schedule.run
        waits, issue_next, return_next, return_more = plan.waits, plan.issue_next, plan.return_next, plan.return_more
        woken: list[_Lane] = []  # lanes this one let go, woken when it waits (one is handed the lock) or goes on
        coord.cond.acquire()
        try:
            for index in self.indices:
                self.next = index
                if run.over:  # the end's sweep (lock held) has woken every lane it found waiting
                    return
                if waits[index]:
                    if meet.setdefault(index, self) is self:
                        self._wait(woken)
                        if run.over:
                            return
                    else:
                        meet.pop(index, None)
                if woken:
                    _open_all(woken)
                self.busy = True
                if issue_next[index] >= 0 and (lane := let_go(issue_next[index])) is not None:
                    coord.running += 1
                    lane.gate.release()  # it waits for this lock, held while the unit runs
                try:
                    unit_run(index)
                except Abandoned:
                    return
                except BaseException as exc:  # noqa: BLE001 - the process "crashed"
                    run.stop(index, exc)
                    return
                self.busy = False
                coord.wake_ready()
                waiting = return_next[index]
                if waiting >= 0:
                    if (lane := let_go(waiting)) is not None:
                        coord.running += 1
                        woken.append(lane)
                elif waiting != NOBODY:
                    for unit in return_more[index]:
                        if (lane := let_go(unit)) is not None:
                            coord.running += 1
                            woken.append(lane)
            self.finished = True
        finally:
            self._leave(woken)

    def _wait(self, woken: list[_Lane]) -> None:
        """Cooperative, lock held: block until let go; the lock is held again after. A lane
        this one let go is handed the lock (it is woken last: nothing runs here after that)."""
        coord = self.run.coord
        coord.running -= 1
        if woken:
            first = _open_all_but_one(woken)
            first.handed = True
            self.gate.pass_to(first.gate)
        else:
            if coord.running == 0:
                coord.cond.notify_all()  # maybe quiescent: the caller's thread decides
            coord.cond.release()
            self.gate.acquire()
        if self.handed:
            self.handed = False
        else:
            coord.cond.acquire()

    def _leave(self, woken: list[_Lane]) -> None:
        """Cooperative, lock held: this lane is done (or the run is over)."""
        coord = self.run.coord
        coord.running -= 1
        coord.cond.notify_all()  # the end, or maybe quiescent: the caller's thread decides
        coord.cond.release()
        _open_all(woken)


def _open_all(lanes: list[_Lane]) -> None:
    """Open the gates of the lanes let go (each was popped from the run's meet once), and forget them."""
    for lane in lanes:
        lane.gate.release()
    lanes.clear()


def _open_all_but_one(lanes: list[_Lane]) -> _Lane:
    """Open the gates of all the lanes let go but the last, which is returned (to be handed over to)."""
    last = lanes.pop()
    _open_all(lanes)
    return last


class _FaithfulRun:
    """Units issued in order, each on its thread's lane, under the happens-before they carry.
    The lanes let each other go; the caller's thread only waits for the end, watches for
    hangs and, for cooperative drivers, settles the system when it is quiescent."""

    def __init__(self, coordinator: Coordinator, cooperative: bool, timeout: float, schedule: Schedule,
                 threads: LaneThreads):
        self.coord = coordinator
        self.threads = threads
        self.cooperative = cooperative
        self.timeout = timeout
        self.schedule = schedule
        self.plan = plan_lanes(schedule.threads, schedule.after)
        self.waits = self.plan.waits
        self.pending = array("i", self.plan.waits)  # per unit: the events it still waits for (read when > 1)
        self.count_lock = threading.Lock()
        self.meet: dict[int, object] = {}  # unit -> its lane waiting for it, or _LET_GO
        self.stopped: tuple[int, BaseException] | None = None  # the unit that raised, and what
        self.over = False
        self.lanes = {key: _Lane(self, key, indices) for key, indices in self.plan.lanes.items()}

    def let_go(self, unit: int) -> _Lane | None:
        """One event `unit` waits for happened: its lane when that was the last one and the lane
        is waiting for it (the caller wakes it), else None."""
        if self.waits[unit] > 1:
            with self.count_lock:
                left = self.pending[unit] - 1
                self.pending[unit] = left
            if left:
                return None
        # setdefault and pop are each one step under the GIL: of the lane getting to its unit and
        # the last event letting it go, the second finds the first one's mark, and only one of
        # this and the end's sweep pops a waiting lane (so its gate is released once).
        lane = self.meet.setdefault(unit, _LET_GO)
        if lane is _LET_GO or self.meet.pop(unit, None) is not lane:
            return None
        return lane

    def stop(self, index: int, error: BaseException) -> None:
        """Lock held: unit `index` raised; the run ends."""
        if self.stopped is None:
            self.stopped = (index, error)
        self.over = True
        self.coord.abandon()

    def execute(self) -> ScheduleOutcome:
        coord = self.coord
        coord.serial = False
        with coord.cond:
            if self.cooperative:
                coord.running = len(self.lanes)  # each counts itself until it waits
            for lane in self.lanes.values():
                self.threads.start(lane.key, lane.loop)
            self._wait_for_end()
            outcome = self._outcome()
            self.over = True
            coord.abandon()
            self._sweep()
            # No lane looks at these once the run is over: dropped, the lanes and the run make no
            # cycle, and the units go when the caller drops them instead of at the next full collection.
            self.lanes = {}
        return outcome

    def _sweep(self) -> None:
        """The run is over: wake every lane waiting at its gate (it sees the run is over)."""
        for unit in list(self.meet):
            lane = self.meet.pop(unit, None)
            if isinstance(lane, _Lane):
                lane.gate.release()

    def _wait_for_end(self) -> None:
        """Wait (lock held) until every lane finished, a unit stopped the run, or a unit hung:
        cooperative, when nothing can run any more; otherwise by the hang timer's count."""
        coord, cond, lanes = self.coord, self.coord.cond, list(self.lanes.values())
        timer = HangTimer(self.timeout, cpu_time=lambda lane: cpu_seconds(lane.cpu_clock))
        while self.stopped is None and not all(lane.finished for lane in lanes):
            if self.cooperative:
                if coord.running == 0 and not coord.settle():
                    return  # nothing can wake: the busy lanes hang
                cond.wait()
            else:
                length = timer.tick()
                started = time.monotonic()
                timed_out = not cond.wait(length)
                in_flight = {lane: lane.next for lane in lanes if lane.busy}
                if timer.expired(in_flight, length, time.monotonic() - started, timed_out):
                    return

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
                 timeout: float, threads: LaneThreads | None = None) -> ScheduleOutcome:
    """threads: the lanes' OS threads when they outlive this run (run_schedules), else its own."""
    lanes = threads or LaneThreads()
    try:
        return _FaithfulRun(coordinator, cooperative, timeout, schedule, lanes).execute()
    finally:
        if threads is None:
            lanes.close()


def run_schedule(units: Sequence[Unit] | Schedule, coordinator: Coordinator, *, threads: Threads = Threads.FAITHFUL,
                 cooperative: bool = True, timeout: float = 5.0) -> ScheduleOutcome:
    """Run units thread-faithfully or serially.

    Cooperative drivers run a single thread's units on the caller's thread; the others always
    run on a lane so that a call that never returns can be timed out.
    """
    schedule = units if isinstance(units, Schedule) else Schedule.of(units)
    return run_schedules([schedule], coordinator, threads=threads, cooperative=cooperative, timeout=timeout,
                         recorded_threads=len(set(schedule.threads)))


def run_schedules(pieces: Iterable[Schedule], coordinator: Coordinator, *, threads: Threads = Threads.FAITHFUL,
                  cooperative: bool = True, timeout: float = 5.0, recorded_threads: int) -> ScheduleOutcome:
    """Run one schedule given in pieces, each begun once the one before has ended with every
    unit returned (a streamed replay cuts the recording where no call was in flight, so no
    unit of a piece may start before that), the first not COMPLETED ending the run. A piece's
    `after` names its own units. Serial or on lanes is decided once, by the recorded threads
    of the whole: a recorded thread keeps one OS thread throughout (a driver may tell)."""
    threads = Threads(threads)
    serial = cooperative and (threads is Threads.SERIAL or recorded_threads <= 1)
    lanes = LaneThreads()
    done = ScheduleOutcome(OutcomeKind.COMPLETED)
    try:
        for number, schedule in enumerate(pieces):
            if serial:
                done = run_serial(schedule, coordinator)
            else:
                if threads is Threads.SERIAL:
                    schedule = replace(schedule, threads=[0] * len(schedule))
                if number:
                    coordinator.abandoned = False  # the piece before ended with nothing left waiting
                done = run_faithful(schedule, coordinator, cooperative=cooperative, timeout=timeout, threads=lanes)
            if done.kind is not OutcomeKind.COMPLETED or done.unit is not None:  # a unit's StopRun ends it too
                return done
            del schedule  # not held while the next piece is made
        return done
    finally:
        lanes.close()
