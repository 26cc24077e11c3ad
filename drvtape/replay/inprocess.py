"""One replay run against an in-process target (sim: or py:)."""

from collections.abc import Callable
from functools import partial

from drvtape.replay.order import call_orders
from drvtape.runtime.faults import fault_of
from drvtape.runtime.pointers import python_arg
from drvtape.runtime.schedule import ScheduleOutcome, Threads, Unit, run_schedule
from drvtape.runtime.targets import RunningDriver, Target
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.outcome import COMPLETED, Outcome, OutcomeKind, check_return
from drvtape.schema.recording import Recording
from drvtape.schema.values import as_signed64, as_unsigned64


def run_in_process(recording: Recording, target: Target, *, threads: Threads, timeout: float) -> Outcome:
    running = target.start()
    return drive(recording, running, running.proc, threads=threads, timeout=timeout)[0]


def drive(recording: Recording, running: RunningDriver, proc: Callable, *, threads: Threads,
          timeout: float) -> tuple[Outcome, ScheduleOutcome]:
    """Issue the recording's calls to proc (running's DriverProc, or a hook around it) on the
    replay schedule; the outcome, and the schedule's own account of the run."""
    recorded = recording.outcome
    calls = recording.calls
    orders = call_orders(calls)
    opened: dict[int, int] = {}  # index of a DRV_OPEN -> the dwDriverId it returned in this run

    def run(index: int) -> None:
        call, payload = calls[index], calls[index].payload
        lparam1 = call.lparam1 if payload is None else python_arg(call.lparam1, payload.lparam1)
        lparam2 = call.lparam2 if payload is None else python_arg(call.lparam2, payload.lparam2)
        driver_id = opened.get(orders[index].id_from, call.driver_id)
        actual = as_signed64(proc(driver_id, call.hdrvr, call.msg, lparam1, lparam2))
        if call.msg == DRV_OPEN and call.result and actual:
            opened[index] = as_unsigned64(actual)  # an LRESULT becomes a DWORD_PTR id
        check_return(call, actual, recorded)

    units = [Unit(c.thread, partial(run, i), c.seq, o.after) for i, (c, o) in enumerate(zip(calls, orders))]
    done = run_schedule(units, running.coordinator, threads=threads, cooperative=running.cooperative,
                        timeout=timeout)
    if done.kind is OutcomeKind.COMPLETED:
        return COMPLETED, done
    call = next(c for c in calls if c.seq == done.unit.label)
    if done.kind is OutcomeKind.HANG:
        return Outcome(OutcomeKind.HANG, seq=call.seq, msg=call.msg), done
    if done.kind is OutcomeKind.DIVERGED:
        return done.error.outcome, done
    fault = fault_of(done.error)
    return Outcome(OutcomeKind.FAULT, seq=call.seq, msg=call.msg, code=fault.code, module=fault.module,
                   offset=fault.offset), done
