"""Which architecture a Windows binary is built for: the machine field of its PE header.

winnt.h: the DOS header starts "MZ" and holds at offset 0x3C (e_lfanew) where the NT headers
start; they start "PE\\0\\0", then IMAGE_FILE_HEADER, whose first field (u16) is the machine.
"""
from __future__ import annotations

import struct
from pathlib import Path

from drvtape.dllhost.arch import ARCHES, Arch
from drvtape.errors import DrvtapeError

_BY_MACHINE = {a.pe_machine: a for a in ARCHES.values()}
_KNOWN_OTHERS = {0xAA64: "ARM64", 0x01C4: "ARM (Thumb-2)", 0x0200: "Itanium"}
_E_LFANEW = 0x3C


def pe_machine(path: Path) -> int:
    """The PE machine field of the file, or DrvtapeError saying why it is not a PE file."""
    try:
        with open(path, "rb") as f:
            dos = f.read(_E_LFANEW + 4)
            if len(dos) < _E_LFANEW + 4 or dos[:2] != b"MZ":
                raise DrvtapeError(f"cannot load {path}: not a Windows DLL or program (no MZ header)")
            (nt_at,) = struct.unpack_from("<I", dos, _E_LFANEW)
            f.seek(nt_at)
            nt = f.read(6)
    except OSError as e:
        raise DrvtapeError(f"cannot load {path}: {e.strerror or e}") from None
    if len(nt) < 6 or nt[:4] != b"PE\0\0":
        raise DrvtapeError(f"cannot load {path}: not a Windows DLL or program (no PE header)")
    return struct.unpack_from("<H", nt, 4)[0]


def pe_arch(path: Path) -> Arch:
    """The architecture drvtape runs the file as, or DrvtapeError naming its machine."""
    machine = pe_machine(path)
    arch = _BY_MACHINE.get(machine)
    if arch is None:
        named = _KNOWN_OTHERS.get(machine, "an unknown machine")
        raise DrvtapeError(f"cannot load {path}: it is built for {named} (PE machine 0x{machine:04x}); "
                           "drvtape runs x64 (0x8664) and x86 (0x014c) ones")
    return arch
