"""push and pull: sessions between a machine's database and a central one."""

import typer

from drvtape.cli.app import QUIET, app, open_store
from drvtape.cli.render import out, print_json, progress
from drvtape.errors import DrvtapeError
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions
from drvtape.store.sync import CHUNK_EVENTS, copy_sessions


CHUNK_HELP = "events per transaction: an interrupted copy keeps every whole chunk"


def _copy(source: Store, destination: Store, refs: list[str], every: bool, quiet: bool, verb: str,
          chunk: int) -> list:
    if bool(refs) == every:
        raise DrvtapeError("give SESSION... or --all")
    chosen = ([source.resolve(str(s.header.id)) for s in source.sessions()] if every
              else [source.resolve(r) for r in refs])
    total = sum(source.summary(s.pk).events for s in chosen)
    with progress(f"{verb} events", total, quiet=quiet) as bar:
        task = bar.add_task(verb, total=total)
        return copy_sessions(source, destination, chosen, on_events=lambda n: bar.advance(task, n), chunk=chunk)


def _report(copied: list, as_json: bool, where: str) -> None:
    if as_json:
        print_json([{"session": c.session, "copied_events": c.events, "events": c.total} for c in copied])
        return
    for c in copied:
        state = f"{c.events} events copied" if c.events else "already there"
        out.print(f"{c.session}: {state} ({c.total} events {where})", markup=False)


@app.command()
def push(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", metavar="URL", help="the central database (a SQLAlchemy URL or a file)"),
    sessions: list[str] = typer.Argument(None, metavar="[SESSION]...", help="UUIDs, unique prefixes, or 'last'"),
    every: bool = typer.Option(False, "--all", help="push every session"),
    chunk: int = typer.Option(CHUNK_EVENTS, min=1, help=CHUNK_HELP),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Copy sessions to another database; again after an interruption, it continues."""
    with open_store(ctx) as source, Store.open(to, create=True) as destination:
        end_orphaned_sessions(source)  # this machine's own database: the central one's are not ours to end
        copied = _copy(source, destination, sessions or [], every, quiet, "pushing", chunk)
    _report(copied, as_json, "there")


@app.command()
def pull(
    ctx: typer.Context,
    source_url: str = typer.Option(..., "--from", metavar="URL", help="the database to copy from"),
    sessions: list[str] = typer.Argument(None, metavar="[SESSION]...", help="UUIDs, unique prefixes, or 'last'"),
    every: bool = typer.Option(False, "--all", help="pull every session"),
    chunk: int = typer.Option(CHUNK_EVENTS, min=1, help=CHUNK_HELP),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Copy sessions from another database into this one."""
    with Store.open(source_url) as source, open_store(ctx, create=True) as destination:
        end_orphaned_sessions(destination)
        copied = _copy(source, destination, sessions or [], every, quiet, "pulling", chunk)
    _report(copied, as_json, "here")
