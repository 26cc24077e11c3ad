"""Build Windows binaries (drvhost.exe, test drivers) with mingw-w64, cached by content.

The documented build command: `python -m drvtape.dllhost.build [--out FILE]` (native/build.sh
runs it): compiles native/drvhost/drvhost.c and prints the path of drvhost.exe. From a
wheel, the same sources ship as package data (drvtape.dllhost.sources).
The compiler is x86_64-w64-mingw32-gcc on PATH, or the one env DRVTAPE_MINGW_GCC names.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from drvtape.errors import DrvtapeError

from drvtape.dllhost.cache import cache_root
from drvtape.dllhost.slowstep import announced
from drvtape.dllhost.sources import native_root, native_source, shipped_binary

GCC_ENV = "DRVTAPE_MINGW_GCC"
GCC_NAME = "x86_64-w64-mingw32-gcc"
GCC_PACKAGE = "gcc-mingw-w64-x86-64"
CFLAGS = ("-O2", "-Wall", "-Wextra", "-s", "-static-libgcc")
NATIVE_COMMON = native_root() / "common"  # drvcommon.h
DRVHOST_PARTS = ("host_output.c", "host_batch.c", "host_memory.c", "id_map.c")  # beside drvhost.c
DRVTAP_PARTS = ("record.c", "memory_capture.c", "tape_writer.c")  # beside drvtap.c


def compiler() -> str:
    """The mingw-w64 x86_64 C compiler, or DrvtapeError naming the Debian package."""
    override = os.environ.get(GCC_ENV)
    found = shutil.which(override or GCC_NAME)
    if found is None:
        named = f"{GCC_ENV}={override}" if override else GCC_NAME
        raise DrvtapeError(f"mingw-w64 compiler not found ({named}): install the Debian package {GCC_PACKAGE}")
    return found


def compile_pe(sources: Sequence[Path], *, dll: bool = False, flags: Sequence[str] = (),
               libs: Sequence[str] = (), announce: str | None = None) -> Path:
    """Compile sources into one .exe (or .dll) in the cache; reused while the sources, the
    headers beside them and in the -I folders of flags, the flags and libs are unchanged. libs
    (e.g. "-lmsacm32") go after the sources, where the linker looks for what they use. A build
    (not a reuse) says `announce` on stderr while it runs."""
    gcc = compiler()
    args = [*CFLAGS, *flags, *(["-shared"] if dll else [])]
    folders = [Path(src).parent for src in sources] + [Path(f[2:]) for f in flags if f.startswith("-I")]
    headers = sorted({h for folder in folders for h in folder.glob("*.h")})
    digest = hashlib.sha256("\0".join([gcc, *args, *libs]).encode())
    for src in [*map(Path, sources), *headers]:
        digest.update(src.name.encode() + b"\0" + src.read_bytes())
    out_dir = cache_root() / "build"
    out = out_dir / f"{Path(sources[0]).stem}-{digest.hexdigest()[:16]}{'.dll' if dll else '.exe'}"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=out.suffix)
    os.close(fd)
    try:
        with announced(announce) if announce else contextlib.nullcontext():
            proc = subprocess.run([gcc, *args, "-o", tmp, *map(str, sources), *libs], capture_output=True, text=True)
        if proc.returncode != 0:
            first = next((line for line in proc.stderr.splitlines() if "error" in line), proc.stderr.strip())
            raise DrvtapeError(f"compiling {Path(sources[0]).name} failed: {first}")
        os.replace(tmp, out)  # atomic: parallel builds of the same key are harmless
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def build_drvhost() -> Path:
    """drvhost.exe as the wheel ships it, or built from native/drvhost (drvtape.dllhost.sources
    says where that is)."""
    shipped = shipped_binary("drvhost.exe")
    if shipped is not None:
        return shipped
    entry = native_source("drvhost", "drvhost.c")
    sources = [entry, *(entry.with_name(n) for n in DRVHOST_PARTS)]
    return compile_pe(sources, flags=["-municode", f"-I{NATIVE_COMMON}"], announce="building drvhost")


def build_drvtap() -> Path:
    """drvtap.dll, the recording proxy driver: shipped built, or built from native/drvtap."""
    shipped = shipped_binary("drvtap.dll")
    if shipped is not None:
        return shipped
    entry = native_source("drvtap", "drvtap.c")
    sources = [entry, *(entry.with_name(n) for n in DRVTAP_PARTS)]
    return compile_pe(sources, dll=True, flags=[f"-I{NATIVE_COMMON}"], announce="building drvtap")


def drvhost_obtainable() -> None:
    """DrvtapeError naming the compiler's Debian package, unless drvhost ships built."""
    if shipped_binary("drvhost.exe") is None:
        compiler()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drvtape.dllhost.build",
                                     description="Build drvhost.exe (or, with --tap, drvtap.dll).")
    parser.add_argument("--tap", action="store_true", help="build drvtap.dll, the recording proxy driver")
    parser.add_argument("--out", type=Path, help="also copy the binary here")
    args = parser.parse_args(argv)
    try:
        built = build_drvtap() if args.tap else build_drvhost()
    except DrvtapeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, args.out)
        built = args.out
    print(built)
    return 0


if __name__ == "__main__":
    sys.exit(main())
