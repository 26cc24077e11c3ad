"""One replay run against a real driver DLL in a drvhost process (under Wine on Linux).

The host runs the whole schedule itself (thread-faithful under the recording's
happens-before from replay/order.py, ids remapped, the memory behind pointer parameters
rebuilt from replay/memory.py's plan), compares each result with the recorded one and sends
back only the calls that may differ (those without a recorded result, those whose result
differs), those that read memory back, with what the driver wrote, and those before a
recorded hang (host_call.c: return_is_sent); this module turns
them into an Outcome with the same comparison as in-process replay, plus every output block
compared (replay/memcompare.py).
"""

from dataclasses import replace

from drvtape.dllhost import HostCall, host_available, run_dll
from drvtape.dllhost.client import dll_arch
from drvtape.replay.call_table import has_memory
from drvtape.replay.memcompare import Compared, compare_outputs
from drvtape.replay.memory import CallMemory, MemoryPlan
from drvtape.replay.order import call_orders
from drvtape.runtime.schedule import Threads
from drvtape.runtime.targets import Target
from drvtape.schema.memory.layout import Arch
from drvtape.schema.outcome import COMPLETED, Diverged, Outcome, OutcomeKind, check_return
from drvtape.schema.entry_points import DEVICE_OPEN
from drvtape.schema.recording import RecordedCall, Recording


def run_dll_target(recording: Recording, target: Target, *, threads: Threads, timeout: float,
                   plan: MemoryPlan | None = None) -> tuple[Outcome, Compared]:
    """How the run ended, and what of the driver's output memory was compared (the first difference ends it)."""
    host_available(dll_arch(target.name))  # the DLL's own arch: an x86 one needs none of the x64 tools
    calls = {c.seq: (c, m) for c, m in zip(recording.calls, _memory(recording, plan))}
    outputs = size = 0
    for result in run_dll(target.name, host_calls(recording, threads, plan), timeout_s=timeout,
                          only_differences=True):
        call, memory = calls[result.seq]
        if result.kind is OutcomeKind.FAULT:
            return Outcome(OutcomeKind.FAULT, seq=call.seq, msg=call.msg, code=result.code, module=result.module,
                           offset=result.offset, cls=call.cls), Compared(outputs, size, None)
        if result.kind is OutcomeKind.HANG:
            return Outcome(OutcomeKind.HANG, seq=call.seq, msg=call.msg, cls=call.cls), Compared(outputs, size, None)
        try:
            check_return(call, result.result, recording.outcome)
        except Diverged as diverged:
            return diverged.outcome, Compared(outputs, size, None)
        if memory is not None and memory.reads:
            compared = compare_outputs(recording, call.seq, memory.name, memory.reads, result.memory)
            outputs, size = outputs + compared.outputs, size + compared.bytes
            if compared.difference is not None:
                return compared.difference.outcome(call), Compared(outputs, size, compared.difference)
    return COMPLETED, Compared(outputs, size, None)


def host_arch(recording: Recording, target: Target) -> Arch:
    """The arch the recording's memory is rebuilt for: in process, Python objects in the
    recording's own layouts; for a DLL, its drvhost's (the DLL's PE machine), looked at only
    when some call has memory to rebuild (without any, there are no layouts to agree on)."""
    if target.in_process or not has_memory(recording.calls):
        return recording.arch
    return dll_arch(target.name).name


def _memory(recording: Recording, plan: MemoryPlan | None) -> list[CallMemory | None]:
    return plan.calls if plan is not None else [None] * len(recording.calls)


def host_calls(recording: Recording, threads: Threads, plan: MemoryPlan | None = None) -> list[HostCall]:
    # The call the recording hung in is marked: a driver that freezes its whole host there
    # (the watchdog too) is noticed by its silence and placed at the oldest call without a
    # result, so the host sends every earlier result, written out before that call
    # (host_call.c: return_is_sent, the one rule for which results come back).
    hung_at = recording.outcome.seq if recording.outcome.kind is OutcomeKind.HANG else None
    out = []
    for c, order, memory in zip(recording.calls, call_orders(recording.calls), _memory(recording, plan)):
        call = HostCall(seq=c.seq, thread=0 if threads == Threads.SERIAL else c.thread, driver_id=_driver_id(c),
                        hdrvr=c.hdrvr, msg=c.msg, lparam1=c.lparam1, lparam2=c.lparam2,
                        payload1=_payload(c.payload, "lparam1"), payload2=_payload(c.payload, "lparam2"),
                        expect=c.result, after=order.after, id_from=order.id_from,
                        recorded_hang=c.seq == hung_at, entry_point=c.entry_point)
        if memory is not None and memory.ops:
            call = replace(call, ops=memory.ops, block1=memory.block1, block2=memory.block2,
                           payload1=None if memory.block1 else call.payload1,
                           payload2=None if memory.block2 else call.payload2)
        out.append(call)
    return out


def _driver_id(c: RecordedCall) -> int:
    """What the host is sent as the call's driver_id: a device open's is the instance the
    recorded driver stored at its dwUser (the host maps it to the one stored in this run)."""
    if DEVICE_OPEN.get(c.entry_point) == c.msg:
        return c.returned_id or 0
    return c.driver_id


def _payload(payloads, which: str) -> dict | None:
    value = getattr(payloads, which) if payloads is not None else None
    return value.model_dump(mode="json") if value is not None else None
