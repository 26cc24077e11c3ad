"""The DRV_* message catalog (values from mmsystem.h / mmddk.h) and message-name parsing.

Every code is kept: known ones get their name, DRV_USER+n and the MCI range get a
computed name, anything else is shown as a hex number.
"""

from dataclasses import dataclass

from drvtape.errors import DrvtapeError
from drvtape.schema.payloads import Pointer


@dataclass(frozen=True)
class MessageInfo:
    code: int
    name: str
    lparam1: str
    lparam2: str
    returns: str
    pointer1: Pointer | None = None
    pointer2: Pointer | None = None
    per_instance: bool = True  # False for messages that concern the driver as a whole


DRV_LOAD = 0x0001
DRV_ENABLE = 0x0002
DRV_OPEN = 0x0003
DRV_CLOSE = 0x0004
DRV_DISABLE = 0x0005
DRV_FREE = 0x0006
DRV_CONFIGURE = 0x0007
DRV_QUERYCONFIGURE = 0x0008
DRV_INSTALL = 0x0009
DRV_REMOVE = 0x000A
DRV_EXITSESSION = 0x000B
DRV_EXITAPPLICATION = 0x000C
DRV_POWER = 0x000F
DRV_RESERVED = 0x0800
DRV_MCI_FIRST = DRV_RESERVED
DRV_MCI_LAST = DRV_RESERVED + 0x0FFF
DRV_USER = 0x4000

DRVCNF_CANCEL = 0
DRVCNF_OK = 1
DRVCNF_RESTART = 2
DRVEA_NORMALEXIT = 0x0001
DRVEA_ABNORMALEXIT = 0x0002

_UNUSED = "unused"

CATALOG: dict[int, MessageInfo] = {
    m.code: m
    for m in (
        MessageInfo(DRV_LOAD, "DRV_LOAD", _UNUSED, _UNUSED,
                    "nonzero = loaded; 0 = failed, the driver is unloaded", per_instance=False),
        MessageInfo(DRV_ENABLE, "DRV_ENABLE", _UNUSED, _UNUSED, "ignored", per_instance=False),
        MessageInfo(DRV_OPEN, "DRV_OPEN",
                    "pointer to a wide string: the section/configuration name (may be NULL)",
                    "driver-specific: ICOPEN* for VfW codecs, ACMDRVOPENDESCW* for ACM codecs, "
                    "or the LPARAM given to OpenDriver",
                    "nonzero = the new instance's dwDriverId; 0 = refused",
                    pointer1=Pointer.WSTR, pointer2=Pointer.OPEN_STRUCT),
        MessageInfo(DRV_CLOSE, "DRV_CLOSE", "from CloseDriver", "from CloseDriver", "nonzero = closed"),
        MessageInfo(DRV_DISABLE, "DRV_DISABLE", _UNUSED, _UNUSED, "ignored", per_instance=False),
        MessageInfo(DRV_FREE, "DRV_FREE", _UNUSED, _UNUSED,
                    "ignored; the DLL is unloaded next", per_instance=False),
        MessageInfo(DRV_CONFIGURE, "DRV_CONFIGURE", "parent window (HWND)",
                    "pointer to DRVCONFIGINFO (may be NULL)", "DRVCNF_CANCEL / DRVCNF_OK / DRVCNF_RESTART",
                    pointer2=Pointer.DRVCONFIGINFO),
        MessageInfo(DRV_QUERYCONFIGURE, "DRV_QUERYCONFIGURE", _UNUSED, _UNUSED,
                    "nonzero = the driver has a configuration dialog"),
        MessageInfo(DRV_INSTALL, "DRV_INSTALL", _UNUSED, "pointer to DRVCONFIGINFO", "DRVCNF_*",
                    pointer2=Pointer.DRVCONFIGINFO, per_instance=False),
        MessageInfo(DRV_REMOVE, "DRV_REMOVE", _UNUSED, "pointer to DRVCONFIGINFO", "DRVCNF_*",
                    pointer2=Pointer.DRVCONFIGINFO, per_instance=False),
        MessageInfo(DRV_EXITSESSION, "DRV_EXITSESSION", _UNUSED, _UNUSED,
                    "none: the driver must prepare for Windows to end"),
        MessageInfo(DRV_EXITAPPLICATION, "DRV_EXITAPPLICATION",
                    "DRVEA_NORMALEXIT (1) or DRVEA_ABNORMALEXIT (2)", _UNUSED, "none (16-bit era)"),
        MessageInfo(DRV_POWER, "DRV_POWER", "power event", _UNUSED, "nonzero = handled"),
    )
}

