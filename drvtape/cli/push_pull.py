"""`drvtape push` and `drvtape pull`: sessions between a machine's database and a central one."""

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import ALL, FORMAT, JSON, QUIET, SESSIONS, output_format
from drvtape.cli.output import Format, RecordView, print_records, progress
from drvtape.cli.selection import chosen_sessions
from drvtape.cli.values import bounded, database
from drvtape.schema.values import INT64_MAX
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions
from drvtape.store.sync import CHUNK_EVENTS, Copied, copy_sessions

CHUNK = typer.Option(str(CHUNK_EVENTS), metavar="EVENTS", parser=lambda text: bounded(text, INT64_MAX, "--chunk"),
                     help="Events per transaction: an interrupted copy keeps every whole chunk.")


def _copy(source: Store, destination: Store, refs: list[str] | None, every: bool, quiet: bool, verb: str,
          chunk: int) -> list[Copied]:
    chosen = chosen_sessions(source, refs, every)
    total = sum(source.last_link(s.pk)[0] for s in chosen)  # the highest seq: the events, without a summary
    with progress(f"{verb} events", total, quiet=quiet) as bar:
        task = bar.add_task(verb, total=total)
        return copy_sessions(source, destination, chosen, on_events=lambda n: bar.advance(task, n), chunk=chunk)


def _report(copied: list[Copied], fmt: Format, where: str) -> None:
    def state(c: Copied) -> str:
        return f"{c.events} events copied" if c.events else "already there"

    print_records(fmt, copied, RecordView(
        headers=("session", "copied", f"events {where}"), keys=("session",),
        document=lambda c: {"session": c.session, "copied_events": c.events, "events": c.total},
        cells=lambda c: [c.session, state(c), str(c.total)],
        csv_headers=("session", "copied_events", "events"), csv_cells=lambda c: [c.session, c.events, c.total],
    ))


@app.command(epilog=examples(
    "drvtape push --to postgresql+psycopg://central/drvtape --all",
    "drvtape push --to central.db last 27eb41c9 --json",
))
def push(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", metavar="URL", parser=database,
                            help="The central database (a SQLAlchemy URL or a file)."),
    sessions: list[str] = SESSIONS,
    every: bool = ALL,
    chunk: int = CHUNK,
    quiet: bool = QUIET,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Copy sessions to another database; again after an interruption, it continues.

    A session already there whole is reported and not copied twice (exit 0)."""
    fmt = output_format(fmt, as_json)
    with open_store(ctx) as source, Store.open(to, create=True) as destination:
        end_orphaned_sessions(source)  # this machine's own database: the central one's are not ours to end
        copied = _copy(source, destination, sessions, every, quiet, "pushing", chunk)
    _report(copied, fmt, "there")


@app.command(epilog=examples(
    "drvtape pull --from postgresql+psycopg://central/drvtape 27eb41c9",
    "drvtape pull --from central.db --all --json",
))
def pull(
    ctx: typer.Context,
    source_url: str = typer.Option(..., "--from", metavar="URL", parser=database,
                                    help="The database to copy from."),
    sessions: list[str] = SESSIONS,
    every: bool = ALL,
    chunk: int = CHUNK,
    quiet: bool = QUIET,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Copy sessions from another database into this one.

    A session already here whole is reported and not copied twice (exit 0)."""
    fmt = output_format(fmt, as_json)
    with Store.open(source_url) as source, open_store(ctx, create=True) as destination:
        end_orphaned_sessions(destination)
        copied = _copy(source, destination, sessions, every, quiet, "pulling", chunk)
    _report(copied, fmt, "here")
