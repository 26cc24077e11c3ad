"""The drvtape command line: thin; parses, calls the library, renders.

One module per command (or command group), named by the command; each registers itself
on `app` when imported, which app.command imports. Shared options live in options.py (those
of the commands that run a driver in driver_options.py), output in output.py.
"""

import gc
import os
import sys
from typing import NoReturn

from drvtape.cli.app import app, command, named_command
from drvtape.cli.output import fail
from drvtape.errors import DrvtapeError


def _escaped(arg: str) -> str:
    """The argument's bytes, escaped: a byte from the OS that is not UTF-8 as it came
    (surrogateescape), any other lone surrogate (a caller of main() can pass one) as \\udXXX."""
    try:
        return repr(arg.encode("utf-8", "surrogateescape"))[2:-1][:60]
    except UnicodeEncodeError:
        return arg.encode("ascii", "backslashreplace").decode("ascii")[:60]


def _refuse_unrepresentable(args: list[str]) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which no database, JSON or
    terminal can take; a NUL no file name can hold (a shell cannot pass one, a caller of
    main() can). Refused here, once, rather than by whichever layer meets them first."""
    for arg in args:
        shown = _escaped(arg)
        if "\0" in arg:
            fail(f"argument '{shown}' contains a NUL character")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            fail(f"argument '{shown}' is not UTF-8 text")


def _flush_stdout() -> None:
    """Flush stdout now, so that a full disk or a closed pipe is an error message, not a
    traceback when the interpreter flushes at exit."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        _output_failed(exc)


def _output_failed(exc: OSError) -> NoReturn:
    try:
        # what is still buffered would fail again when the interpreter flushes at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (in-process runs): nothing to flush at exit
        pass
    fail(f"cannot write output: {exc.strerror or exc}")


def _freeze_imports() -> None:
    """Keep the objects the imports made out of the garbage collector's sweeps. A program run
    ends with its command, and they live to its end anyway; each full sweep walked them all:
    0.3-0.4 s of the 1.2-1.3 s CPU that `drvtape sessions` over 10,000 sessions took in a new
    process (issue 16). Not for an in-process caller of main(): its garbage would stay."""
    gc.freeze()


def main(argv: list[str] | None = None) -> None:
    """The drvtape program: argv None reads sys.argv (a program run); a list, an in-process run."""
    args = sys.argv[1:] if argv is None else argv
    _refuse_unrepresentable(args)
    try:
        run = command(named_command(args))
        if argv is None:
            _freeze_imports()
        code = run.main(args=args, prog_name="drvtape", standalone_mode=False)
        _flush_stdout()
    except DrvtapeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted")
    except OSError as exc:
        if exc.filename is not None:
            fail(f"{exc.filename}: {exc.strerror or exc}")
        _output_failed(exc)  # no file named: a write to stdout failed
    except Exception as exc:
        # Usage errors. Recent typer vendors its own click, so match click's exception
        # protocol rather than click's classes.
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            if not exc.format_message():  # a group run without a command: its help is shown already
                sys.exit(exc.exit_code)
            command_path = getattr(getattr(exc, "ctx", None), "command_path", "drvtape")
            fail(f"{exc.format_message()} (see: {command_path} --help)")
        raise
    sys.exit(code or 0)


__all__ = ["app", "command", "main"]