_NAMED_RANGES = (
    # (first code, last code, base name): codes inside show as BASE or BASE+n
    (DRV_USER, 0xFFFFFFFF, "DRV_USER"),
    (DRV_MCI_FIRST, DRV_MCI_LAST, "DRV_MCI_FIRST"),
)
_RANGE_INFO = {
    "DRV_USER": ("driver-defined", "driver-defined", "driver-defined"),
    "DRV_MCI_FIRST": ("MCI driver message parameter", "MCI driver message parameter",
                      "MCI driver message result"),
}
_BY_NAME = {info.name: code for code, info in CATALOG.items()}
_BY_NAME.update({base: first for first, _, base in _NAMED_RANGES})
_BY_NAME.update({"DRV_RESERVED": DRV_RESERVED, "DRV_MCI_LAST": DRV_MCI_LAST})
DRV_NAMES = frozenset(_BY_NAME)  # the names parse_message takes (before any +n)


def message_name(code: int) -> str:
    """DRV_LOAD, DRV_USER+5, DRV_MCI_FIRST+1, or 0x000D for a code nobody named."""
    info = CATALOG.get(code)
    if info is not None:
        return info.name
    if code == DRV_MCI_LAST:
        return "DRV_MCI_LAST"
    for first, last, base in _NAMED_RANGES:
        if first <= code <= last:
            return base if code == first else f"{base}+{code - first}"
    return f"0x{code:04X}"


def pointer_kind(code: int, param: int) -> Pointer | None:
    """What lParam1 (param 1) or lParam2 (2) of a message points to; None when it is not a
    pointer the catalog knows (driver-defined messages may pass anything)."""
    info = CATALOG.get(code)
    if info is None:
        return None
    return info.pointer1 if param == 1 else info.pointer2


def describe(code: int) -> MessageInfo:
    """What a message's parameters and return mean; generic for messages in a named range."""
    info = CATALOG.get(code)
    if info is not None:
        return info
    name = message_name(code)
    base = name.split("+", 1)[0]
    l1, l2, ret = _RANGE_INFO.get(base, ("unknown", "unknown", "unknown"))
    return MessageInfo(code, name, l1, l2, ret)


def parse_message(text: str) -> int:
    """A message code from a name (any case, with or without DRV_, BASE+n) or a number."""
    raw = text.strip()
    try:
        code = _parse_number(raw)
    except ValueError:
        code = _parse_name(raw)
    if not 0 <= code <= 0xFFFFFFFF:
        raise DrvtapeError(f"message {text!r} is outside the UINT range 0..0xFFFFFFFF")
    return code


def _parse_number(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


def _parse_name(text: str) -> int:
    name, plus, offset_text = text.upper().partition("+")
    name = name.strip()
    if not name.startswith("DRV_"):
        name = "DRV_" + name
    if name not in _BY_NAME:
        raise DrvtapeError(
            f"unknown message {text!r}: use a DRV_* name (e.g. DRV_OPEN, exitsession, DRV_USER+1) or a number"
        )
    code = _BY_NAME[name]
    if not plus:
        return code
    try:
        offset = _parse_number(offset_text.strip())
    except ValueError:
        raise DrvtapeError(f"unknown message {text!r}: {offset_text!r} after '+' is not a number") from None
    if offset < 0:
        raise DrvtapeError(f"unknown message {text!r}: the offset after '+' must not be negative")
    return code + offset
