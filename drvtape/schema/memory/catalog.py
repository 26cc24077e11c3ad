"""The catalog: per driver class, every message it knows and the memory behind its lParams
(the one description the tap, drvhost, the hook, ingest, display and replay all use)."""

from __future__ import annotations

from drvtape.errors import DrvtapeError
from drvtape.schema.memory import acm, devices, drv, icm, mci
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.spec import MessageMemory, flatten
from drvtape.schema.messages import message_name as drv_message_name, parse_message as parse_drv_message

_DRV = {m.code: m for m in drv.MESSAGES}
CLASS_MESSAGES: dict[DriverClass, dict[int, MessageMemory]] = {
    DriverClass.DRV: _DRV,
    DriverClass.VFW: {**_DRV, **{m.code: flatten(m) for m in icm.MESSAGES}},
    DriverClass.ACM: {**_DRV, **{m.code: flatten(m) for m in acm.MESSAGES}},
    DriverClass.MCI: {**_DRV, **{m.code: flatten(m) for m in mci.MESSAGES}},
    **devices.CLASS_MESSAGES,
}

NAMED_ONLY: dict[DriverClass, dict[int, str]] = {
    DriverClass.DRV: {}, DriverClass.VFW: dict(icm.NAMED_ONLY), DriverClass.ACM: dict(acm.NAMED_ONLY),
    DriverClass.MCI: dict(mci.NAMED_ONLY),
    **{cls: {} for cls in devices.CLASS_MESSAGES},
}


def message_memory(cls: DriverClass, msg: int) -> MessageMemory | None:
    """The catalog entry of msg sent to an instance of class cls; None when the catalog does
    not know it (its lParams stay raw values; replay counts it as of unknown meaning)."""
    return CLASS_MESSAGES[DriverClass(cls)].get(msg)


def message_name(code: int, cls: DriverClass = DriverClass.DRV) -> str:
    """ICM_DECOMPRESS, ACMDM_STREAM_CONVERT, DRV_OPEN; DRV_USER+n for a code the class does
    not name."""
    entry = message_memory(cls, code)
    if entry is not None:
        return entry.name
    if cls in devices.CLASS_MESSAGES:  # a device entry point's unknown code is no DRV_* message
        return f"0x{code:04X}"
    return NAMED_ONLY[DriverClass(cls)].get(code) or drv_message_name(code)


def class_messages(cls: DriverClass) -> list[MessageMemory]:
    """Every message the catalog knows for cls, by code."""
    return sorted(CLASS_MESSAGES[DriverClass(cls)].values(), key=lambda m: m.code)


CLASS_PREFIXES = ("ICM_", "ACMDM_", "MCI_")
_BY_CLASS_NAME = {m.name: m.code for cls in (DriverClass.VFW, DriverClass.ACM, DriverClass.MCI)
                  for m in CLASS_MESSAGES[cls].values()}
_BY_CLASS_NAME.update({name: code for names in NAMED_ONLY.values() for code, name in names.items()})


def parse_message(text: str) -> int:
    """A message code from an ICM_*/ACMDM_*/MCI_* name (any case), or as schema.messages parses
    DRV_* names and numbers."""
    name = text.strip().upper()
    if not name.startswith(CLASS_PREFIXES):
        return parse_drv_message(text)
    if name not in _BY_CLASS_NAME:
        raise DrvtapeError(f"unknown message {text!r}: not an ICM_* message of vfw.h, an ACMDM_* message "
                           "of msacmdrv.h nor an MCI_* command of mmsystem.h (e.g. ICM_DECOMPRESS, "
                           "ACMDM_STREAM_CONVERT, MCI_STATUS)")
    return _BY_CLASS_NAME[name]


def session_message_name(code: int, classes: set[DriverClass]) -> str:
    """A code's name in a session whose instances have these classes (ICM_*, ACMDM_* and
    MCI_* codes do not overlap, so at most one class names a code)."""
    names = {message_name(code, cls) for cls in classes} - {drv_message_name(code)}
    return names.pop() if len(names) == 1 else drv_message_name(code)
