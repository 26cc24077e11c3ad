"""What a pointer parameter pointed to, copied at record time and rebuilt at replay.

A recorded address is never replayed: these models are the only pointer data a replay uses.
Field names follow the Windows structs (ICOPEN from vfw.h, DRVCONFIGINFO from mmsystem.h,
ACMDRVOPENDESCW from Wine's msacmdrv.h); reserved pointer members are not kept.
"""

from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from drvtape.schema.values import Int64, UInt32

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_TEXT_CHARS = MAX_PAYLOAD_BYTES // 2


class PayloadModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WideString(PayloadModel):
    type: Literal["wstr"] = "wstr"
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


OptionalText = Annotated[str, Field(max_length=MAX_TEXT_CHARS)] | None


class DrvConfigInfo(PayloadModel):
    type: Literal["DRVCONFIGINFO"] = "DRVCONFIGINFO"
    section: OptionalText = None
    alias: OptionalText = None


class IcOpen(PayloadModel):
    type: Literal["ICOPEN"] = "ICOPEN"
    dwSize: UInt32
    fccType: UInt32
    fccHandler: UInt32
    dwVersion: UInt32 = 0
    dwFlags: UInt32 = 0
    dwError: Int64 = 0
    dnDevNode: UInt32 = 0


class AcmDrvOpenDescW(PayloadModel):
    type: Literal["ACMDRVOPENDESCW"] = "ACMDRVOPENDESCW"
    cbStruct: UInt32
    fccType: UInt32
    fccComp: UInt32 = 0
    dwVersion: UInt32 = 0
    dwFlags: UInt32 = 0
    dwError: UInt32 = 0
    section: OptionalText = None
    alias: OptionalText = None
    dnDevNode: UInt32 = 0


class RawBytes(PayloadModel):
    type: Literal["bytes"] = "bytes"
    hex: Annotated[str, Field(max_length=2 * MAX_PAYLOAD_BYTES, pattern=r"^([0-9a-fA-F]{2})*$")]


Payload = Annotated[
    Union[WideString, DrvConfigInfo, IcOpen, AcmDrvOpenDescW, RawBytes], Field(discriminator="type")
]


class CallPayloads(PayloadModel):
    """The copied data behind lparam1 and/or lparam2 of one call."""

    lparam1: Payload | None = None
    lparam2: Payload | None = None


class Pointer(str, Enum):
    """What a pointer parameter points to (the message catalog says which parameter is which),
    so the recorder copies the data instead of the address. ICM_*/ACMDM_* structs join here."""

    WSTR = "wstr"  # NUL-terminated wide string
    DRVCONFIGINFO = "DRVCONFIGINFO"
    OPEN_STRUCT = "open-struct"  # driver-class open data: ICOPEN*, ACMDRVOPENDESCW*, or any LPARAM


POINTER_PAYLOADS: dict[Pointer, tuple[type[PayloadModel], ...]] = {
    Pointer.WSTR: (WideString,),
    Pointer.DRVCONFIGINFO: (DrvConfigInfo,),
    Pointer.OPEN_STRUCT: (IcOpen, AcmDrvOpenDescW, RawBytes),
}


def admits(kind: Pointer | None, payload: PayloadModel) -> bool:
    """Whether the copied data can be what a parameter of this kind points to (None: not known)."""
    return kind is None or isinstance(payload, POINTER_PAYLOADS[kind])
