"""How `tap run` and `hook run` exit once the program's tapes are stored: 130 when drvtape was
interrupted, else the program's exit code, and 1 with a note saying what the program's end was
when its code cannot be drvtape's (a signal, or a Windows exit code past 255)."""

import signal

import typer

from drvtape.cli.output import err
from drvtape.recorder.taprun import TapRun

INTERRUPTED_EXIT = 130


def exit_as_program(run: TapRun, program: str, interrupted: str) -> None:
    """Raise the exit drvtape ends with after RUN of PROGRAM (nothing to raise for 0);
    INTERRUPTED says what was done when it was interrupted."""
    if run.interrupted:
        err.print(f"interrupted ({run.interrupted}): {interrupted}", markup=False, soft_wrap=True)
        raise typer.Exit(INTERRUPTED_EXIT)
    code = run.exit_code
    if not code:
        return
    if 0 < code < 256:
        raise typer.Exit(code)
    err.print(f"note: {program} {_unmappable_end(code)}: drvtape exits 1", markup=False, soft_wrap=True)
    raise typer.Exit(1)


def _unmappable_end(code: int) -> str:
    if code < 0:  # subprocess's way of saying a signal ended the process (Wine's loader, off Windows)
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code & 0xFFFFFFFF:#010x}"
