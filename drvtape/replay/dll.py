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

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from drvtape.dllhost import HostCall, host_available
from drvtape.dllhost.client import HostRun, dll_arch, host_batch, run_batch
from drvtape.replay.call_table import call_fields, detailed, has_memory
from drvtape.replay.memcompare import Compared, compare_outputs
from drvtape.replay.memory import CallMemory, MemoryPlan
from drvtape.replay.order import happens_before
from drvtape.runtime.schedule import Threads
from drvtape.runtime.targets import Target
from drvtape.schema.memory.layout import Arch
from drvtape.schema.outcome import COMPLETED, Diverged, Outcome, OutcomeKind, check_return
from drvtape.schema.entry_points import DEVICE_OPEN, ENTRY_POINTS
from drvtape.schema.recording import Recording


@contextmanager
def dll_runs(recording: Recording, target: Target, *, threads: Threads,
             plan: MemoryPlan | None = None) -> Iterator[Callable[[float], tuple[Outcome, Compared]]]:
    """A function that replays the recording once against the DLL, in a fresh drvhost with
    that per-call timeout, and says how the run ended and what of the driver's output memory
    was compared (the first difference ends it). The calls are encoded once for every run."""
    host_available(dll_arch(target.name))  # the DLL's own arch: an x86 one needs none of the x64 tools
    memories = _memory(recording, plan)
    with host_batch(target.name, host_calls(recording, threads, plan)) as batch:
        index_of = {call.seq: i for i, call in enumerate(batch.calls)}
        yield lambda timeout: _outcome(recording, memories, index_of,
                                       run_batch(batch, timeout_s=timeout, only_differences=True))


def _outcome(recording: Recording, memories: list[CallMemory | None], index_of: dict[int, int],
             run: HostRun) -> tuple[Outcome, Compared]:
    """How the run ended, from the results the host sent (only those that may differ)."""
    outputs = size = 0
    for result in run.results:
        index = index_of[result.seq]
        call, memory = recording.calls[index], memories[index]
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


_HOST_FIELDS = ("seq", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2", "result", "returned_id")


def host_calls(recording: Recording, threads: Threads, plan: MemoryPlan | None = None) -> list[HostCall]:
    """The recording's calls as the host is sent them, read from the call table's columns
    (a RecordedCall is looked at only for a call with a payload or memory)."""
    # The call the recording hung in is marked: a driver that freezes its whole host there
    # (the watchdog too) is noticed by its silence and placed at the oldest call without a
    # result, so the host sends every earlier result, written out before that call
    # (host_call.c: return_is_sent, the one rule for which results come back).
    hung_at = recording.outcome.seq if recording.outcome.kind is OutcomeKind.HANG else None
    serial = threads == Threads.SERIAL
    with_details = dict(detailed(recording.calls))
    afters, id_from = happens_before(recording.calls)
    memories = _memory(recording, plan)
    out = []
    for i, (seq, thread, msg, driver_id, hdrvr, l1, l2, result, returned_id, entry) in enumerate(
            call_fields(recording.calls, _HOST_FIELDS)):
        entry_point = ENTRY_POINTS[entry]
        if DEVICE_OPEN.get(entry_point) == msg:  # the instance the recorded driver stored at its dwUser
            driver_id = returned_id or 0  # (the host maps it to the one stored in this run)
        call = HostCall(seq, 0 if serial else thread, driver_id, hdrvr, msg, l1, l2, None, None, result, afters[i],
                        id_from[i], seq == hung_at, (), None, None, entry_point)
        c = with_details.get(i)
        if c is not None:
            call.payload1, call.payload2 = _payload(c.payload, "lparam1"), _payload(c.payload, "lparam2")
        memory = memories[i]
        if memory is not None and memory.ops:
            call.ops, call.block1, call.block2 = memory.ops, memory.block1, memory.block2
            call.payload1 = None if memory.block1 else call.payload1
            call.payload2 = None if memory.block2 else call.payload2
        out.append(call)
    return out


def _payload(payloads, which: str) -> dict | None:
    value = getattr(payloads, which) if payloads is not None else None
    return value.model_dump(mode="json") if value is not None else None
