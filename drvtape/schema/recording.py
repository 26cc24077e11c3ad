"""A stored session as replay needs it: its top-level calls and how the recording ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema.memory.captured import MemoryBlock
from drvtape.schema import details
from drvtape.schema.outcome import COMPLETED, Outcome, OutcomeKind
from drvtape.schema.payloads import CallPayloads
from drvtape.schema.rows import Kind


@dataclass(frozen=True)
class RecordedCall:
    seq: int
    thread: int  # 0, 1, ...: recorded threads in order of first appearance
    msg: int
    driver_id: int
    hdrvr: int
    lparam1: int
    lparam2: int
    payload: CallPayloads | None
    result: int | None  # None: the call never returned in the recording
    returned_at: int | None = None  # seq of its RETURN event; None when it never returned
    memory_in: tuple[MemoryBlock, ...] = ()  # call-phase blocks: what the driver read
    memory_out: tuple[MemoryBlock, ...] = ()  # return-phase blocks: what the driver wrote
    cls: str = "drv"  # the instance's driver class (schema/memory/classes.py DriverClass)


@dataclass(frozen=True)
class Recording:
    header: SessionHeader
    calls: list[RecordedCall]
    outcome: Outcome  # how the recording ended: completed, fault or hang
    arch: str = "x64"  # which layouts the captured memory has ("x64" or "x86")
    blobs: Mapping[str, bytes] = field(default_factory=dict)  # captured bytes by sha256

    def blob(self, sha256: str) -> bytes:
        return self.blobs[sha256]

    @property
    def threads(self) -> int:
        return len({c.thread for c in self.calls})


def recording_from_rows(header: SessionHeader, rows: list[tuple]) -> Recording:
    threads: dict[int, int] = {}
    calls: dict[int, list] = {}
    results: dict[int, int] = {}
    returned_at: dict[int, int] = {}
    outcome = COMPLETED
    for (seq, kind, _ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, _dur, payload) in rows:
        if kind == Kind.CALL:
            # Re-entrant calls (depth > 0) are made by the driver itself; replay sends only the outer ones.
            if depth == 0:
                lane = threads.setdefault(thread, len(threads))
                calls[seq] = [seq, lane, msg, driver_id, hdrvr, l1, l2, details.decode_call(payload)]
        elif kind == Kind.RETURN:
            results[call_seq] = result
            returned_at[call_seq] = seq
        elif kind == Kind.FAULT and outcome is COMPLETED:
            fault = details.decode_fault(payload)
            outcome = Outcome(OutcomeKind.FAULT, seq=call_seq, msg=msg, code=fault.code, module=fault.module,
                              offset=fault.offset)
        elif kind == Kind.END and outcome is COMPLETED:
            if details.decode_end(payload).reason is EndReason.HANG and call_seq is not None:
                hung = calls.get(call_seq)  # None when the hung call was a re-entrant one
                outcome = Outcome(OutcomeKind.HANG, seq=call_seq, msg=hung[2] if hung else None)
    recorded = [RecordedCall(*c, result=results.get(c[0]), returned_at=returned_at.get(c[0])) for c in calls.values()]
    return Recording(header, recorded, outcome)
