"""The store a command writes all of its input to, or none of it: a SQLite file the
command created is removed again when it fails (a bad input never leaves an empty database)."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import typer

from drvtape.cli.app import db_of, open_store
from drvtape.errors import DrvtapeError
from drvtape.store import Store, database_url, sqlite_path

SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


@contextmanager
def all_or_nothing_store(ctx: typer.Context, check_input: Callable[[], object]) -> Iterator[Store]:
    """open_store(ctx, create=True) for the block; the file removed if the block raises and
    the file was not there before it. When the database cannot be opened, check_input (which
    reads the whole input and raises its first problem) runs first: a bad input is reported
    before a bad database, as when every input was read before the database was opened."""
    path = sqlite_path(database_url(db_of(ctx)))
    fresh = path is not None and not path.exists()
    try:
        with ExitStack() as opened:
            try:
                store = opened.enter_context(open_store(ctx, create=True))
            except DrvtapeError:
                check_input()
                raise
            yield store
    except BaseException:
        if fresh:
            for suffix in SQLITE_COMPANIONS:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
