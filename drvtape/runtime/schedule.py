"""The schedule shared by recording a workload and replaying a session.

Units (a replayed call, or a workload step) are issued in order. Thread-faithful: each
recorded thread gets its own OS thread, and a unit is released once every earlier unit has
been issued (entered), its own thread's previous unit has returned, and every unit it names
in `after` has returned (replay passes the recording's happens-before, replay/order.py; a
workload passes none, which is the rule it records under). Serial: one thread, in order.

A unit that raises stops the run (the process crashed, or a replay diverged). A unit that
never returns is a hang: detected at quiescence for cooperative (simulated) drivers, and
after `timeout` seconds for the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from drvtape.runtime.coop import Coordinator
from drvtape.runtime.faults import Abandoned
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


def run_serial(units: Sequence[Unit], coordinator: Coordinator) -> ScheduleOutcome:
    coordinator.serial = True
    ident = threading.get_ident()
    idents = {}
    for unit in units:
        idents.setdefault(unit.thread, ident)
        try:
            unit.run()
        except Abandoned:
            return ScheduleOutcome(OutcomeKind.HANG, unit, hung=[unit], idents=idents)
        except BaseException as exc:  # noqa: BLE001 - any failure of the unit ends the run
            return _stopped(unit, exc, idents)
    return ScheduleOutcome(OutcomeKind.COMPLETED, idents=idents)


class _Lane:
    """One replay thread standing for one recorded thread: it issues its own units, in order,
    each once it is released. Only the lane owning the next unit can be released, so a state
    change wakes that one lane (its own gate), never all of them; and it is woken once the
    waker has let go of the run's lock (handing over), so it does not wake only to wait for
    that lock: one switch per hand-over, as a bare two-thread baton."""

    def __init__(self, run: _FaithfulRun, key: Hashable, indices: list[int]):
        self.run = run
        self.key = key
        self.indices = indices  # positions of this lane's units, in order
        self.next = indices[0]  # the position it waits to issue, or is running
        self.busy = False  # in a unit: released (cooperative) or entered, and not returned
        self.started_at: float | None = None
        self.waiting = False  # blocked on gate until woken
        self.woken = False  # the waker counted it as running (cooperative)
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
        when the run is over."""
        run, cond = self.run, self.run.coord.cond
        while not run.over and not run.releasable(index):
            self.waiting = True
            run.notify_if_still()
            run.unlock()
            self.gate.acquire()
            cond.acquire()
        return not run.over

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
        # This loop runs once per replayed call: locals instead of attribute look-ups.
        run, coord, units, returned = self.run, self.run.coord, self.run.units, self.run.returned
        cooperative, total = run.cooperative, len(self.run.units)
        for index in self.indices:
            self.next = index
            if (run.over or not run.releasable(index)) and not self._await_release(index):
                return
            if cooperative and not self.woken:
                coord.running += 1
            self.woken = False
            self.busy = True
            if not cooperative:  # cooperative hangs are found at quiescence, not timed
                self.started_at = time.monotonic()
            run.issued = index + 1
            run.release_next(handover=not cooperative)  # a cooperative unit may wait, lock held
            if not self._issue(units[index]):
                return
            returned[index] = True
            run.returns += 1
            self.busy = False
            self.started_at = None
            if cooperative:
                coord.running -= 1
                coord.wake_ready()
            run.release_next(handover=True)
            if run.returns == total:
                coord.cond.notify_all()
            elif cooperative and coord.running == 0:
                coord.cond.notify_all()  # maybe quiescent: the caller's thread decides

    def _issue(self, unit: Unit) -> bool:
        """Run the unit (lock held; released around a non-cooperative driver); False when the
        run is over."""
        run, cond = self.run, self.run.coord.cond
        try:
            if run.cooperative:
                unit.run()
            else:
                run.unlock()
                try:
                    unit.run()
                finally:
                    cond.acquire()
        except Abandoned:
            return False
        except BaseException as exc:  # noqa: BLE001 - the process "crashed"
            if run.stopped is None:
                run.stopped = (unit, exc)
            run.coord.abandon()
            return False
        return not run.coord.abandoned


