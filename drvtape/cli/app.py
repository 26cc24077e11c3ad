"""The typer application and the options every command shares."""

from dataclasses import dataclass

import typer

from drvtape.store import Store

app = typer.Typer(
    name="drvtape",
    help="Record, query and replay the DRV_* messages a Windows installable driver receives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class Options:
    db: str | None


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", envvar="DRVTAPE_DB", metavar="PATH_OR_URL",
        help="SQLite file or SQLAlchemy URL [default: ./drvtape.db]",
    ),
) -> None:
    ctx.obj = Options(db=db)


QUIET = typer.Option(False, "--quiet", help="no progress bar on stderr")


def open_store(ctx: typer.Context, *, create: bool = False) -> Store:
    """The database named by --db / DRVTAPE_DB; create=True for commands that write."""
    return Store.open(ctx.find_root().obj.db, create=create)
