"""What drvtape uses from the machine, found or not, and what to install for each missing one
(Debian package names): Wine's 64- and 32-bit loaders, the mingw-w64 x64 and x86 compilers
(drvhost, drvtap and test drivers), ffmpeg (the media the codec tests decode) and the
PostgreSQL server (the engine tests; a store on a server needs only its URL)."""
from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, X86, Arch
from drvtape.dllhost.build import compiler
from drvtape.errors import DrvtapeError


@dataclass(frozen=True)
class Tool:
    name: str
    path: str | None  # None: missing
    install: str  # how to get it on Debian

    @property
    def present(self) -> bool:
        return self.path is not None


def _found(find: Callable[[], str]) -> str | None:
    try:
        return find()
    except DrvtapeError:
        return None


def _wine(arch: Arch) -> Tool:
    name = f"Wine {'64' if arch is X64 else '32'}-bit"
    if os.name == "nt":
        return Tool(name, "(not needed: Windows runs the programs itself)", "")
    return Tool(name, _found(lambda: wine.wine_binary(arch)), arch.wine_install)


def _mingw(arch: Arch) -> Tool:
    return Tool(f"mingw-w64 {arch.name}", _found(lambda: compiler(arch)), f"apt-get install {arch.gcc_package}")


def _postgres() -> str | None:
    servers = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return servers[-1] if servers else shutil.which("initdb")


def tools() -> list[Tool]:
    return [_wine(X64), _wine(X86), _mingw(X64), _mingw(X86),
            Tool("ffmpeg", shutil.which("ffmpeg"), "apt-get install ffmpeg"),
            Tool("PostgreSQL", _postgres(), "apt-get install postgresql")]
