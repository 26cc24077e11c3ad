"""Recorded pointer payloads -> memory images the host rebuilds (x64 layouts).

An image is the bytes of the struct followed by the data its pointers point at; each
relocation (at, target) tells the host to store the address of image+target at image+at.
NULL pointers are zero bytes with no relocation. Recorded addresses are never sent.

Layouts, x64:
- DRVCONFIGINFO (mmsystem.h, which is byte-packed in the Windows SDK and mingw-w64):
  DWORD dwDCISize @0, LPCWSTR lpszDCISectionName @4, LPCWSTR lpszDCIAliasName @12; 20 bytes.
- ICOPEN (vfw.h, natural alignment): dwSize @0, fccType @4, fccHandler @8, dwVersion @12,
  dwFlags @16, LRESULT dwError @24, pV1Reserved @32, pV2Reserved @40, dnDevNode @48; 56 bytes.
- ACMDRVOPENDESCW (Wine's msacmdrv.h, natural alignment): cbStruct @0, fccType @4,
  fccComp @8, dwVersion @12, dwFlags @16, dwError @20, pszSectionName @24,
  pszAliasName @32, dnDevNode @40; 48 bytes (44 if a header packs it: the offsets agree).
"""
from __future__ import annotations

import struct

from drvtape.errors import DrvtapeError
from drvtape.schema.payloads import MAX_PAYLOAD_BYTES

# drvhost's cap on one image (MAX_PAYLOAD in native/drvhost/host_batch.c, the same number):
# room for the largest the schema admits, so every session an import or a workload accepts
# can be sent to a DLL. That is a struct with two strings of MAX_TEXT_CHARS characters, each
# a surrogate pair in UTF-16 when outside the BMP: ACMDRVOPENDESCW, 262,202 bytes.
MAX_PAYLOAD = 8 * MAX_PAYLOAD_BYTES
_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1

_DRVCONFIGINFO = struct.Struct("<IQQ")
_ICOPEN = struct.Struct("<IIIIIIQQQII")
_ACMDRVOPENDESCW = struct.Struct("<IIIIIIQQII")


def _wstr(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass") + b"\0\0"


def _with_strings(head: bytes, pointers: dict[int, str | None]) -> tuple[bytes, list[tuple[int, int]]]:
    """head, then each non-None string 8-aligned after it; pointers maps offset in head -> string."""
    image = bytearray(head)
    relocs = []
    for at, text in pointers.items():
        if text is None:
            continue
        image.extend(b"\0" * (-len(image) % 8))
        relocs.append((at, len(image)))
        image.extend(_wstr(text))
    return bytes(image), relocs


def _drvconfiginfo(p: dict) -> tuple[bytes, list[tuple[int, int]]]:
    head = _DRVCONFIGINFO.pack(_DRVCONFIGINFO.size, 0, 0)
    return _with_strings(head, {4: p["section"], 12: p["alias"]})


def _icopen(p: dict) -> tuple[bytes, list[tuple[int, int]]]:
    fields = (p["dwSize"], p["fccType"], p["fccHandler"], p["dwVersion"], p["dwFlags"])
    head = _ICOPEN.pack(*(f & _M32 for f in fields), 0, p["dwError"] & _M64, 0, 0, p["dnDevNode"] & _M32, 0)
    return head, []


def _acmdrvopendescw(p: dict) -> tuple[bytes, list[tuple[int, int]]]:
    fields = (p["cbStruct"], p["fccType"], p["fccComp"], p["dwVersion"], p["dwFlags"], p["dwError"])
    head = _ACMDRVOPENDESCW.pack(*(f & _M32 for f in fields), 0, 0, p["dnDevNode"] & _M32, 0)
    return _with_strings(head, {24: p["section"], 32: p["alias"]})


_BUILDERS = {
    "wstr": lambda p: (_wstr(p["text"]), []),
    "bytes": lambda p: (bytes.fromhex(p["hex"]), []),
    "DRVCONFIGINFO": _drvconfiginfo,
    "ICOPEN": _icopen,
    "ACMDRVOPENDESCW": _acmdrvopendescw,
}


def payload_image(payload: dict) -> tuple[bytes, list[tuple[int, int]]]:
    """The image and relocations for one recorded payload; DrvtapeError when it cannot be rebuilt."""
    kind = payload.get("type")
    build = _BUILDERS.get(kind)
    if build is None:
        raise DrvtapeError(f"cannot rebuild a pointer payload of type {kind!r}")
    try:
        image, relocs = build(payload)
    except (KeyError, TypeError, ValueError) as e:
        raise DrvtapeError(f"bad {kind} payload: {e!r}") from None
    if len(image) > MAX_PAYLOAD:
        raise DrvtapeError(f"{kind} payload of {len(image)} bytes exceeds the {MAX_PAYLOAD}-byte cap")
    return image, relocs
