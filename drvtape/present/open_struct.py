"""DRV_OPEN's lParam2 when it is an MCI_OPEN_DRIVER_PARMS: the tap copies its bytes (a
RawBytes payload, drvtape.schema.memory.classes.is_mci_open tells them), shown with their
fields (structs.MCI_OPEN_DRIVER_PARMS) by events, events --json, show and the timelines.

The copy's size says its layout: 16 bytes on x86, 20 on x64 (pshpack1). lpstrParams is a
pointer value, as the tap left it (it zeroes it: docs/memory-catalog.md), never followed.
"""

from __future__ import annotations

from drvtape.schema import details
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.memory.classes import is_mci_open
from drvtape.schema.memory.decode import decode_layout
from drvtape.schema.memory.structs import MCI_OPEN_DRIVER_PARMS
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.payloads import CallPayloads, RawBytes

STRUCT = MCI_OPEN_DRIVER_PARMS.name
ARCH_BY_SIZE = {MCI_OPEN_DRIVER_PARMS.size(arch): arch for arch in ("x86", "x64")}


def mci_open_fields(payload: CallPayloads | None, msg: int | None,
                    entry_point: EntryPoint = EntryPoint.DRIVER_PROC) -> dict | None:
    """{field: value} of a DriverProc DRV_OPEN's copied MCI_OPEN_DRIVER_PARMS; None for any
    other call or payload."""
    data = payload.lparam2 if payload is not None else None
    if msg != DRV_OPEN or entry_point is not EntryPoint.DRIVER_PROC or not isinstance(data, RawBytes):
        return None
    raw = bytes.fromhex(data.hex)
    return decode_layout(MCI_OPEN_DRIVER_PARMS, ARCH_BY_SIZE[len(raw)], raw) if is_mci_open(raw) else None


def stored_mci_open_fields(detail: str | None, msg: int | None, entry_point: EntryPoint) -> dict | None:
    """mci_open_fields of a stored call's detail (the timelines read rows, not events); only a
    DRV_OPEN's detail is parsed."""
    return mci_open_fields(details.decode_call(detail), msg, entry_point) if msg == DRV_OPEN and detail else None


def fields_text(fields: dict) -> str:
    """MCI_OPEN_DRIVER_PARMS(wDeviceID=1, lpstrParams=0x0, wCustomCommandTable=0xFFFF, wType=0x20A)."""
    shown = ", ".join(f"{name}={value if name == 'wDeviceID' else f'0x{value:X}'}" for name, value in fields.items())
    return f"{STRUCT}({shown})"
