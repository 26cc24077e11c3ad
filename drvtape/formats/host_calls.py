"""The calls drvtape hands to a driver host, and what comes back for each."""
from __future__ import annotations

from dataclasses import dataclass

from drvtape.formats.host_memory import HostOp
from drvtape.schema.entry_points import EntryPoint

RETURNED = "return"  # HostResult.kind of a call that returned; one that did not is OutcomeKind.FAULT or HANG


@dataclass(slots=True)  # not frozen: a replay builds one per call, and a frozen one cost 4.5x (3.0 against 0.66 us)
class HostCall:
    seq: int  # recorded seq of the call event (for reporting)
    thread: int  # which replay thread issues it (0..N-1)
    driver_id: int  # recorded dwDriverId, unsigned 64-bit; the host remaps it
    hdrvr: int  # unsigned 64-bit, passed as is
    msg: int
    lparam1: int  # signed 64-bit, passed as is unless payload1 is given
    lparam2: int
    payload1: dict | None = None  # lparam1 points at this data, rebuilt in the host
    payload2: dict | None = None
    expect: int | None = None  # the recorded LRESULT, None when there is none
    after: tuple[int, ...] = ()  # indices (in the batch) of calls that must return before this one is issued
    id_from: int | None = None  # index of the DRV_OPEN whose result driver_id is; None: mapped by recorded id
    recorded_hang: bool = False  # the recording hung here: every earlier call's result is sent, before it is issued
    ops: tuple[HostOp, ...] = ()  # memory ops (formats/host_memory.py) run around this call
    block1: int | None = None  # lparam1 is the address of this memory block (overrides lparam1)
    block2: int | None = None
    # which entry point the host calls: a device entry point gets (hdrvr as uDeviceID, msg,
    # driver_id as dwUser, lparam1, lparam2); for its open, driver_id is the instance the
    # recorded driver stored at dwUser, and the host passes the address of a fresh one
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC


@dataclass(slots=True)  # not frozen: one is built per result the host sends, and a frozen one cost ~15x
class HostResult:
    seq: int
    kind: str  # RETURNED, OutcomeKind.FAULT or OutcomeKind.HANG
    result: int | None = None  # signed 64-bit LRESULT when it returned
    duration_ns: int | None = None  # call time (returned), time in flight (hang)
    code: int | None = None  # exception code of a fault
    module: str | None = None  # file name of the module holding the faulting address
    offset: int | None = None  # faulting address minus that module's base
    memory: tuple[tuple[int, int, bytes], ...] = ()  # (block, offset, bytes) each READ op of the call sent back

    @property
    def returned(self) -> bool:
        return self.kind == RETURNED
