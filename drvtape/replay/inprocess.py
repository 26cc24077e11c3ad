"""One replay run against an in-process target (sim: or py:).

A call whose memory was recorded gets MemoryRefs rebuilt from its blocks
(drvtape.runtime.memory); after it returns, what the driver wrote is compared with the
recording's return-phase blocks as for drvhost (memcompare), the first difference ending
the run."""

from collections.abc import Callable
from functools import partial

from drvtape.replay.memcompare import Compared, OutputTally, compare_outputs
from drvtape.replay.memory import CallMemory, MemoryPlan
from drvtape.replay.order import call_orders
from drvtape.runtime.faults import fault_of
from drvtape.runtime.memory import CallMemoryRebuilder
from drvtape.runtime.pointers import python_arg
from drvtape.runtime.schedule import ScheduleOutcome, Threads, Unit, run_schedule
from drvtape.runtime.targets import RunningDriver, Target
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
    recorded = recording.outcome
    calls = recording.calls
    orders = call_orders(calls)
    planned = plan.calls if plan is not None else [None] * len(calls)
    opened: dict[int, int] = {}  # index of a DRV_OPEN -> the dwDriverId it returned in this run
    memory = CallMemoryRebuilder(recording)  # MemoryRefs for the calls whose memory was recorded

    def run(index: int) -> None:
        call, payload = calls[index], calls[index].payload
        lparam1 = call.lparam1 if payload is None else python_arg(call.lparam1, payload.lparam1)
        lparam2 = call.lparam2 if payload is None else python_arg(call.lparam2, payload.lparam2)
        rebuilt = memory.call_memory(call) if call.memory_in else None  # built when it runs: shared blocks
        if rebuilt is not None:
            lparam1, lparam2 = rebuilt.lparam1, rebuilt.lparam2
        driver_id = opened.get(orders[index].id_from, call.driver_id)
        actual = as_signed64(proc(driver_id, call.hdrvr, call.msg, lparam1, lparam2))
        try:
            if call.msg == DRV_OPEN and call.result and actual:
                opened[index] = as_unsigned64(actual)  # an LRESULT becomes a DWORD_PTR id
            check_return(call, actual, recorded)
            compare = planned[index]
            if compare is not None and compare.reads and rebuilt is not None:
                _compare_outputs(recording, call, compare, rebuilt.outputs, tally)
        finally:
            memory.release_after(call)

    units = [Unit(c.thread, partial(run, i), c.seq, o.after) for i, (c, o) in enumerate(zip(calls, orders))]
    done = run_schedule(units, running.coordinator, threads=threads, cooperative=running.cooperative,
                        timeout=timeout)
    if done.kind is OutcomeKind.COMPLETED:
        return COMPLETED, done
    call = next(c for c in calls if c.seq == done.unit.label)
    if done.kind is OutcomeKind.HANG:
        return Outcome(OutcomeKind.HANG, seq=call.seq, msg=call.msg, cls=call.cls), done
    if done.kind is OutcomeKind.DIVERGED:
        return done.error.outcome, done
    fault = fault_of(done.error)
    return Outcome(OutcomeKind.FAULT, seq=call.seq, msg=call.msg, code=fault.code, module=fault.module,
                   offset=fault.offset, cls=call.cls), done


def _compare_outputs(recording: Recording, call, planned: CallMemory, outputs: dict, tally: OutputTally | None) -> None:
    """Raise Diverged at the first output byte the driver wrote otherwise than recorded."""
    wrote = [(r.block, 0, bytes(outputs[r.recorded.path].data) if r.recorded.path in outputs else b"")
             for r in planned.reads]
    compared = compare_outputs(recording, call.seq, planned.name, planned.reads, wrote)
    if tally is not None:
        tally.add(compared)
    if compared.difference is not None:
        raise Diverged(compared.difference.outcome(call))
