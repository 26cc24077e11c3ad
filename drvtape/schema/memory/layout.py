"""C struct layouts for both Windows ABIs: field offsets and sizes computed from C types
with the C rules (each field at a multiple of its alignment, capped by the pack; the
struct padded to its largest alignment), for "x64" (LLP64, 8-byte pointers) and "x86".

tests/native/test_memcatalog_layouts.py compiles offsetof/sizeof checks of every layout
with both mingw compilers, so a layout here is what the headers say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Arch = Literal["x64", "x86"]
ARCHES: tuple[Arch, ...] = ("x64", "x86")
POINTER_SIZE: dict[Arch, int] = {"x64": 8, "x86": 4}


@dataclass(frozen=True)
class CType:
    name: str
    width: int | None  # bytes; None: pointer-sized (8 on x64, 4 on x86)
    signed: bool = False
    pointer: bool = False  # the value is an address (a pointer field replay must patch)
    char: bool = False  # a WCHAR: arrays of it decode as text

    def size(self, arch: Arch) -> int:
        return POINTER_SIZE[arch] if self.width is None else self.width


WORD = CType("WORD", 2)
WCHAR = CType("WCHAR", 2, char=True)
DWORD = CType("DWORD", 4)
LONG = CType("LONG", 4, signed=True)
INT = CType("int", 4, signed=True)
UINT = CType("UINT", 4)
DWORD_PTR = CType("DWORD_PTR", None)  # also LPARAM-sized handles and callback pointers kept as values
LRESULT = CType("LRESULT", None, signed=True)
HANDLE = CType("HANDLE", None)
PTR = CType("PTR", None, pointer=True)


@dataclass(frozen=True)
class Field:
    name: str
    ctype: CType
    count: int = 1  # > 1: an array

    def size(self, arch: Arch) -> int:
        return self.ctype.size(arch) * self.count


@dataclass(frozen=True)
class PlacedField:
    name: str
    offset: int
    size: int
    ctype: CType
    count: int


@dataclass(frozen=True)
class StructLayout:
    name: str  # the C typedef, as the headers spell it
    fields: tuple[Field, ...]
    pack: int | None = None  # #include <pshpackN.h> around the definition

    def placed(self, arch: Arch) -> tuple[PlacedField, ...]:
        out, offset = [], 0
        for f in self.fields:
            align = self._align(f.ctype, arch)
            offset = -(-offset // align) * align
            out.append(PlacedField(f.name, offset, f.size(arch), f.ctype, f.count))
            offset += f.size(arch)
        return tuple(out)

    def size(self, arch: Arch) -> int:
        end = max((p.offset + p.size for p in self.placed(arch)), default=0)
        align = max((self._align(f.ctype, arch) for f in self.fields), default=1)
        return -(-end // align) * align

    def field(self, name: str, arch: Arch) -> PlacedField:
        for p in self.placed(arch):
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no field {name!r}")

    def offset(self, name: str, arch: Arch) -> int:
        return self.field(name, arch).offset

    def _align(self, ctype: CType, arch: Arch) -> int:
        natural = ctype.size(arch)
        return natural if self.pack is None else min(natural, self.pack)


def struct(name: str, *fields: tuple, pack: int | None = None) -> StructLayout:
    """A layout from (name, ctype) or (name, ctype, count) tuples, in declaration order."""
    return StructLayout(name, tuple(Field(*f) for f in fields), pack)
