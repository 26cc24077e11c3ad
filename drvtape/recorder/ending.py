"""How a run recorded under the hook ended, as its session's end event: the one mapping from a
schedule's outcome to Recorder.close(), for workloads and derived sessions alike."""

from __future__ import annotations

from collections.abc import Callable

from drvtape.recorder.hook import Recorder
from drvtape.runtime.schedule import ScheduleOutcome, StopRun, Unit
from drvtape.schema.events import Ending, EndReason
from drvtape.schema.outcome import OutcomeKind


# How a session whose run failed ends; a completed run ends CLOSED, a diverged one UNKNOWN.
END_REASON = {OutcomeKind.FAULT: EndReason.CRASH, OutcomeKind.HANG: EndReason.HANG}


def ending_of(done: ScheduleOutcome, recorder: Recorder, *, hung: Callable[[Unit], str]) -> Ending:
    """The end event for a run; `hung(unit)` words the detail of a unit that never returned.

    A unit that raised ends the session as a crash when the driver faulted under the hook; a
    StopRun is the process exiting on purpose; anything else is not the driver's (UNKNOWN).
    """
    if done.kind is OutcomeKind.HANG:
        return Ending(END_REASON[done.kind], recorder.in_flight(done.idents[done.unit.thread]), hung(done.unit))
    if done.error is None:
        return Ending()
    if isinstance(done.error, StopRun):
        return Ending(EndReason.PROCESS_EXIT, detail=str(done.error) or None)
    if done.kind is OutcomeKind.FAULT and recorder.fault_call_seq is not None:
        return Ending(END_REASON[done.kind], recorder.fault_call_seq, str(done.error))
    return Ending(EndReason.UNKNOWN, detail=str(done.error))


def close_after(done: ScheduleOutcome, recorder: Recorder, *, hung: Callable[[Unit], str]) -> Ending:
    """Close the recorder with the run's ending; the ending."""
    ending = ending_of(done, recorder, hung=hung)
    recorder.close(ending.reason, call_seq=ending.call_seq, detail=ending.detail)
    return ending
