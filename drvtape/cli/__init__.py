"""The drvtape command line: thin; parses, calls the library, renders.

Each command module registers its commands on `app` when imported below.
"""

import sys

from drvtape.cli import analysis, ingest, integrity, query, run, search, sync, tap, timeline, transfer  # noqa: F401  (registers the commands)
from drvtape.cli.app import app
from drvtape.cli.render import fail
from drvtape.errors import DrvtapeError


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, prog_name="drvtape", standalone_mode=False)
    except DrvtapeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted")
    except Exception as exc:
        # Usage errors. Recent typer vendors its own click, so match click's exception
        # protocol rather than click's classes.
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            command = getattr(getattr(exc, "ctx", None), "command_path", "drvtape")
            fail(f"{exc.format_message()} (see: {command} --help)")
        raise
    sys.exit(code or 0)


__all__ = ["app", "main"]
