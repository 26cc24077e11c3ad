"""Schema migrations (Alembic). Revision "000N" brings a database to drvtape schema version N.

`upgrade` is what `drvtape db upgrade` runs: a backup first (SQLite files), then every
migration from the database's version to this drvtape's, in one transaction (the
alembic_version stamp included: DDL is transactional on SQLite too, drvtape.store.engines).
"""

import itertools
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from drvtape.errors import DrvtapeError
from drvtape.store import tables as t
from drvtape.store import Store, database_url, schema_version, sqlite_path
from drvtape.store.engines import WRITE, create_engine


@dataclass(frozen=True)
class Upgrade:
    before: int
    after: int
    backup: Path | None


def upgrade(path_or_url) -> Upgrade:
    url = database_url(path_or_url)
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise DrvtapeError(f"no drvtape database at {path}")
    engine = create_engine(url, path)
    try:
        with engine.connect() as conn:
            before = schema_version(conn, path or url)
        if before == t.SCHEMA_VERSION:
            return Upgrade(before, before, None)
        backup = _backup(path, before) if path is not None else None
        with engine.connect() as conn:
            conn.execution_options(**WRITE)
            with conn.begin():  # stamp and every migration commit together, or not at all
                config = alembic_config(conn)
                if "alembic_version" not in sa.inspect(conn).get_table_names():
                    command.stamp(config, f"{before:04d}")
                command.upgrade(config, f"{t.SCHEMA_VERSION:04d}")
    except sa.exc.DatabaseError as exc:
        raise DrvtapeError(f"cannot upgrade {path or url}: {str(getattr(exc, 'orig', exc)).splitlines()[0]}") from None
    finally:
        engine.dispose()
    Store.open(url).close()  # the upgraded database opens as this drvtape's
    return Upgrade(before, t.SCHEMA_VERSION, backup)


def alembic_config(conn) -> Config:
    """Alembic's configuration for running these migrations on an open connection."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["connection"] = conn
    return config


def _backup(path: Path, version: int) -> Path:
    """A consistent copy (SQLite's backup API, WAL included) beside the database, under a name
    no other backup has: made under a temporary name and linked into place, so that a file
    named .bak is always a whole backup, even after a kill (then the next upgrade makes another)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.bak-partial")
    source = sqlite3.connect(path)
    copy = sqlite3.connect(temp)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    try:
        for n in itertools.count():
            target = path.with_name(f"{path.name}.schema-v{version}{'' if n == 0 else f'.{n}'}.bak")
            try:
                os.link(temp, target)
                return target
            except FileExistsError:
                continue
    finally:
        temp.unlink()
