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


@dataclass(frozen=True)
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
    """One replay thread standing for one recorded thread."""

    def __init__(self, run: _FaithfulRun, key: Hashable):
        self.run = run
        self.key = key
        self.job: Unit | None = None
        self.index = -1  # the job's position in the units
        self.started_at: float | None = None
        self.quit = False
        self.ident: int | None = None
        self.thread = threading.Thread(target=self._loop, name=f"drvtape-lane-{key}", daemon=True)
        self.thread.start()

    @property
    def busy(self) -> bool:
        return self.job is not None

    def _loop(self) -> None:
        run, cond = self.run, self.run.coord.cond
        with cond:
            self.ident = threading.get_ident()
            while True:
                while self.job is None and not self.quit:
                    cond.wait()
                if self.quit:
                    return
                unit = self.job
                self.started_at = time.monotonic()
                cond.notify_all()
                try:
                    if run.cooperative:
                        unit.run()
                    else:
                        cond.release()
                        try:
                            unit.run()
                        finally:
                            cond.acquire()
                except Abandoned:
                    return
                except BaseException as exc:  # noqa: BLE001 - the process "crashed"
                    if run.stopped is None:
                        run.stopped = (unit, exc)
                    run.coord.abandon()
                    return
                if run.coord.abandoned:
                    return
                run.returned[self.index] = True
                self.job = None
                self.started_at = None
                if run.cooperative:
                    run.coord.running -= 1
                    run.coord.wake_ready()
                cond.notify_all()


class _FaithfulRun:
    def __init__(self, coordinator: Coordinator, cooperative: bool, timeout: float):
        self.coord = coordinator
        self.cooperative = cooperative
        self.timeout = timeout
        self.lanes: dict[Hashable, _Lane] = {}
        self.stopped: tuple[Unit, BaseException] | None = None
        self.returned: list[bool] = []

    def execute(self, units: Sequence[Unit]) -> ScheduleOutcome:
        coord = self.coord
        coord.serial = False
        returned = self.returned = [False] * len(units)
        with coord.cond:
            for index, unit in enumerate(units):
                lane = self.lanes.get(unit.thread)
                if lane is None:
                    lane = self.lanes[unit.thread] = _Lane(self, unit.thread)
                if not self._wait_for(lambda: not lane.busy and all(returned[d] for d in unit.after)):
                    break
                lane.job = unit
                lane.index = index
                lane.started_at = None
                if self.cooperative:
                    coord.running += 1
                coord.cond.notify_all()
                # issued = the lane has entered the unit; only then may a later unit go
                if not self._wait_for(lambda: lane.started_at is not None or not lane.busy):
                    break
            else:
                self._wait_for(lambda: not any(ln.busy for ln in self.lanes.values()))
            outcome = self._outcome()
            coord.abandon()
            for lane in self.lanes.values():
                lane.quit = True
            coord.cond.notify_all()
        return outcome

    def _wait_for(self, done: Callable[[], bool]) -> bool:
        """Wait (lock held) until done(); False when the run stopped or a call hung."""
        coord = self.coord
        while True:
            if self.stopped is not None:
                return False
            if done():
                return True
            if self.cooperative:
                if coord.running == 0 and not coord.settle():
                    return False  # quiescent and nothing can wake: the busy lanes hang
                coord.cond.wait()
            else:
                oldest = min((ln.started_at for ln in self.lanes.values()
                              if ln.busy and ln.started_at is not None), default=None)
                if oldest is None:
                    coord.cond.wait()
                    continue
                left = oldest + self.timeout - time.monotonic()
                if left <= 0:
                    return False
                coord.cond.wait(left)

    def _outcome(self) -> ScheduleOutcome:
        idents = {k: ln.ident for k, ln in self.lanes.items() if ln.ident is not None}
        if self.stopped is not None:
            unit, exc = self.stopped
            return _stopped(unit, exc, idents)
        hung = sorted((ln.job for ln in self.lanes.values() if ln.busy), key=lambda u: u.label)
        if hung:
            return ScheduleOutcome(OutcomeKind.HANG, hung[0], hung=hung, idents=idents)
        return ScheduleOutcome(OutcomeKind.COMPLETED, idents=idents)


def run_faithful(units: Sequence[Unit], coordinator: Coordinator, *, cooperative: bool,
                 timeout: float) -> ScheduleOutcome:
    return _FaithfulRun(coordinator, cooperative, timeout).execute(units)


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
