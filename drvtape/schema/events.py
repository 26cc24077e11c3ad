"""The event model: a session header, then call/return/fault/mark/end events.

These models validate everything that crosses a boundary (import, ingest, the JSON
interchange). The recorder's hot path builds plain tuples in the same shape instead
(see drvtape.schema.rows) and never constructs a model per message.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.memory.captured import MemoryBlock
from drvtape.schema.payloads import CallPayloads
from drvtape.schema.values import Count, Int64, Ordinal, UInt32, UInt64


class EndReason(str, Enum):
    CLOSED = "closed"  # the recorder was closed normally
    PROCESS_EXIT = "process-exit"  # the process ended without closing the driver
    CRASH = "crash"  # a fault ended the process
    KILLED = "killed"  # the recording process was killed
    HANG = "hang"  # a call never returned (timeout for real drivers, detected for simulated ones)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Ending:
    """How a session ended, as its end event says: Recorder.close()'s arguments."""

    reason: EndReason = EndReason.CLOSED
    call_seq: int | None = None  # the call that never returned (hang) or faulted (crash)
    detail: str | None = None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionHeader(_Model):
    id: uuid.UUID
    driver: Annotated[str, Field(min_length=1, max_length=4096)]  # path, alias or target name
    driver_hash: str | None = None
    target: str | None = None  # the drvtape target it was recorded against, e.g. sim:exit-spin
    machine: str = ""
    os: str = ""
    process: str = ""
    pid: Count | None = None
    recorder_version: str = ""
    started_at: AwareDatetime
    clock: str = "monotonic_ns"
    origin: uuid.UUID | None = None  # the session this one was derived from (minimize, explore)
    source: str = "hook"  # hook, workload, import, ingest, minimize ...
    # whose struct layouts the captured memory has (a tape's pointer size); None: x64
    arch: Literal["x64", "x86"] | None = None


class _Event(_Model):
    seq: Ordinal
    ts_ns: Count
    thread: UInt64


class CallEvent(_Event):
    kind: Literal["call"] = "call"
    msg: UInt32
    driver_id: UInt64
    hdrvr: UInt64
    lparam1: Int64
    lparam2: Int64
    depth: Count = 0
    payload: CallPayloads | None = None
    memory: tuple[MemoryBlock, ...] = ()  # what the driver could read, captured before the call
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC  # drvtape.schema.entry_points


class ReturnEvent(_Event):
    kind: Literal["return"] = "return"
    call_seq: Ordinal
    msg: UInt32
    driver_id: UInt64
    hdrvr: UInt64
    result: Int64
    duration_ns: Count
    memory: tuple[MemoryBlock, ...] = ()  # what the driver wrote, captured after it returned
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC


class FaultEvent(_Event):
    kind: Literal["fault"] = "fault"
    call_seq: Ordinal
    msg: UInt32
    driver_id: UInt64
    hdrvr: UInt64
    code: UInt32
    module: str | None = None
    offset: UInt64 | None = None
    description: str | None = None
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC


class MarkEvent(_Event):
    kind: Literal["mark"] = "mark"
    text: Annotated[str, Field(max_length=4096)]


class EndEvent(_Event):
    kind: Literal["end"] = "end"
    reason: EndReason
    call_seq: Ordinal | None = None  # the call that never returned (hang) or faulted (crash)
    detail: str | None = None


Event = Annotated[
    Union[CallEvent, ReturnEvent, FaultEvent, MarkEvent, EndEvent], Field(discriminator="kind")
]
EVENT_TYPES = (CallEvent, ReturnEvent, FaultEvent, MarkEvent, EndEvent)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
