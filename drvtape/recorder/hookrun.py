"""`drvtape hook run`: run a program with the recording hook in it, and keep its tapes.

hooklaunch.exe starts the program suspended, has it load drvhook.dll before its first
instruction, and resumes it (native/hook). The hook gives every driver the process loads a copy
of the tap (drvtap.dll) in front of it, so the tapes are the tap's: one session per driver per
process. Everything the hook writes is in a fresh folder of the run's (the tap's copies, their
configuration, the tapes): no registry value and no file elsewhere is changed, and no
administrator rights are needed. With follow_children the hook loads itself into every
process the program starts, and theirs, recording to the same folder. A 32-bit program runs
with the x86 builds (launcher, hook, tap), kept in the folder's x86/ where its tapes go too;
they are there also for an x64 program's 32-bit children (when the x86 compiler is). The
prefix, the signals and the program's output are as for `tap run` (drvtape.recorder.taprun).
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, X86, Arch
from drvtape.dllhost.build import build_drvhook, build_drvtap_exporting, build_hooklaunch, compiler
from drvtape.errors import DrvtapeError
from drvtape.recorder.ingest import Tape
from drvtape.recorder.taprun import Prefix, Signals, TapRun, read_tapes, run_program
from drvtape.schema.entry_points import DEVICE_ENTRY_POINTS

HOOK_CONFIG = "drvhook.cfg"  # line 1: the --driver pattern, line 2: "children" (native/hook/taps.h)
LAUNCH_ERROR = "hooklaunch.err"  # beside the hook: why hooklaunch could not start the program (native/hook/hooklaunch.c)
X86_FOLDER = "x86"  # beside the x64 hook: where native/hook/children.c looks for the x86 one


def check_pattern(pattern: str | None) -> None:
    """A --driver pattern is one file-name pattern (* and ?): no folder, no line break."""
    if pattern is not None and (not pattern or any(c in pattern for c in "\\/\r\n")):
        raise DrvtapeError(f"--driver {pattern!r}: give a driver file-name pattern such as 'msrle32*' "
                           f"(* and ?, no folder)")


def x86_wanted(arch: Arch, follow_children: bool) -> bool:
    """Does the run need the x86 builds: for a 32-bit program always, for an x64 one's children
    when the x86 compiler is there (else its 32-bit children run unhooked)?"""
    if arch is X86:
        return True
    try:
        return follow_children and bool(compiler(X86))
    except DrvtapeError:
        return False


def copy_hook(folder: Path, arch: Arch, config: str | None) -> None:
    folder.mkdir(exist_ok=True)
    shutil.copyfile(build_drvhook(arch), folder / "drvhook.dll")
    # every device entry point: the hook hands out the tap's only where the real driver has one
    shutil.copyfile(build_drvtap_exporting([ep.value for ep in DEVICE_ENTRY_POINTS], arch), folder / "drvtap.dll")
    if config is not None:
        (folder / HOOK_CONFIG).write_text(config, encoding="utf-8")


def prepare_folder(pattern: str | None, follow_children: bool = False, arch: Arch = X64,
                   work_dir: Path | None = None) -> Path:
    """A fresh folder (in work_dir, else the system's temporary folder) holding the hook, the
    tap it copies per driver and the hook's configuration; the x86 ones (and launcher) in its
    x86/ when the run needs them."""
    folder = Path(tempfile.mkdtemp(prefix="drvtape-hookrun-", dir=work_dir))
    config = None
    if pattern or follow_children:
        config = "\n".join([pattern or "", "children" if follow_children else ""]) + "\n"
    copy_hook(folder, X64, config)
    if x86_wanted(arch, follow_children):
        copy_hook(folder / X86_FOLDER, X86, config)
        shutil.copyfile(build_hooklaunch(X86), folder / X86_FOLDER / "hooklaunch.exe")
    return folder


def run_tapes(folder: Path) -> list[Tape]:
    """The tapes of the run's x64 and x86 processes."""
    x86 = folder / X86_FOLDER
    return read_tapes(folder) + (read_tapes(x86) if x86.is_dir() else [])


def hook_run(argv: Sequence[str], prefix: Prefix, pattern: str | None = None, follow_children: bool = False,
             arch: Arch = X64, work_dir: Path | None = None) -> TapRun:
    """Run ARGV, an arch program, with the hook in it (and in the processes it starts, with
    follow_children), recording the drivers whose file name matches PATTERN, or all; the tapes
    read, also when the program crashed or was interrupted. The run's folder (run.folder, in
    work_dir if given) holds the tapes: the caller removes it once they are stored; it is
    removed here when the program could not be started (it holds no tape then), which is a
    DrvtapeError saying why (Windows' text for the error, e.g. that the file was not found)."""
    if not argv:
        raise DrvtapeError("no program to run: put it after --, e.g. -- client.exe ARGS")
    check_pattern(pattern)
    launcher = build_hooklaunch(arch)
    run = TapRun(prefix, folder=prepare_folder(pattern, follow_children, arch, work_dir))
    hook_folder = run.folder / X86_FOLDER if arch is X86 else run.folder
    hook = wine.windows_path(str(hook_folder / "drvhook.dll"))
    try:
        with Signals().handled() as signals:
            run_program([str(launcher), hook, *argv], prefix, run, signals)
        launch_error = hook_folder / LAUNCH_ERROR
        if launch_error.is_file():
            why = launch_error.read_text(encoding="utf-8", errors="replace").strip()
            # the system's text may name the program as %1 (hooklaunch asks for it without inserts)
            raise DrvtapeError(f"{argv[0]}: {why.replace('%1', argv[0])}")
    except DrvtapeError:
        shutil.rmtree(run.folder, ignore_errors=True)
        raise
    run.tapes = run_tapes(run.folder)
    return run
