"""Build Windows binaries (drvhost.exe, test drivers) with mingw-w64, cached by content.

The documented build command: `python -m drvtape.dllhost.build [--out FILE]` (native/build.sh
runs it): compiles native/drvhost/drvhost.c and prints the path of drvhost.exe. From a
wheel, the same sources ship as package data (drvtape.dllhost.sources).
`--arch x86` builds the 32-bit ones. The compiler is x86_64-w64-mingw32-gcc on PATH (x86:
i686-w64-mingw32-gcc), or the one env DRVTAPE_MINGW_GCC (x86: DRVTAPE_MINGW_GCC_X86) names.
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
from drvtape.schema.entry_points import DEVICE_ENTRY_POINTS

from drvtape.dllhost.arch import ARCHES, X64, Arch
from drvtape.dllhost.cache import cache_root
from drvtape.dllhost.pe_exports import pe_exports
from drvtape.dllhost.slowstep import announced
from drvtape.dllhost.sources import native_root, native_source, shipped_binary

CFLAGS = ("-O2", "-Wall", "-Wextra", "-s", "-static-libgcc")
# x86's WINAPI is stdcall, whose symbols are decorated (DriverProc@20): a DLL exports them
# undecorated, the names winmm and msvfw32 look up (no effect on x64, which has no decoration).
DLL_FLAGS = ("-shared", "-Wl,--kill-at")
NATIVE_COMMON = native_root() / "common"  # drvcommon.h
DRVHOST_PARTS = ("host_output.c", "host_batch.c", "host_schedule.c", "host_call.c", "host_faults.c",
                 "host_watchdog.c", "host_memory.c", "host_mci.c", "id_map.c")  # beside drvhost.c
DRVHOST_SHARED = (("hook", "iat.c"),)  # host_mci.c replaces the driver's winmm imports as the hook does
DRVTAP_PARTS = ("record.c", "memory_capture.c", "tape_writer.c")  # beside drvtap.c
DRVHOOK_PARTS = ("iat.c", "taps.c", "inject.c", "children.c")  # beside drvhook.c


def compiler(arch: Arch = X64) -> str:
    """The mingw-w64 C compiler for arch, or DrvtapeError naming the Debian package."""
    override = os.environ.get(arch.gcc_env)
    found = shutil.which(override or arch.gcc)
    if found is None:
        named = f"{arch.gcc_env}={override}" if override else arch.gcc
        raise DrvtapeError(f"mingw-w64 {arch.name} compiler not found ({named}): "
                           f"install the Debian package {arch.gcc_package}")
    return found


def compile_pe(sources: Sequence[Path], *, dll: bool = False, flags: Sequence[str] = (),
               libs: Sequence[str] = (), announce: str | None = None, arch: Arch = X64) -> Path:
    """Compile sources into one .exe (or .dll) for arch in the cache; reused while the
    sources, the headers beside them and in the -I folders of flags, the flags and libs are
    unchanged. libs (e.g. "-lmsacm32") go after the sources, where the linker looks for what
    they use. A build (not a reuse) says `announce` on stderr while it runs."""
    gcc = compiler(arch)
    args = [*CFLAGS, *flags, *(DLL_FLAGS if dll else ())]
    folders = [Path(src).parent for src in sources] + [Path(f[2:]) for f in flags if f.startswith("-I")]
    headers = sorted({h for folder in folders for h in folder.glob("*.h")})
    digest = hashlib.sha256("\0".join([gcc, *args, *libs]).encode())
    for src in [*map(Path, sources), *headers]:
        digest.update(src.name.encode() + b"\0" + src.read_bytes())
    out_dir = cache_root() / "build"
    out = out_dir / f"{Path(sources[0]).stem}-{arch.name}-{digest.hexdigest()[:16]}{'.dll' if dll else '.exe'}"
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


def _suffix(arch: Arch) -> str:
    return "" if arch is X64 else f" ({arch.name})"


def build_drvhost(arch: Arch = X64) -> Path:
    """drvhost.exe for arch as the wheel ships it, or built from native/drvhost
    (drvtape.dllhost.sources says where that is)."""
    shipped = shipped_binary("drvhost.exe", arch)
    if shipped is not None:
        return shipped
    entry = native_source("drvhost", "drvhost.c")
    shared = [native_source(folder, name) for folder, name in DRVHOST_SHARED]
    sources = [entry, *(entry.with_name(n) for n in DRVHOST_PARTS), *shared]
    includes = [f"-I{NATIVE_COMMON}", *(f"-I{src.parent}" for src in shared)]
    return compile_pe(sources, flags=["-municode", *includes], announce="building drvhost" + _suffix(arch),
                      arch=arch)


def build_drvtap(arch: Arch = X64) -> Path:
    """drvtap.dll for arch, the recording proxy driver: shipped built, or built from native/drvtap."""
    shipped = shipped_binary("drvtap.dll", arch)
    if shipped is not None:
        return shipped
    entry = native_source("drvtap", "drvtap.c")
    sources = [entry, *(entry.with_name(n) for n in DRVTAP_PARTS)]
    return compile_pe(sources, dll=True, flags=[f"-I{NATIVE_COMMON}"], announce="building drvtap" + _suffix(arch),
                      arch=arch)


def build_drvtap_for(real: Path, arch: Arch = X64) -> Path:
    """drvtap.dll to put in front of the real driver: exporting, beside DriverProc, exactly the
    device entry points (wodMessage ... auxMessage) the real driver exports, read from its PE
    export table, so that GetProcAddress on the tap fails where it fails on the real one. A
    real driver with none gets the plain tap; the others a build from the same sources and a
    .def naming those entry points, cached by content (one build per set of entry points)."""
    return build_drvtap_exporting([ep.value for ep in DEVICE_ENTRY_POINTS if ep.value in pe_exports(real)], arch)


def build_drvtap_exporting(names: Sequence[str], arch: Arch = X64) -> Path:
    """drvtap.dll exporting, beside DriverProc, the device entry points named (the plain tap
    for none; the hook's exports them all, handing out only those the real driver has)."""
    if not names:
        return build_drvtap(arch)
    entry = native_source("drvtap", "drvtap.c")
    sources = [entry, *(entry.with_name(n) for n in DRVTAP_PARTS), _exports_def(names, arch)]
    return compile_pe(sources, dll=True, flags=[f"-I{NATIVE_COMMON}"],
                      announce=f"building drvtap with {', '.join(names)}" + _suffix(arch), arch=arch)


def _exports_def(names: Sequence[str], arch: Arch) -> Path:
    """A .def exporting each device entry point name as drvtap.c's tap_<name> (x86: the
    stdcall symbol, decorated with its 20 bytes of arguments), written once per content."""
    decoration = "@20" if arch.pointer_size == 4 else ""
    text = "EXPORTS\n" + "".join(f"    {name} = tap_{name}{decoration}\n" for name in names)
    folder = cache_root() / "build" / "defs"
    path = folder / f"drvtap-{hashlib.sha256(text.encode()).hexdigest()[:16]}.def"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".def")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return path


