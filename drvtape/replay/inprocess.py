"""One replay run against an in-process target (sim: or py:).

A call whose memory was recorded gets MemoryRefs rebuilt from its blocks
(drvtape.runtime.memory); after it returns, what the driver wrote is compared with the
recording's return-phase blocks as for drvhost (memcompare), the first difference ending
the run."""

import ctypes
from bisect import bisect_left
from collections.abc import Callable, Sequence

from drvtape.errors import DrvtapeError
from drvtape.replay.call_table import column, entry_points, has_memory, order_fields
from drvtape.replay.memcompare import Compared, OutputTally, compare_outputs
from drvtape.replay.memory import CallMemory, MemoryPlan
from drvtape.replay.order import HappensBefore
from drvtape.runtime.faults import fault_of
from drvtape.runtime.memory import CallMemoryRebuilder, RebuiltCall
from drvtape.runtime.pointers import python_arg
from drvtape.runtime.schedule import Schedule, ScheduleOutcome, Threads, run_schedule
from drvtape.runtime.targets import RunningDriver, Target
from drvtape.schema.entry_points import DEVICE_OPEN, EntryPoint
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.outcome import COMPLETED, Diverged, Outcome, OutcomeKind, check_return
from drvtape.schema.recording import Recording
from drvtape.schema.values import as_signed64, as_unsigned64


def run_in_process(recording: Recording, target: Target, *, threads: Threads, timeout: float,
                   plan: MemoryPlan | None = None) -> tuple[Outcome, Compared]:
    """How the run ended, and what of the driver's output memory was compared (with plan's reads)."""
    running = target.start()
    tally = OutputTally()
    outcome = drive(recording, running, running.proc, threads=threads, timeout=timeout, plan=plan, tally=tally)[0]
    return outcome, tally.total


def drive(recording: Recording, running: RunningDriver, proc: Callable, *, threads: Threads,
          timeout: float, plan: MemoryPlan | None = None,
          tally: OutputTally | None = None) -> tuple[Outcome, ScheduleOutcome]:
    """Issue the recording's calls to proc (running's DriverProc, or a hook around it) on the
    replay schedule; the outcome, and the schedule's own account of the run. With a plan, each
    call's output memory is compared with the recording's (added to tally): the first
    difference ends the run as a divergence."""
    driving = Driving(recording.outcome, running, proc, tally)
    done = run_schedule(driving.schedule(recording, plan), running.coordinator, threads=threads,
                        cooperative=running.cooperative, timeout=timeout)
    return driving.outcome(done), done


class Driving:
    """One run's calls issued to proc, as schedules of a piece of the recording each (one
    piece: the whole recording; replay/streamed.py: a piece at a time, where no call was in
    flight). What spans pieces is held here: the happens-before's frontier, the ids this run's
    DRV_OPENs returned, the devices' instances."""

    def __init__(self, recorded: Outcome, running: RunningDriver, proc: Callable, tally: OutputTally | None):
        self.recorded = recorded
        self.proc = proc
        self.tally = tally
        self.devices = DeviceEntryPoints(running)
        self.order = HappensBefore()
        self.opened: dict[int, int] = {}  # index of a DRV_OPEN -> the dwDriverId it returned in this run
        self.calls: Sequence = ()  # the piece scheduled last

    def schedule(self, recording: Recording, plan: MemoryPlan | None) -> Schedule:
        """The schedule of the calls of `recording` (the next piece of the run's): its `after`
        names its own calls (those of earlier pieces have all returned before it starts)."""
        calls = recording.calls
        self.devices.need(calls)
        offset = self.order.fed
        afters, id_from = self.order.extend(order_fields(calls))
        if offset:
            afters = _within(afters, offset)
        planned = plan.calls if plan is not None else [None] * len(calls)
        # MemoryRefs for the calls whose memory was recorded (none without: it reads every call)
        memory = CallMemoryRebuilder(recording) if has_memory(calls) else None
        recorded, proc, devices, opened, tally = self.recorded, self.proc, self.devices, self.opened, self.tally
        driver_proc = EntryPoint.DRIVER_PROC

        def run(index: int) -> None:  # once per replayed call, on the path each thread hand-over waits on
            call = calls[index]
            rebuilt = None
            if call.payload is None and not call.memory_in:
                lparam1, lparam2 = call.lparam1, call.lparam2
            else:
                lparam1, lparam2, rebuilt = _lparams(call, memory)
            if call.entry_point is not driver_proc:
                actual = devices.call(call, lparam1, lparam2)
            else:
                driver_id = opened.get(id_from[index], call.driver_id)
                actual = as_signed64(proc(driver_id, call.hdrvr, call.msg, lparam1, lparam2))
            try:
                if call.msg == DRV_OPEN and call.result and actual and call.entry_point is driver_proc:
                    opened[offset + index] = as_unsigned64(actual)  # an LRESULT becomes a DWORD_PTR id
                if actual != call.result:  # an equal return always passes: check_return is not needed
                    check_return(call, actual, recorded)
                compare = planned[index]
                if compare is not None and compare.reads and rebuilt is not None:
                    _compare_outputs(recording, call, compare, rebuilt.outputs, tally)
            finally:
                if memory is not None:
                    memory.release_after(call)

        self.calls = calls
        return Schedule(column(calls, "thread"), column(calls, "seq"), afters, run)

    def ran(self) -> None:
        """The last piece's schedule completed: its calls are not needed any more."""
        self.calls = ()

    def outcome(self, done: ScheduleOutcome) -> Outcome:
        """How the run ended, from how its last schedule did."""
        if done.kind is OutcomeKind.COMPLETED:
            return COMPLETED
        seqs = column(self.calls, "seq")
        call = self.calls[bisect_left(seqs, done.unit.label)]  # the calls are in seq order
        if done.kind is OutcomeKind.HANG:
            return Outcome(OutcomeKind.HANG, seq=call.seq, msg=call.msg, cls=call.cls)
        if done.kind is OutcomeKind.DIVERGED:
            return done.error.outcome
        fault = fault_of(done.error)
        return Outcome(OutcomeKind.FAULT, seq=call.seq, msg=call.msg, code=fault.code, module=fault.module,
                       offset=fault.offset, cls=call.cls)


