"""The drvtape command line: thin; parses, calls the library, renders.

One module per command (or command group), named by the command; each registers itself
on `app` when imported below. Shared options live in options.py, output in output.py.
"""

import sys

from drvtape.cli import (  # noqa: F401  (registers the commands)
    db, demo, diff, events, explore, import_export, ingest, lint, minimize, push_pull, record, replay, schema,
    sessions, show, state, tap, tap_run, timeline, verify,
)
from drvtape.cli.app import app, command
from drvtape.cli.output import fail
from drvtape.errors import DrvtapeError


def main(argv: list[str] | None = None) -> None:
    try:
        code = command().main(args=argv, prog_name="drvtape", standalone_mode=False)
    except DrvtapeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted")
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
