"""Ships native/ (the C sources drvtape builds drvhost and drvtap from) inside the wheel, and
drvhost.exe and drvtap.dll built from them (x64 in bin/, x86 in bin/x86/) where this build has
the mingw-w64 compiler for them.

native/ stays at the repository root, where it is edited; building the package copies its
.c and .h files into drvtape/_native in the build tree, never into the source tree, and
builds the binaries into drvtape/_native/bin with drvtape's own build command (its imports
are the standard library's only). A source checkout, and so an editable install, uses
native/ itself (drvtape.dllhost.sources).

It also builds drvtape.store.sqlite_rows, the host's C insert path for SQLite (sources in
drvtape/store/native/; gcc, Python's headers, libsqlite3-dev, libssl-dev and zlib1g-dev):
optional, as drvtape takes the Python path without it (drvtape/store/native_insert.py). And,
optional too and needing Python's headers only: drvtape.runtime.gate, the replay lanes'
hand-over (drvtape/runtime/native/gate.c; without it the lanes hand over through
threading.Lock, drvtape/runtime/handover.py), and drvtape.formats.plain_lines, import's and
export's plain JSONL lines (drvtape/formats/native/; without it orjson and
drvtape/formats/plain_rows.py).
"""
import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
NATIVE = ROOT / "native"
SHIPPED = ("*.c", "*.h")
BINARIES = {"drvhost.exe": [], "drvtap.dll": ["--tap"],
            "x86/drvhost.exe": ["--arch", "x86"], "x86/drvtap.dll": ["--tap", "--arch", "x86"]}


class BuildPyWithNative(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "drvtape" / "_native"
        for pattern in SHIPPED:
            for src in NATIVE.rglob(pattern):
                rel = src.relative_to(NATIVE)
                if rel.parts[0] == "build":  # native/build.sh's output folder
                    continue
                self.mkpath(str((target / rel).parent))
                self.copy_file(str(src), str(target / rel), preserve_mode=False)
        self.build_binaries(target / "bin")

    def build_binaries(self, out: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for name, args in BINARIES.items():
            done = subprocess.run([sys.executable, "-m", "drvtape.dllhost.build", *args, "--out", str(out / name)],
                                  env=env, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:  # no compiler for it here: the wheel builds it on first use instead
                self.warn(f"shipping no built {name}: {done.stderr.strip()}")


SQLITE_ROWS = Extension(
    "drvtape.store.sqlite_rows",
    sources=sorted(str(p.relative_to(ROOT)) for p in (ROOT / "drvtape" / "store" / "native").glob("*.c")),
    libraries=["sqlite3", "crypto", "z"],  # the libsqlite3 Python's sqlite3 links; OpenSSL's SHA-256; zlib's CRC32
    extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
    optional=True,
)

GATE = Extension(
    "drvtape.runtime.gate",
    sources=["drvtape/runtime/native/gate.c"],
    extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
    optional=True,
)

# drvtape's plain JSONL lines read and written in C for import and export (drvtape/formats/plain_rows.py), optional too
PLAIN_LINES = Extension(
    "drvtape.formats.plain_lines",
    sources=sorted(str(p.relative_to(ROOT)) for p in (ROOT / "drvtape" / "formats" / "native").glob("*.c")),
    extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
    optional=True,
)

setup(cmdclass={"build_py": BuildPyWithNative}, ext_modules=[SQLITE_ROWS, GATE, PLAIN_LINES])