class _FaithfulRun:
    """Units issued in order, each on its thread's lane, under the happens-before they carry.
    The lanes hand the run to each other; the caller's thread only waits for the end, watches
    for hangs and, for cooperative drivers, settles the system when it is quiescent."""

    def __init__(self, coordinator: Coordinator, cooperative: bool, timeout: float, units: Sequence[Unit]):
        self.coord = coordinator
        self.cooperative = cooperative
        self.timeout = timeout
        self.units = units
        self.stopped: tuple[Unit, BaseException] | None = None
        self.returned = [False] * len(units)
        self.returns = 0
        self.issued = 0  # units entered so far: units[issued] is the only one that can be released next
        self.over = False
        self.handing_to: _Lane | None = None  # released, to be woken when the lock is let go (unlock)
        positions: dict[Hashable, list[int]] = {}
        for index, unit in enumerate(units):
            positions.setdefault(unit.thread, []).append(index)
        self.lanes = {key: _Lane(self, key, indices) for key, indices in positions.items()}
        self.owner = [self.lanes[unit.thread] for unit in units]

    def releasable(self, index: int) -> bool:
        """Lock held: unit `index` may be issued (its lane's previous unit has returned: the
        lane only asks once it has)."""
        if self.issued != index:
            return False
        returned = self.returned
        for d in self.units[index].after:  # a loop, not all(genexpr): this runs for every call
            if not returned[d]:
                return False
        return True

    def release_next(self, *, handover: bool) -> None:
        """Lock held: release the lane owning the next unit if it is waiting and may go now;
        woken at once, or with handover when the caller next lets go of the lock (unlock)."""
        if self.issued < len(self.units):
            lane = self.owner[self.issued]
            if lane.waiting and lane.next == self.issued and self.releasable(self.issued):
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
        """Wait (lock held) until every unit returned, one stopped the run, or a call hung."""
        coord = self.coord
        while self.stopped is None and self.returns < len(self.units):
            if self.cooperative:
                if coord.running == 0 and self._quiescent() and not coord.settle():
                    return  # nothing can wake: the busy lanes hang
                coord.cond.wait()
            else:
                oldest = min((ln.started_at for ln in self.lanes.values() if ln.busy), default=None)
                left = self.timeout if oldest is None else oldest + self.timeout - time.monotonic()
                if left <= 0:
                    return
                coord.cond.wait(left)

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
            unit, exc = self.stopped
            return _stopped(unit, exc, idents)
        hung = sorted((self.units[ln.next] for ln in self.lanes.values() if ln.busy), key=lambda u: u.label)
        if hung:
            return ScheduleOutcome(OutcomeKind.HANG, hung[0], hung=hung, idents=idents)
        return ScheduleOutcome(OutcomeKind.COMPLETED, idents=idents)


def run_faithful(units: Sequence[Unit], coordinator: Coordinator, *, cooperative: bool,
                 timeout: float) -> ScheduleOutcome:
    return _FaithfulRun(coordinator, cooperative, timeout, units).execute()


def run_schedule(units: Sequence[Unit], coordinator: Coordinator, *, threads: Threads = Threads.FAITHFUL,
                 cooperative: bool = True, timeout: float = 5.0) -> ScheduleOutcome:
    """Run units thread-faithfully or serially.

    Cooperative drivers run a single thread's units on the caller's thread; the others always
    run on a lane so that a call that never returns can be timed out.
    """
    threads = Threads(threads)
    if cooperative and (threads is Threads.SERIAL or len({u.thread for u in units}) <= 1):
        return run_serial(units, coordinator)
    if threads is Threads.SERIAL:
        units = [replace(u, thread=0) for u in units]
    return run_faithful(units, coordinator, cooperative=cooperative, timeout=timeout)
