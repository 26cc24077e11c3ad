"""`drvtape hook run`: run a program with the recording hook in it, and keep its tapes.

hooklaunch.exe starts the program suspended, has it load drvhook.dll before its first
instruction, and resumes it (native/hook). The hook gives every driver the process loads a copy
of the tap (drvtap.dll) in front of it, so the tapes are the tap's: one session per driver per
process. Everything the hook writes is in a fresh folder of the run's (the tap's copies, their
configuration, the tapes): no registry value and no file elsewhere is changed, and no
administrator rights are needed. With follow_children the hook loads itself into every (x64)
process the program starts, and theirs, recording to the same folder. The prefix, the
signals and the program's output are as for `tap run` (drvtape.recorder.taprun).
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.build import build_drvhook, build_drvtap, build_hooklaunch
from drvtape.errors import DrvtapeError
from drvtape.recorder.taprun import Prefix, Signals, TapRun, read_tapes, run_program

HOOK_CONFIG = "drvhook.cfg"  # line 1: the --driver pattern, line 2: "children" (native/hook/taps.h)


def check_pattern(pattern: str | None) -> None:
    """A --driver pattern is one file-name pattern (* and ?): no folder, no line break."""
    if pattern is not None and (not pattern or any(c in pattern for c in "\\/\r\n")):
        raise DrvtapeError(f"--driver {pattern!r}: give a driver file-name pattern such as 'msrle32*' "
                           f"(* and ?, no folder)")


def prepare_folder(pattern: str | None, follow_children: bool = False) -> Path:
    """A fresh folder holding the hook, the tap it copies per driver and the hook's configuration."""
    folder = Path(tempfile.mkdtemp(prefix="drvtape-hookrun-"))
    shutil.copyfile(build_drvhook(), folder / "drvhook.dll")
    shutil.copyfile(build_drvtap(), folder / "drvtap.dll")
    if pattern or follow_children:
        lines = [pattern or "", "children" if follow_children else ""]
        (folder / HOOK_CONFIG).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def hook_run(argv: Sequence[str], prefix: Prefix, pattern: str | None = None, follow_children: bool = False) -> TapRun:
    """Run ARGV with the hook in it (and in the processes it starts, with follow_children),
    recording the drivers whose file name matches PATTERN, or all; the tapes read, also when
    the program crashed or was interrupted."""
    if not argv:
        raise DrvtapeError("no program to run: put it after --, e.g. -- client.exe ARGS")
    check_pattern(pattern)
    launcher = build_hooklaunch()
    run = TapRun(prefix, folder=prepare_folder(pattern, follow_children))
    hook = wine.windows_path(str(run.folder / "drvhook.dll"))
    with Signals().handled() as signals:
        run_program([str(launcher), hook, *argv], prefix, run, signals)
    run.tapes = read_tapes(run.folder)
    return run
