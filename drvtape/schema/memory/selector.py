"""What a message filter (`events --msg`, `sessions --with-msg`) names: a code, the entry
point that received it and, for a class's own names, the class of the instance it went to.

The same number is a different message to each entry point (MODM_SETVOLUME and
DRV_EXITSESSION are both 11) and, at DriverProc, to each instance class (ICM_*, ACMDM_*,
MCI_*: drvtape.schema.memory.classes), so a name resolves to all three:
- WODM_*, WIDM_*, MODM_*, MIDM_*, MXDM_*, AUXDM_*: that code at its device entry point;
- ICM_*, ACMDM_*, MCI_*: that code at DriverProc, sent to an instance of the name's class;
- DRV_* names (with or without DRV_, BASE+n) and bare numbers: that code at DriverProc, to
  any instance.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from drvtape.errors import DrvtapeError
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.memory.catalog import class_names, message_name
from drvtape.schema.memory.classes import ENTRY_POINT_CLASSES, DriverClass
from drvtape.schema.messages import DRV_NAMES, parse_message as parse_drv_message

CLASS_PREFIXES = {"ICM_": DriverClass.VFW, "ACMDM_": DriverClass.ACM, "MCI_": DriverClass.MCI}
_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True)
class MessageSelector:
    code: int
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC
    driver_class: DriverClass | None = None  # only messages to an instance of this class; None: any


def selected_name(selector: MessageSelector) -> str:
    """The selector's message by name: its class's, its entry point's, else DriverProc's DRV_* name."""
    return message_name(selector.code, selector.driver_class or ENTRY_POINT_CLASSES.get(selector.entry_point,
                                                                                         DriverClass.DRV))


@cache
def _named() -> dict[str, MessageSelector]:
    """Every class's and device entry point's own names (the catalog's, with or without a known meaning)."""
    named = {}
    for prefix, cls in CLASS_PREFIXES.items():
        named.update({name: MessageSelector(code, driver_class=cls)
                      for code, name in class_names(cls).items() if name.startswith(prefix)})
    for entry_point, cls in ENTRY_POINT_CLASSES.items():
        named.update({name: MessageSelector(code, entry_point) for code, name in class_names(cls).items()})
    return named


def parse_selector(text: str) -> MessageSelector:
    """A filter's MSG: a name of any class or entry point (any case), or a number (DriverProc's)."""
    raw = text.strip()
    name = raw.upper()
    found = _named().get(name)
    if found is not None:
        return found
    base = name.partition("+")[0].strip()
    if _NAME.fullmatch(base) and base not in DRV_NAMES and f"DRV_{base}" not in DRV_NAMES:
        raise DrvtapeError(unknown_name(text, base))
    return MessageSelector(parse_drv_message(raw))


def unknown_name(text: str, name: str) -> str:
    """One line: the name is unknown, the closest known name if one is close, and what names exist."""
    close = difflib.get_close_matches(name, [*_named(), *DRV_NAMES], n=1, cutoff=0.7)
    guess = f"did you mean {close[0]}? " if close else ""
    return (f"unknown message {text!r}: {guess}give a DRV_*, ICM_*, ACMDM_*, MCI_*, WODM_*, WIDM_*, MODM_*, "
            "MIDM_*, MXDM_* or AUXDM_* name (e.g. DRV_OPEN, ICM_DECOMPRESS, MCI_STATUS, WODM_WRITE) or a number "
            "(a number is DriverProc's message)")