def _within(afters: list[tuple[int, ...]], offset: int) -> list[tuple[int, ...]]:
    """afters (indices counted from a run's first call) as indices into the piece starting at
    offset, without those before it. A thread's calls share one tuple while no return comes
    between them: each is made once."""
    made: dict[tuple[int, ...], tuple[int, ...]] = {}
    out = []
    for after in afters:
        if after:
            local = made.get(after)
            if local is None:
                local = made[after] = tuple(k - offset for k in after if k >= offset)
            after = local
        out.append(after)
    return out


class DeviceEntryPoints:
    """A Python target's device entry points: methods named wodMessage ... auxMessage on its
    DriverProc object, called (uDeviceID, uMsg, dwUser, dwParam1, dwParam2). An open's dwUser
    is a ctypes.c_size_t whose value the driver sets to its instance; the recorded instance
    is mapped to it for the device's later calls, as drvhost does."""

    def __init__(self, running: RunningDriver):
        self._running = running
        self._procs: dict[EntryPoint, Callable] = {}
        self._instances: dict[int, int] = {}  # recorded instance -> this run's

    def need(self, calls) -> None:
        """Find the entry points these calls are made at; DrvtapeError when the target lacks one."""
        needed = dict.fromkeys(ep for ep in entry_points(calls) if ep is not EntryPoint.DRIVER_PROC)
        found = {ep: getattr(self._running.proc, ep.value, None) for ep in needed if ep not in self._procs}
        missing = [ep.value for ep, proc in found.items() if not callable(proc)]
        if missing:
            raise DrvtapeError(f"the target has no {', '.join(missing)}: the session calls it (a Python target's "
                               "device entry points are methods of that name)")
        self._procs.update(found)

    def call(self, call, lparam1, lparam2) -> int:
        proc = self._procs[call.entry_point]
        if DEVICE_OPEN.get(call.entry_point) != call.msg:
            user = self._instances.get(call.driver_id, call.driver_id)
            return as_signed64(proc(call.hdrvr, call.msg, user, lparam1, lparam2))
        user = ctypes.c_size_t(0)
        result = as_signed64(proc(call.hdrvr, call.msg, user, lparam1, lparam2))
        if result == 0 and call.returned_id:
            self._instances[call.returned_id] = user.value
        return result


def _lparams(call, memory: CallMemoryRebuilder) -> tuple[object, object, RebuiltCall | None]:
    """A call's lParams (a payload's Python value, or the MemoryRefs rebuilt for its recorded
    memory) and what was rebuilt."""
    payload = call.payload
    lparam1 = call.lparam1 if payload is None else python_arg(call.lparam1, payload.lparam1)
    lparam2 = call.lparam2 if payload is None else python_arg(call.lparam2, payload.lparam2)
    rebuilt = memory.call_memory(call) if call.memory_in else None  # built when it runs: shared blocks
    if rebuilt is not None:
        return rebuilt.lparam1, rebuilt.lparam2, rebuilt
    return lparam1, lparam2, None


def _compare_outputs(recording: Recording, call, planned: CallMemory, outputs: dict, tally: OutputTally | None) -> None:
    """Raise Diverged at the first output byte the driver wrote otherwise than recorded."""
    wrote = [(r.block, 0, bytes(outputs[r.recorded.path].data) if r.recorded.path in outputs else b"")
             for r in planned.reads]
    compared = compare_outputs(recording, call.seq, planned.name, planned.reads, wrote)
    if tally is not None:
        tally.add(compared)
    if compared.difference is not None:
        raise Diverged(compared.difference.outcome(call))
