"""The two Windows architectures drvtape builds for and runs: x64 and x86 (32-bit).

Each names its PE machine (winnt.h: IMAGE_FILE_MACHINE_AMD64 0x8664, IMAGE_FILE_MACHINE_I386
0x014c), its mingw-w64 compiler and the Debian package holding it, and its Wine loader and
package (Debian's wine64 ships /usr/lib/wine/wine64, wine32:i386 /usr/lib/wine/wine).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arch:
    name: str  # x64 or x86
    pe_machine: int
    pointer_size: int
    gcc: str
    gcc_package: str
    gcc_env: str  # names another compiler
    wine: str  # the loader's default path
    wine_on_path: str
    wine_package: str
    wine_install: str  # how to get wine_package on Debian
    wine_env: str  # names another loader


X64 = Arch("x64", 0x8664, 8, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64", "DRVTAPE_MINGW_GCC",
           "/usr/lib/wine/wine64", "wine64", "wine64", "apt-get install wine64", "DRVTAPE_WINE")
X86 = Arch("x86", 0x014C, 4, "i686-w64-mingw32-gcc", "gcc-mingw-w64-i686", "DRVTAPE_MINGW_GCC_X86",
           "/usr/lib/wine/wine", "wine", "wine32:i386",
           "dpkg --add-architecture i386 && apt-get update && apt-get install wine32:i386", "DRVTAPE_WINE_X86")
ARCHES = {a.name: a for a in (X64, X86)}
