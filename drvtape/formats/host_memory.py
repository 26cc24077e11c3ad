"""The memory part of the drvhost protocol (v3, drvhost.c's header comment): the ops that
rebuild a call's memory in the host before it is issued, and read back what the driver
wrote after it returned.

Blocks are named by id (1, 2, ...; 0 is NULL). A block lives from its ALLOC to its FREE and
may serve many calls; the host knows no layouts, only ids, offsets and bytes.

A recorded DRV_* payload (the older pointer data: a wide string, DRVCONFIGINFO, ICOPEN,
ACMDRVOPENDESCW, raw bytes) becomes one block for its call: an image of the struct followed
by the data its pointers point at; each relocation (at, target) patches the address of
image+target in at image+at. NULL pointers are zero bytes with no relocation.

Layouts (checked with offsetof/sizeof under x86_64- and i686-w64-mingw32-gcc), x64 | x86:
- DRVCONFIGINFO (mmsystem.h, which is byte-packed in the Windows SDK and mingw-w64):
  DWORD dwDCISize @0, LPCWSTR lpszDCISectionName @4, LPCWSTR lpszDCIAliasName @12 | @8;
  20 | 12 bytes.
- ICOPEN (vfw.h, natural alignment): dwSize @0, fccType @4, fccHandler @8, dwVersion @12,
  dwFlags @16, LRESULT dwError @24 | @20, pV1Reserved @32 | @24, pV2Reserved @40 | @28,
  dnDevNode @48 | @32; 56 | 36 bytes.
- ACMDRVOPENDESCW (Wine's msacmdrv.h, natural alignment): cbStruct @0, fccType @4,
  fccComp @8, dwVersion @12, dwFlags @16, dwError @20, pszSectionName @24,
  pszAliasName @32 | @28, dnDevNode @40 | @36; 48 | 36 bytes (x64: 44 if a header packs
  it: the offsets agree).
The host is built for the driver's arch, so a payload is laid out for the host's pointer size.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from drvtape.errors import DrvtapeError
from drvtape.schema.payloads import MAX_PAYLOAD_BYTES

ALLOC, WRITE, PATCH, FREE, READ = range(1, 6)
_OP = struct.Struct("<IIQQII")


@dataclass(frozen=True)
class HostOp:
    op: int
    block: int
    offset: int = 0
    length: int = 0  # ALLOC: size; READ: bytes; PATCH: offset in the target block
    target: int = 0  # PATCH: the block whose address is stored (0: NULL)
    width: int = 0  # PATCH: the host's pointer size (8 on x64, 4 on x86)
    data: bytes = b""  # WRITE


def alloc(block: int, size: int) -> HostOp:
    return HostOp(ALLOC, block, length=size)


def write(block: int, offset: int, data: bytes) -> HostOp:
    return HostOp(WRITE, block, offset, len(data), data=data)


def patch(block: int, offset: int, width: int, target: int, target_offset: int = 0) -> HostOp:
    return HostOp(PATCH, block, offset, target_offset, target=target, width=width)


def read(block: int, offset: int, length: int) -> HostOp:
    return HostOp(READ, block, offset, length)


def free(block: int) -> HostOp:
    return HostOp(FREE, block)


def encode_ops(ops: Iterable[HostOp]) -> bytes:
    parts = []
    for op in ops:
        parts.append(_OP.pack(op.op, op.block, op.offset, op.length, op.target, op.width))
        if op.op == WRITE:
            parts.append(op.data + b"\0" * (-len(op.data) % 8))
    return b"".join(parts)


def payload_ops(payload: dict, block: int, pointer_size: int = 8) -> tuple[HostOp, ...]:
    """A recorded DRV_* payload as one block living for its call, laid out for a host whose
    pointers are pointer_size bytes (8: x64, 4: x86)."""
    image, relocs = payload_image(payload, pointer_size)
    return (alloc(block, len(image)), write(block, 0, image),
            *(patch(block, at, pointer_size, block, target) for at, target in relocs), free(block))


# Room for the largest payload the schema admits, so every session an import or a workload
# accepts can be sent to a DLL: a struct with two strings of MAX_TEXT_CHARS characters, each
# a surrogate pair in UTF-16 when outside the BMP (ACMDRVOPENDESCW, 262,202 bytes). drvhost's
# own bound is per block (MAX_BLOCK in native/drvhost/host_memory.c), far above it.
MAX_PAYLOAD = 8 * MAX_PAYLOAD_BYTES
_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1

# by pointer size: 8 (x64), 4 (x86); x pads are zero bytes
_DRVCONFIGINFO = {8: struct.Struct("<IQQ"), 4: struct.Struct("<III")}
_ICOPEN = {8: struct.Struct("<IIIII4xQQQI4x"), 4: struct.Struct("<IIIIIIIII")}
_ACMDRVOPENDESCW = {8: struct.Struct("<IIIIIIQQI4x"), 4: struct.Struct("<IIIIIIIII")}


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


def _drvconfiginfo(p: dict, ptr: int) -> tuple[bytes, list[tuple[int, int]]]:
    layout = _DRVCONFIGINFO[ptr]
    return _with_strings(layout.pack(layout.size, 0, 0), {4: p["section"], 4 + ptr: p["alias"]})


def _icopen(p: dict, ptr: int) -> tuple[bytes, list[tuple[int, int]]]:
    fields = (p["dwSize"], p["fccType"], p["fccHandler"], p["dwVersion"], p["dwFlags"])
    error = p["dwError"] & (_M64 if ptr == 8 else _M32)
    return _ICOPEN[ptr].pack(*(f & _M32 for f in fields), error, 0, 0, p["dnDevNode"] & _M32), []


def _acmdrvopendescw(p: dict, ptr: int) -> tuple[bytes, list[tuple[int, int]]]:
    fields = (p["cbStruct"], p["fccType"], p["fccComp"], p["dwVersion"], p["dwFlags"], p["dwError"])
    head = _ACMDRVOPENDESCW[ptr].pack(*(f & _M32 for f in fields), 0, 0, p["dnDevNode"] & _M32)
    return _with_strings(head, {24: p["section"], 24 + ptr: p["alias"]})


_BUILDERS = {
    "wstr": lambda p, ptr: (_wstr(p["text"]), []),
    "bytes": lambda p, ptr: (bytes.fromhex(p["hex"]), []),
    "DRVCONFIGINFO": _drvconfiginfo,
    "ICOPEN": _icopen,
    "ACMDRVOPENDESCW": _acmdrvopendescw,
}


def payload_image(payload: dict, pointer_size: int = 8) -> tuple[bytes, list[tuple[int, int]]]:
    """The image and relocations for one recorded payload, laid out for pointer_size; DrvtapeError
    when it cannot be rebuilt."""
    kind = payload.get("type")
    build = _BUILDERS.get(kind)
    if build is None:
        raise DrvtapeError(f"cannot rebuild a pointer payload of type {kind!r}")
    try:
        image, relocs = build(payload, pointer_size)
    except (KeyError, TypeError, ValueError) as e:
        raise DrvtapeError(f"bad {kind} payload: {e!r}") from None
    if len(image) > MAX_PAYLOAD:
        raise DrvtapeError(f"{kind} payload of {len(image)} bytes exceeds the {MAX_PAYLOAD}-byte cap")
    return image, relocs
