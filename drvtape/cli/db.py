"""`drvtape db upgrade`: the database itself (schema migrations)."""

import typer

from drvtape.cli.app import app, db_of, examples
from drvtape.cli.output import out

db_app = typer.Typer(help="The database itself: schema upgrades.", no_args_is_help=True,
                     epilog=examples("drvtape db upgrade"))
app.add_typer(db_app, name="db")


@db_app.command("upgrade", epilog=examples("drvtape db upgrade", "drvtape db upgrade --db old.db"))
def db_upgrade(ctx: typer.Context) -> None:
    """Upgrade the database to this drvtape's schema, keeping a backup of the old file."""
    # Lazy: alembic adds ~90 ms to the start-up of every command (import drvtape.cli: 498 ms,
    # with drvtape.store.migrations: 585 ms, best of 7 on this 2-core machine), and only this
    # command needs it.
    from drvtape.store.migrations import upgrade

    done = upgrade(db_of(ctx))
    if done.before == done.after:
        out.print(f"the database is at schema version {done.after} already")
        return
    out.print(f"upgraded from schema version {done.before} to {done.after}"
              + (f"; the old file is kept as {done.backup}" if done.backup else ""), markup=False)
