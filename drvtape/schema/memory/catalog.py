"""The catalog: per driver class, every message it knows and the memory behind its lParams
(the one description the tap, drvhost, the hook, ingest, display and replay all use)."""

from __future__ import annotations

from drvtape.schema.memory import acm, drv, icm
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.spec import MessageMemory, flatten
from drvtape.schema.messages import message_name as drv_message_name

_DRV = {m.code: m for m in drv.MESSAGES}
CLASS_MESSAGES: dict[DriverClass, dict[int, MessageMemory]] = {
    DriverClass.DRV: _DRV,
    DriverClass.VFW: {**_DRV, **{m.code: flatten(m) for m in icm.MESSAGES}},
    DriverClass.ACM: {**_DRV, **{m.code: flatten(m) for m in acm.MESSAGES}},
}


def message_memory(cls: DriverClass, msg: int) -> MessageMemory | None:
    """The catalog entry of msg sent to an instance of class cls; None when the catalog does
    not know it (its lParams stay raw values; replay counts it as of unknown meaning)."""
    return CLASS_MESSAGES[DriverClass(cls)].get(msg)


def message_name(code: int, cls: DriverClass = DriverClass.DRV) -> str:
    """ICM_DECOMPRESS, ACMDM_STREAM_CONVERT, DRV_OPEN; DRV_USER+n for a code the class does
    not name."""
    entry = message_memory(cls, code)
    return entry.name if entry is not None else drv_message_name(code)


def class_messages(cls: DriverClass) -> list[MessageMemory]:
    """Every message the catalog knows for cls, by code."""
    return sorted(CLASS_MESSAGES[DriverClass(cls)].values(), key=lambda m: m.code)