def build_drvhook(arch: Arch = X64) -> Path:
    """drvhook.dll for arch, the hook `drvtape hook run` loads into a program (native/hook)."""
    entry = native_source("hook", "drvhook.c")
    sources = [entry, *(entry.with_name(n) for n in DRVHOOK_PARTS)]
    return compile_pe(sources, dll=True, flags=[f"-I{NATIVE_COMMON}"], announce="building drvhook" + _suffix(arch),
                      arch=arch)


def build_hooklaunch(arch: Arch = X64) -> Path:
    """hooklaunch.exe for arch, which starts a program with drvhook.dll loaded before its first
    instruction (or loads it into a process another hook started)."""
    entry = native_source("hook", "hooklaunch.c")
    return compile_pe([entry, entry.with_name("inject.c")], flags=["-municode"],
                      announce="building hooklaunch" + _suffix(arch), arch=arch)


def drvhost_obtainable(arch: Arch = X64) -> None:
    """DrvtapeError naming the compiler's Debian package, unless drvhost ships built."""
    if shipped_binary("drvhost.exe", arch) is None:
        compiler(arch)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drvtape.dllhost.build",
                                     description="Build drvhost.exe (or, with --tap, drvtap.dll).")
    parser.add_argument("--tap", action="store_true", help="build drvtap.dll, the recording proxy driver")
    parser.add_argument("--arch", choices=sorted(ARCHES), default=X64.name, help="the architecture (default x64)")
    parser.add_argument("--out", type=Path, help="also copy the binary here")
    args = parser.parse_args(argv)
    arch = ARCHES[args.arch]
    try:
        built = build_drvtap(arch) if args.tap else build_drvhost(arch)
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
