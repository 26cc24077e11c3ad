"""Where the C sources of drvhost and drvtap are: native/ in a source checkout (and an
editable install), or the copy a built wheel ships as drvtape/_native (setup.py), with the
binaries built from them in drvtape/_native/bin (x86 ones in bin/x86) where the wheel's build
had mingw-w64."""
from __future__ import annotations

from pathlib import Path

from drvtape.dllhost.arch import X64, Arch
from drvtape.errors import DrvtapeError

_PACKAGE = Path(__file__).resolve().parents[1]
SHIPPED = _PACKAGE / "_native"
CHECKOUT = _PACKAGE.parent / "native"


def native_root() -> Path:
    return SHIPPED if SHIPPED.is_dir() else CHECKOUT


def shipped_binary(name: str, arch: Arch = X64) -> Path | None:
    """drvhost.exe or drvtap.dll for arch as the wheel ships it built, if it does."""
    path = SHIPPED / "bin" / ("" if arch is X64 else arch.name) / name
    return path if path.is_file() else None


def native_source(*parts: str) -> Path:
    """native/<parts>, or DrvtapeError saying the installation lacks it."""
    path = native_root().joinpath(*parts)
    if not path.is_file():
        raise DrvtapeError(f"{path.name} not found at {path}: this drvtape installation lacks its native "
                           f"sources (reinstall it, or use a source checkout)")
    return path
