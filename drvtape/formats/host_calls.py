"""The calls drvtape hands to a driver host, and what comes back for each."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class HostResult:
    seq: int
    kind: str  # "return" | "fault" | "hang"
    result: int | None = None  # signed 64-bit LRESULT for "return"
    duration_ns: int | None = None  # call time ("return"), time in flight ("hang")
    code: int | None = None  # exception code for "fault"
    module: str | None = None  # file name of the module holding the faulting address
    offset: int | None = None  # faulting address minus that module's base

