"""The drvtape command line: thin; parses, calls the library, renders.

Each command module registers its commands on `app` when imported below.
"""

import sys

import click
import typer

from drvtape.cli.app import app
from drvtape.cli import query, run, transfer  # noqa: F401  (registers the commands)
from drvtape.cli.render import fail
from drvtape.errors import DrvtapeError


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, prog_name="drvtape", standalone_mode=False)
    except DrvtapeError as exc:
        fail(str(exc))
    except click.exceptions.Abort:
        fail("aborted")
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    sys.exit(code or 0)


__all__ = ["app", "main", "typer"]
