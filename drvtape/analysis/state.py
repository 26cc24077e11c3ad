"""The driver's state at any seq, folded from a session's event rows (a projection, never stored).

Transitions follow what the system has committed to when it sends a message, not what the
driver answers: DRV_LOAD and DRV_OPEN take effect when they return (their LRESULT decides:
0 = not loaded / refused); DRV_ENABLE, DRV_DISABLE, DRV_FREE and DRV_CLOSE take effect when
sent, because their return is ignored (Wine's CloseDriver drops the handle whatever
DRV_CLOSE returns, and the DLL is unloaded after DRV_FREE whatever it returns).

An instance is known by its hdrvr, the system's handle: dwDriverId is the driver's own value
and may be shared (Wine's winmm hands the same id to every instance of some drivers).

A device entry point's messages (wodMessage ...) open and close devices instead: a device is
open from its open message's successful return (WODM_OPEN ... returning MMSYSERR_NOERROR) to
its close message being sent, known by its entry point, uDeviceID and the instance the
driver stored at the open's dwUser (drvtape.schema.entry_points).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from drvtape.schema import messages as m
from drvtape.schema.entry_points import DEVICE_CLOSE, DEVICE_OPEN, EntryPoint, entry_point_of
from drvtape.schema.rows import Kind
from drvtape.schema.values import as_unsigned64


@dataclass(frozen=True)
class OpenInstance:
    driver_id: int  # what DRV_OPEN returned, as the DWORD_PTR the system passes back
    hdrvr: int
    seq: int  # the DRV_OPEN call
    thread: int  # the OS thread that opened it


@dataclass(frozen=True)
class OpenDevice:
    entry_point: EntryPoint
    device: int  # uDeviceID
    instance: int  # what the driver stored at the open's dwUser
    seq: int  # the open call
    thread: int


@dataclass(frozen=True)
class CallInFlight:
    seq: int
    msg: int
    thread: int
    depth: int
    driver_id: int  # dwUser for a device entry point
    hdrvr: int  # uDeviceID for a device entry point
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC


class CallStatus(StrEnum):
    RETURNED = "returned"
    IN_FLIGHT = "in flight"
    FAULTED = "faulted"


@dataclass(frozen=True)
class LastMessage:
    seq: int  # the call
    msg: int
    status: CallStatus
    result: int | None = None


@dataclass(frozen=True)
class DriverState:
    at: int  # the last seq folded in (0: nothing yet)
    loaded: bool
    enabled: bool
    freed: bool  # DRV_FREE was sent and no DRV_LOAD since
    instances: tuple[OpenInstance, ...]
    in_flight: tuple[CallInFlight, ...]
    last: dict[int, LastMessage]  # per OS thread, in order of first appearance
    devices: tuple[OpenDevice, ...] = ()  # open devices of the device entry points


@dataclass
class Projection:
    """Folds rows (ROW_COLUMNS order) one at a time; `state()` is the state after the last one.

    Lint folds with this too, checking each call against the state just before it.
    """

    at: int = 0
    loaded: bool = False
    enabled: bool = False
    freed: bool = False
    instances: dict[int, OpenInstance] = field(default_factory=dict)  # by hdrvr
    closed: dict[int, int] = field(default_factory=dict)  # hdrvr -> the DRV_CLOSE seq
    in_flight: dict[int, CallInFlight] = field(default_factory=dict)  # by call seq
    last: dict[int, LastMessage] = field(default_factory=dict)
    devices: dict[tuple[EntryPoint, int, int], OpenDevice] = field(default_factory=dict)

    def instance_for(self, driver_id: int, hdrvr: int) -> OpenInstance | None:
        """The open instance a per-instance message is addressed to: by handle, else by a nonzero id."""
        inst = self.instances.get(hdrvr)
        if inst is None and driver_id:
            inst = next((i for i in self.instances.values() if i.driver_id == driver_id), None)
        return inst

    def apply(self, row) -> None:
        seq, kind, _ts, thread, msg, driver_id, hdrvr, _l1, _l2, result, call_seq, depth, _dur, _p, entry = row
        self.at = seq
        if kind == Kind.CALL:
            entry_point = entry_point_of(entry)
            self.in_flight[seq] = CallInFlight(seq, msg, thread, depth or 0, driver_id, hdrvr, entry_point)
            self.last[thread] = LastMessage(seq, msg, CallStatus.IN_FLIGHT)
            if entry_point is EntryPoint.DRIVER_PROC:
                self._sent(seq, msg, driver_id, hdrvr)
            elif DEVICE_CLOSE.get(entry_point) == msg:
                self.devices.pop((entry_point, hdrvr, driver_id), None)
        elif kind in (Kind.RETURN, Kind.FAULT):
            call = self.in_flight.pop(call_seq, None)
            returned = kind == Kind.RETURN
            if self.last.get(thread) is not None and self.last[thread].seq == call_seq:
                status = CallStatus.RETURNED if returned else CallStatus.FAULTED
                self.last[thread] = replace(self.last[thread], status=status, result=result)
            if returned and call is not None and call.entry_point is EntryPoint.DRIVER_PROC:
                self._returned(call, result)
            elif returned and call is not None and DEVICE_OPEN.get(call.entry_point) == call.msg and result == 0:
                key = (call.entry_point, call.hdrvr, driver_id)  # a device open's RETURN: the instance
                self.devices[key] = OpenDevice(*key, call.seq, call.thread)

    def _sent(self, seq: int, msg: int, driver_id: int, hdrvr: int) -> None:
        if msg == m.DRV_ENABLE:
            self.enabled = True
        elif msg == m.DRV_DISABLE:
            self.enabled = False
        elif msg == m.DRV_FREE:
            self.loaded, self.enabled, self.freed = False, False, True
        elif msg == m.DRV_CLOSE:
            inst = self.instance_for(driver_id, hdrvr)
            if inst is not None:
                del self.instances[inst.hdrvr]
                self.closed[inst.hdrvr] = seq

    def _returned(self, call: CallInFlight, result: int) -> None:
        if call.msg == m.DRV_LOAD:
            self.loaded = result != 0
            if self.loaded:
                self.freed = False
        elif call.msg == m.DRV_OPEN and result != 0:
            self.instances[call.hdrvr] = OpenInstance(as_unsigned64(result), call.hdrvr, call.seq, call.thread)
            self.closed.pop(call.hdrvr, None)

    def state(self) -> DriverState:
        return DriverState(self.at, self.loaded, self.enabled, self.freed, tuple(self.instances.values()),
                           tuple(self.in_flight.values()), dict(self.last), tuple(self.devices.values()))


def fold(rows, at: int | None = None) -> DriverState:
    """The state after every row up to and including seq `at` (all of them when None)."""
    projection = Projection()
    for row in rows:
        if at is not None and row.seq > at:
            break
        projection.apply(row)
    return projection.state()
