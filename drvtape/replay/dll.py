"""One replay run against a real driver DLL in a drvhost process (under Wine on Linux).

The host runs the whole schedule itself (thread-faithful under the recording's
happens-before from replay/order.py, ids remapped, pointer payloads rebuilt), compares each
result with the recorded one and sends back only the calls that may differ (those without a
recorded result, and those whose result differs); this module turns them into an Outcome with
the same comparison as in-process replay.
"""

from drvtape.dllhost import HostCall, host_available, run_dll
from drvtape.replay.order import call_orders
from drvtape.runtime.schedule import Threads
from drvtape.runtime.targets import Target
from drvtape.schema.outcome import COMPLETED, Diverged, Outcome, OutcomeKind, check_return
from drvtape.schema.recording import Recording


def run_dll_target(recording: Recording, target: Target, *, threads: Threads, timeout: float) -> Outcome:
    host_available()
    calls = {c.seq: c for c in recording.calls}
    # A host frozen by its driver is told only by silence: its hang is placed at its own call
    # only when every result before it came back (host_calls' flush_first), so a recorded hang
    # asks for every result; any other session, only for those that differ.
    only_differences = recording.outcome.kind is not OutcomeKind.HANG
    for result in run_dll(target.name, host_calls(recording, threads), timeout_s=timeout,
                          only_differences=only_differences):
        call = calls[result.seq]
        if result.kind is OutcomeKind.FAULT:
            return Outcome(OutcomeKind.FAULT, seq=call.seq, msg=call.msg, code=result.code, module=result.module,
                           offset=result.offset)
        if result.kind is OutcomeKind.HANG:
            return Outcome(OutcomeKind.HANG, seq=call.seq, msg=call.msg)
        try:
            check_return(call, result.result, recording.outcome)
        except Diverged as diverged:
            return diverged.outcome
    return COMPLETED


def host_calls(recording: Recording, threads: Threads) -> list[HostCall]:
    # A driver that freezes its whole host (every thread suspended, the watchdog's too) is
    # noticed by the client's silence, and the returns the host still held are lost with it:
    # the hang would be reported at the oldest call without a result (seq 1 for the freezer
    # test driver), not at its call. So the host writes them out before the recorded hang.
    hung_at = recording.outcome.seq if recording.outcome.kind is OutcomeKind.HANG else None
    return [
        HostCall(seq=c.seq, thread=0 if threads == Threads.SERIAL else c.thread, driver_id=c.driver_id, hdrvr=c.hdrvr,
                 msg=c.msg, lparam1=c.lparam1, lparam2=c.lparam2,
                 payload1=_payload(c.payload, "lparam1"), payload2=_payload(c.payload, "lparam2"), expect=c.result,
                 after=order.after, id_from=order.id_from, flush_first=c.seq == hung_at)
        for c, order in zip(recording.calls, call_orders(recording.calls))
    ]


def _payload(payloads, which: str) -> dict | None:
    value = getattr(payloads, which) if payloads is not None else None
    return value.model_dump(mode="json") if value is not None else None
