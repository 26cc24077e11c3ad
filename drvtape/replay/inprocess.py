"""One replay run against an in-process target (sim: or py:)."""

from collections.abc import Callable

from drvtape.replay.memcompare import Compared, OutputTally, compare_outputs
from drvtape.replay.memory import CallMemory, MemoryPlan
from drvtape.replay.order import CallOrder, call_orders
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
    planned = plan.calls if plan is not None else [None] * len(recording.calls)
    opened: dict[int, int] = {}  # index of a DRV_OPEN -> the dwDriverId it returned in this run
    memory = CallMemoryRebuilder(recording)  # MemoryRefs for the calls whose memory was recorded

    def unit_for(index: int, call, order: CallOrder, compare: CallMemory | None) -> Unit:
        lparam1 = python_arg(call.lparam1, call.payload.lparam1 if call.payload else None)
        lparam2 = python_arg(call.lparam2, call.payload.lparam2 if call.payload else None)

        def run():
            driver_id = opened.get(order.id_from, call.driver_id)
            rebuilt = memory.call_memory(call) if call.memory_in else None  # built when it runs: shared blocks
            args = (rebuilt.lparam1, rebuilt.lparam2) if rebuilt is not None else (lparam1, lparam2)
            actual = as_signed64(proc(driver_id, call.hdrvr, call.msg, *args))
            try:
                if call.msg == DRV_OPEN and call.result and actual:
                    opened[index] = as_unsigned64(actual)  # an LRESULT becomes a DWORD_PTR id
                check_return(call, actual, recorded)
                if compare is not None and compare.reads and rebuilt is not None:
                    _compare_outputs(recording, call, compare, rebuilt.outputs, tally)
            finally:
                memory.release_after(call)

        return Unit(call.thread, run, call.seq, order.after)

    calls = {c.seq: c for c in recording.calls}
    units = [unit_for(i, c, o, m) for i, (c, o, m) in enumerate(zip(recording.calls, call_orders(recording.calls),
                                                                        planned))]
    done = run_schedule(units, running.coordinator, threads=threads, cooperative=running.cooperative,
                        timeout=timeout)
    if done.kind is OutcomeKind.COMPLETED:
        return COMPLETED, done
    call = calls[done.unit.label]
    if done.kind is OutcomeKind.HANG:
        return Outcome(OutcomeKind.HANG, seq=call.seq, msg=call.msg), done
    if done.kind is OutcomeKind.DIVERGED:
        return done.error.outcome, done
    fault = fault_of(done.error)
    return Outcome(OutcomeKind.FAULT, seq=call.seq, msg=call.msg, code=fault.code, module=fault.module,
                   offset=fault.offset), done


def _compare_outputs(recording: Recording, call, planned: CallMemory, outputs: dict, tally: OutputTally | None) -> None:
    """Raise Diverged at the first output byte the driver wrote otherwise than recorded."""
    wrote = [(r.block, 0, bytes(outputs[r.recorded.path].data) if r.recorded.path in outputs else b"")
             for r in planned.reads]
    compared = compare_outputs(recording, call.seq, planned.name, planned.reads, wrote)
    if tally is not None:
        tally.add(compared)
    if compared.difference is not None:
        raise Diverged(compared.difference.outcome(call.msg))
