"""The names a Windows DLL exports: its PE export table.

winnt.h: after the NT signature come IMAGE_FILE_HEADER (20 bytes: NumberOfSections at +2,
SizeOfOptionalHeader at +16) and the optional header, whose Magic (0x10b PE32, 0x20b PE32+)
says where its data directories start (+96 and +112); directory 0 is the export table's RVA
and size. The section headers (40 bytes each: VirtualSize +8, VirtualAddress +12,
SizeOfRawData +16, PointerToRawData +20) map RVAs to file offsets. IMAGE_EXPORT_DIRECTORY
holds NumberOfNames at +24 and AddressOfNames (an RVA of u32 name RVAs) at +32.
"""
from __future__ import annotations

import struct
from pathlib import Path

from drvtape.errors import DrvtapeError

_E_LFANEW = 0x3C
_DIRECTORIES_AT = {0x10B: 96, 0x20B: 112}
_MAX_NAMES = 65536


def pe_exports(path: Path) -> frozenset[str]:
    """Every name the DLL exports (none when it has no export table); DrvtapeError when it
    is not a PE file or its tables point outside it."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DrvtapeError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return _exports(data)
    except (struct.error, IndexError, ValueError) as e:
        raise DrvtapeError(f"cannot read the export table of {path}: {e}") from None


def _exports(data: bytes) -> frozenset[str]:
    if data[:2] != b"MZ":
        raise ValueError("not a Windows DLL (no MZ header)")
    (nt,) = struct.unpack_from("<I", data, _E_LFANEW)
    if data[nt:nt + 4] != b"PE\0\0":
        raise ValueError("not a Windows DLL (no PE header)")
    n_sections, optional_size = struct.unpack_from("<H", data, nt + 6)[0], struct.unpack_from("<H", data, nt + 20)[0]
    optional = nt + 24
    (magic,) = struct.unpack_from("<H", data, optional)
    if magic not in _DIRECTORIES_AT:
        raise ValueError(f"optional header magic 0x{magic:x}")
    export_rva, export_size = struct.unpack_from("<II", data, optional + _DIRECTORIES_AT[magic])
    if export_rva == 0 or export_size == 0:
        return frozenset()
    sections = [struct.unpack_from("<IIII", data, optional + optional_size + 40 * i + 8) for i in range(n_sections)]

    def offset(rva: int) -> int:
        for size, address, raw_size, raw_at in sections:
            if address <= rva < address + max(size, raw_size):
                return raw_at + rva - address
        raise ValueError(f"RVA 0x{rva:x} is in no section")

    directory = offset(export_rva)
    n_names, names_rva = struct.unpack_from("<I", data, directory + 24)[0], struct.unpack_from("<I", data, directory + 32)[0]
    if n_names > _MAX_NAMES:
        raise ValueError(f"{n_names} exported names")
    names_at = offset(names_rva) if n_names else 0
    names = set()
    for i in range(n_names):
        at = offset(struct.unpack_from("<I", data, names_at + 4 * i)[0])
        end = data.index(b"\0", at)
        names.add(data[at:end].decode("ascii", "replace"))
    return frozenset(names)
