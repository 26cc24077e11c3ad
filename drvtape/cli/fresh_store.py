"""The store a command writes all of its input to, or none of it: a SQLite file the
command created is removed again when it fails (a bad input never leaves an empty database)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from drvtape.cli.app import db_of, open_store
from drvtape.store import Store, database_url, sqlite_path

SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


@contextmanager
def all_or_nothing_store(ctx: typer.Context) -> Iterator[Store]:
    """open_store(ctx, create=True) for the block; the file removed if the block raises and
    the file was not there before it."""
    path = sqlite_path(database_url(db_of(ctx)))
    fresh = path is not None and not path.exists()
    try:
        with open_store(ctx, create=True) as store:
            yield store
    except BaseException:
        if fresh:
            for suffix in SQLITE_COMPANIONS:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
