"""The catalog: per driver class, every message it knows and the memory behind its lParams
(the one description the tap, drvhost, the hook, ingest, display and replay all use).

The class tables are built on first use (catalog()): most commands never look at an ICM_*
or ACMDM_* message, and building them (the icm/acm/structs modules and flattening) was
7-10 ms of every CLI start (python -X importtime -m drvtape --help).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.spec import MessageMemory, flatten
from drvtape.schema.messages import message_name as drv_message_name


@dataclass(frozen=True)
class Catalog:
    messages: dict[DriverClass, dict[int, MessageMemory]]  # per class, by code
    named_only: dict[DriverClass, dict[int, str]]  # named, of unknown meaning
    device_classes: frozenset[DriverClass]  # device entry points' classes: no DRV_* names


@cache
def catalog() -> Catalog:
    # lazy import (measured: the class tables are most of the catalog's start-up cost, above)
    from drvtape.schema.memory import acm, devices, drv, icm, mci

    drv_messages = {m.code: m for m in drv.MESSAGES}
    messages = {
        DriverClass.DRV: drv_messages,
        DriverClass.VFW: {**drv_messages, **{m.code: flatten(m) for m in icm.MESSAGES}},
        DriverClass.ACM: {**drv_messages, **{m.code: flatten(m) for m in acm.MESSAGES}},
        DriverClass.MCI: {**drv_messages, **{m.code: flatten(m) for m in mci.MESSAGES}},
        **devices.CLASS_MESSAGES,
    }
    named_only = {DriverClass.DRV: {}, DriverClass.VFW: dict(icm.NAMED_ONLY), DriverClass.ACM: dict(acm.NAMED_ONLY),
                  DriverClass.MCI: dict(mci.NAMED_ONLY),
                  **{cls: {} for cls in devices.CLASS_MESSAGES}}
    return Catalog(messages, named_only, frozenset(devices.CLASS_MESSAGES))


def message_memory(cls: DriverClass, msg: int) -> MessageMemory | None:
    """The catalog entry of msg sent to an instance of class cls; None when the catalog does
    not know it (its lParams stay raw values; replay counts it as of unknown meaning)."""
    return catalog().messages[DriverClass(cls)].get(msg)


def message_name(code: int, cls: DriverClass = DriverClass.DRV) -> str:
    """ICM_DECOMPRESS, ACMDM_STREAM_CONVERT, DRV_OPEN; DRV_USER+n for a code the class does
    not name."""
    entry = message_memory(cls, code)
    if entry is not None:
        return entry.name
    if cls in catalog().device_classes:  # a device entry point's unknown code is no DRV_* message
        return f"0x{code:04X}"
    return catalog().named_only[DriverClass(cls)].get(code) or drv_message_name(code)


def class_messages(cls: DriverClass) -> list[MessageMemory]:
    """Every message the catalog knows for cls, by code."""
    return sorted(catalog().messages[DriverClass(cls)].values(), key=lambda m: m.code)


def class_names(cls: DriverClass) -> dict[int, str]:
    """{code: name} of every message cls names, with or without a known meaning."""
    return {**catalog().named_only[DriverClass(cls)], **{m.code: m.name for m in class_messages(cls)}}


def session_message_name(code: int, classes: set[DriverClass]) -> str:
    """A code's name in a session whose instances have these classes (ICM_*, ACMDM_* and
    MCI_* codes do not overlap, so at most one class names a code)."""
    names = {message_name(code, cls) for cls in classes} - {drv_message_name(code)}
    return names.pop() if len(names) == 1 else drv_message_name(code)
