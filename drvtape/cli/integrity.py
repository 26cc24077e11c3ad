"""verify (the hash chain) and db upgrade (schema migrations)."""

import typer
from rich.table import Table

from drvtape.cli.app import app, open_store
from drvtape.cli.render import out, print_json
from drvtape.errors import DrvtapeError

db_app = typer.Typer(help="The database itself: schema upgrades.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def verify(
    ctx: typer.Context,
    sessions: list[str] = typer.Argument(None, metavar="[SESSION]...", help="UUIDs, unique prefixes, or 'last'."),
    every: bool = typer.Option(False, "--all", help="Verify every session."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Check sessions against their hash chains; exit 1 when an event was altered, removed,
    inserted or moved."""
    if bool(sessions) == every:
        raise DrvtapeError("give SESSION... or --all")
    with open_store(ctx) as store:
        chosen = ([(s.pk, s.header.id) for s in store.sessions()] if every else
                  [(found.pk, found.header.id) for found in map(store.resolve, sessions)])
        results = [(session_id, store.verify(pk)) for pk, session_id in chosen]
    bad = [(session_id, problems) for session_id, problems in results if problems]
    if as_json:
        print_json({"sessions": len(results), "intact": len(results) - len(bad),
                    "damaged": [{"session": str(session_id), "seq": problems[0][0], "problem": problems[0][1]}
                                for session_id, problems in bad]})
    else:
        table = Table("session", "verdict")
        for session_id, problems in results:
            table.add_row(str(session_id), problems[0][1] if problems else "intact")
        out.print(table)
        out.print(f"{len(results) - len(bad)} of {len(results)} session(s) intact")
    if bad:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Upgrade the database to this drvtape's schema, keeping a backup of the old file."""
    from drvtape.store.migrations import upgrade

    done = upgrade(ctx.find_root().obj.db)
    if done.before == done.after:
        out.print(f"the database is at schema version {done.after} already")
        return
    out.print(f"upgraded from schema version {done.before} to {done.after}"
              + (f"; the old file is kept as {done.backup}" if done.backup else ""), markup=False)
