"""Size expressions: how many bytes a pointer parameter's memory has, and how to compute it
from memory already read. Evaluated the same way here (evaluate_size) and in C
(native/common/memcatalog_eval.h, from the table gen_c.py writes); every intermediate
result saturates at 2**64 - 1 in both, so a hostile header yields a huge size (beyond the
cap: not read), never a wrapped small one.

A size is evaluated on the memory of the phase being captured: at call, what the
application passed; at return, what the driver left there (ICM_COMPRESS's output size is
the lpbiOutput.biSizeImage the driver wrote).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from drvtape.schema.memory.layout import Arch, StructLayout

SIZE_MAX = (1 << 64) - 1
SELF = "self"  # a self-sized struct: the recorder reads its header first
PARENT = "parent"  # the struct holding the pointer

BI_BITFIELDS = 3  # wingdi.h
BITMAPINFOHEADER_SIZE = 40
WAVE_FORMAT_PCM = 1  # mmreg.h


class SizeOp(IntEnum):
    CONST = 0
    FIELD = 1
    LPARAM = 2
    DIB_HEADER = 3
    DIB_IMAGE = 4
    WAVEFORMATEX = 5
    WSTR = 6


@dataclass(frozen=True)
class Size:
    """op and its operands; `source` names the node whose memory is read: SELF, PARENT, or
    the path of a node of the same message listed before this one."""

    op: SizeOp
    cap: int
    const: int = 0
    of_layout: bool = False  # CONST: sizeof the node's own layout, for the arch
    field: str | None = None  # FIELD: the field read, by name in source's layout
    source: str = SELF
    mul: int = 1
    add: int = 0


class MemoryReader(Protocol):
    """What a size expression reads: an unsigned little-endian field of a node's memory
    (by node path, as captured so far in this phase), and the message's lParam values."""

    def field(self, path: str, offset: int, width: int) -> int: ...

    def lparam(self, param: int) -> int: ...


@dataclass(frozen=True)
class BytesReader:
    """A MemoryReader over bytes already at hand: {node path: bytes} and (lParam1, lParam2).
    A field beyond the bytes reads as 0."""

    memory: dict[str, bytes]
    lparams: tuple[int, int] = (0, 0)

    def field(self, path: str, offset: int, width: int) -> int:
        data = self.memory.get(path, b"")[offset:offset + width]
        return int.from_bytes(data.ljust(width, b"\0"), "little")

    def lparam(self, param: int) -> int:
        return self.lparams[param - 1] & SIZE_MAX


def const(n: int) -> Size:
    return Size(SizeOp.CONST, cap=n, const=n)


def struct_size(*, cap: int = 64 * 1024) -> Size:
    """sizeof the node's layout (it differs between x64 and x86)."""
    return Size(SizeOp.CONST, cap=cap, of_layout=True)


def field(name: str, *, source: str = SELF, cap: int, mul: int = 1, add: int = 0) -> Size:
    return Size(SizeOp.FIELD, cap=cap, field=name, source=source, mul=mul, add=add)


def other_lparam(*, cap: int) -> Size:
    return Size(SizeOp.LPARAM, cap=cap)


def dib_header(*, cap: int = 64 * 1024) -> Size:
    return Size(SizeOp.DIB_HEADER, cap=cap)


def dib_image(source: str, *, cap: int = 64 * 1024 * 1024) -> Size:
    return Size(SizeOp.DIB_IMAGE, cap=cap, source=source)


def waveformatex(*, cap: int = 64 * 1024) -> Size:
    return Size(SizeOp.WAVEFORMATEX, cap=cap)


def wstr(*, cap: int = 4096) -> Size:
    """A NUL-terminated WCHAR string, its NUL included."""
    return Size(SizeOp.WSTR, cap=cap)


def sat(value: int) -> int:
    return min(value, SIZE_MAX)


def dib_header_size(bi_size: int, bit_count: int, compression: int, clr_used: int) -> int:
    """BITMAPINFOHEADER plus its colour table: biClrUsed entries, else 2**biBitCount for
    1..8 bits; BI_BITFIELDS adds three DWORD masks after a plain 40-byte header (V4/V5
    headers hold the masks inside)."""
    colours = clr_used if clr_used else (1 << bit_count if 1 <= bit_count <= 8 else 0)
    masks = 12 if compression == BI_BITFIELDS and bi_size == BITMAPINFOHEADER_SIZE else 0
    return sat(sat(bi_size + sat(4 * colours)) + masks)


def dib_image_size(size_image: int, width: int, height: int, bit_count: int) -> int:
    """biSizeImage, or the size of an uncompressed image (DWORD-aligned rows) when it is 0."""
    if size_image:
        return size_image
    stride = sat(sat(sat(abs(width) * bit_count) + 31) // 32 * 4)
    return sat(stride * abs(height))


def signed32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


class SizedNode(Protocol):
    """What evaluate_size needs of a catalog node (catalog.Node)."""

    param: int
    layout: StructLayout | None
    size: Size
    size_source: str  # the path of the node the size reads (SELF and PARENT resolved)
    source_layout: StructLayout | None


# (name, offset, width) of the BITMAPINFOHEADER fields the DIB sizes read (same on both arches)
BITMAPINFOHEADER_FIELDS = (
    ("biSize", 0, 4), ("biWidth", 4, 4), ("biHeight", 8, 4), ("biBitCount", 14, 2),
    ("biCompression", 16, 4), ("biSizeImage", 20, 4), ("biClrUsed", 32, 4),
)


def wstr_size(read: MemoryReader, path: str, cap: int) -> int:
    """Bytes up to and with the first NUL WCHAR within cap; cap + 2 (beyond it: not read)
    when there is none."""
    for unit in range(cap // 2):
        if read.field(path, 2 * unit, 2) == 0:
            return 2 * unit + 2
    return cap + 2


def evaluate_size(node: SizedNode, arch: Arch, read: MemoryReader) -> int:
    """The byte count of node's memory (may exceed node.size.cap: then it is not read)."""
    size, path = node.size, node.size_source
    if size.op == SizeOp.CONST:
        return node.layout.size(arch) if size.of_layout else size.const
    if size.op == SizeOp.LPARAM:
        return read.lparam(3 - node.param)
    if size.op == SizeOp.FIELD:
        placed = node.source_layout.field(size.field, arch)
        return sat(sat(read.field(path, placed.offset, placed.size) * size.mul) + size.add)
    if size.op == SizeOp.WSTR:
        return wstr_size(read, path, size.cap)
    if size.op == SizeOp.WAVEFORMATEX:
        tag, cb_size = read.field(path, 0, 2), read.field(path, 16, 2)
        return 16 if tag == WAVE_FORMAT_PCM else 18 + cb_size
    bi = {name: read.field(path, offset, width) for name, offset, width in BITMAPINFOHEADER_FIELDS}
    if size.op == SizeOp.DIB_HEADER:
        return dib_header_size(bi["biSize"], bi["biBitCount"], bi["biCompression"], bi["biClrUsed"])
    return dib_image_size(bi["biSizeImage"], signed32(bi["biWidth"]), signed32(bi["biHeight"]), bi["biBitCount"])
