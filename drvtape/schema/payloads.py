"""What a pointer parameter pointed to, copied at record time and rebuilt at replay.

A recorded address is never replayed: these models are the only pointer data a replay uses.
Field names follow the Windows structs (ICOPEN from vfw.h, DRVCONFIGINFO from mmsystem.h,
ACMDRVOPENDESCW from Wine's msacmdrv.h); reserved pointer members are not kept.
"""

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from drvtape.schema.values import Int64, UInt32

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_TEXT_CHARS = MAX_PAYLOAD_BYTES // 2


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WideString(_Payload):
    type: Literal["wstr"] = "wstr"
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


OptionalText = Annotated[str, Field(max_length=MAX_TEXT_CHARS)] | None


class DrvConfigInfo(_Payload):
    type: Literal["DRVCONFIGINFO"] = "DRVCONFIGINFO"
    section: OptionalText = None
    alias: OptionalText = None


class IcOpen(_Payload):
    type: Literal["ICOPEN"] = "ICOPEN"
    dwSize: UInt32
    fccType: UInt32
    fccHandler: UInt32
    dwVersion: UInt32 = 0
    dwFlags: UInt32 = 0
    dwError: Int64 = 0
    dnDevNode: UInt32 = 0


class AcmDrvOpenDescW(_Payload):
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


class RawBytes(_Payload):
    type: Literal["bytes"] = "bytes"
    hex: Annotated[str, Field(max_length=2 * MAX_PAYLOAD_BYTES, pattern=r"^([0-9a-fA-F]{2})*$")]


Payload = Annotated[
    Union[WideString, DrvConfigInfo, IcOpen, AcmDrvOpenDescW, RawBytes], Field(discriminator="type")
]


class CallPayloads(_Payload):
    """The copied data behind lparam1 and/or lparam2 of one call."""

    lparam1: Payload | None = None
    lparam2: Payload | None = None
