"""The class of a driver instance: which catalog its messages belong to. The same message
number means ICM_* to a VfW codec and ACMDM_* to an ACM codec, so a message is named and
its memory known only once its instance's class is.

The class comes from what DRV_OPEN received (ICOPEN.fccType 'vidc' or 'vids': VfW;
ACMDRVOPENDESCW.fccType 'audc': ACM), else from the Drivers32 alias the driver was
installed under (vidc.*, vids.*: VfW; msacm.*: ACM), else DRV: only DRV_* is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Protocol

from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.payloads import AcmDrvOpenDescW, CallPayloads, IcOpen


class DriverClass(str, Enum):
    DRV = "drv"  # any installable driver: DRV_* only
    VFW = "vfw"  # a VfW codec: ICM_*
    ACM = "acm"  # an ACM codec: ACMDM_*


def fourcc(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


VFW_TYPES = {fourcc("vidc"), fourcc("vids")}
ACM_TYPES = {fourcc("audc")}
ALIAS_PREFIXES = (("vidc.", DriverClass.VFW), ("vids.", DriverClass.VFW), ("msacm.", DriverClass.ACM))


class OpenCall(Protocol):
    """What class detection reads of a recorded call (schema.recording.RecordedCall has it)."""

    msg: int
    driver_id: int
    payload: CallPayloads | None
    result: int | None


def class_of_open(payload: CallPayloads | None) -> DriverClass | None:
    """The class DRV_OPEN's lParam2 tells, or None when it tells none."""
    data = payload.lparam2 if payload is not None else None
    if isinstance(data, IcOpen) and data.fccType in VFW_TYPES:
        return DriverClass.VFW
    if isinstance(data, AcmDrvOpenDescW) and data.fccType in ACM_TYPES:
        return DriverClass.ACM
    return None


def session_class_hint(driver: str | None) -> DriverClass:
    """The class a Drivers32 alias (vidc.MRLE, msacm.imaadpcm) implies; DRV for a path or a
    name with no class prefix."""
    name = (driver or "").strip().lower()
    for prefix, cls in ALIAS_PREFIXES:
        if name.startswith(prefix):
            return cls
    return DriverClass.DRV


def call_classes(calls: Iterable[OpenCall], hint: DriverClass = DriverClass.DRV) -> list[DriverClass]:
    """The class of each call's instance, in order. An instance is known from its DRV_OPEN
    (which returned its driver_id) until its DRV_CLOSE, so a reused id gets its new class;
    a call to driver_id 0 or to an id no DRV_OPEN returned is DRV."""
    live: dict[int, DriverClass] = {}
    out = []
    for call in calls:
        out.append(live.get(call.driver_id, DriverClass.DRV) if call.driver_id else DriverClass.DRV)
        if call.msg == DRV_OPEN and call.result:
            live[call.result] = class_of_open(call.payload) or hint
        elif call.msg == DRV_CLOSE:
            live.pop(call.driver_id, None)
    return out


def instance_classes(calls: Iterable[OpenCall], hint: DriverClass = DriverClass.DRV) -> dict[int, DriverClass]:
    """{driver_id returned by DRV_OPEN: class} (a reused id: its last instance's class)."""
    return {c.result: class_of_open(c.payload) or hint for c in calls if c.msg == DRV_OPEN and c.result}
