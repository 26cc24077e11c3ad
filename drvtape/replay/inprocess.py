"""One replay run against an in-process target (sim: or py:).

A call whose memory was recorded gets MemoryRefs rebuilt from its blocks
(drvtape.runtime.memory); after it returns, what the driver wrote is compared with the
recording's return-phase blocks as for drvhost (memcompare), the first difference ending
the run."""

from collections.abc import Callable
from dataclasses import dataclass

from drvtape.replay.dll import NOTHING_COMPARED, memory_divergence
from drvtape.replay.memcompare import Compared, compare_outputs
from drvtape.replay.memory import CallMemory, MemoryPlan
from drvtape.replay.order import CallOrder, call_orders
from drvtape.runtime.faults import fault_of
from drvtape.runtime.memory import CallMemoryRebuilder, RebuiltCall
from drvtape.runtime.pointers import python_arg
from drvtape.runtime.schedule import ScheduleOutcome, Threads, Unit, run_schedule
from drvtape.runtime.targets import RunningDriver, Target
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.outcome import COMPLETED, Diverged, Outcome, OutcomeKind, check_return
from drvtape.schema.recording import Recording
from drvtape.schema.values import as_signed64, as_unsigned64


def run_in_process(recording: Recording, target: Target, *, threads: Threads, timeout: float,
                   plan: MemoryPlan | None = None) -> tuple[Outcome, Compared]:
    """How the run ended, and what of the driver's output memory was compared."""
    running = target.start()
    outputs = OutputCheck(recording, plan)
    outcome = drive(recording, running, running.proc, threads=threads, timeout=timeout, outputs=outputs)[0]
    return outcome, outputs.compared


@dataclass
class OutputCheck:
    """The comparison of each call's output memory with the recording, tallied over a run."""

    recording: Recording
    plan: MemoryPlan | None
    compared: Compared = NOTHING_COMPARED

    def check(self, index: int, call, rebuilt: RebuiltCall | None) -> None:
        """Diverged at the first output that differs from the recording."""
        memory: CallMemory | None = self.plan.calls[index] if self.plan is not None else None
        if memory is None or not memory.reads or rebuilt is None:
            return
        written = [(r.block, 0, bytes(rebuilt.outputs[r.recorded.path].data)) if r.recorded.path in rebuilt.outputs
                   else (r.block, 0, b"") for r in memory.reads]
        found = compare_outputs(self.recording, call.seq, memory.name, memory.reads, written)
        self.compared = Compared(self.compared.outputs + found.outputs, self.compared.bytes + found.bytes,
                                 found.difference)
        if found.difference is not None:
            raise Diverged(memory_divergence(found.difference, call.msg))


def drive(recording: Recording, running: RunningDriver, proc: Callable, *, threads: Threads,
          timeout: float, outputs: OutputCheck | None = None) -> tuple[Outcome, ScheduleOutcome]:
    """Issue the recording's calls to proc (running's DriverProc, or a hook around it) on the
    replay schedule; the outcome, and the schedule's own account of the run. outputs: compare
    what the driver wrote (a plain drive only rebuilds the memory)."""
    recorded = recording.outcome
    opened: dict[int, int] = {}  # index of a DRV_OPEN -> the dwDriverId it returned in this run
    memory = CallMemoryRebuilder(recording)  # MemoryRefs for the calls whose memory was recorded

    def unit_for(index: int, call, order: CallOrder) -> Unit:
        lparam1 = python_arg(call.lparam1, call.payload.lparam1 if call.payload else None)
        lparam2 = python_arg(call.lparam2, call.payload.lparam2 if call.payload else None)

        def run():
            driver_id = opened.get(order.id_from, call.driver_id)
            # built when it runs: a block shared with an earlier call is that call's ref
            rebuilt = memory.call_memory(call) if call.memory_in or call.memory_out else None
            args = (rebuilt.lparam1, rebuilt.lparam2) if rebuilt is not None else (lparam1, lparam2)
            actual = as_signed64(proc(driver_id, call.hdrvr, call.msg, *args))
            if call.msg == DRV_OPEN and call.result and actual:
                opened[index] = as_unsigned64(actual)  # an LRESULT becomes a DWORD_PTR id
            check_return(call, actual, recorded)
            if outputs is not None:
                outputs.check(index, call, rebuilt)
            memory.release_after(call)

        return Unit(call.thread, run, call.seq, order.after)

    calls = {c.seq: c for c in recording.calls}
    units = [unit_for(i, c, o) for i, (c, o) in enumerate(zip(recording.calls, call_orders(recording.calls)))]
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
