"""Creating a drvtape database, atomically, and checking an existing one's schema version.

A SQLite file is built complete under a temporary name beside its place and hard-linked
there: a kill at any moment leaves either no database (and a `.NAME.*.creating` file) or a
whole one, and of two processes creating it at once the second finds the first's and uses it.
Another engine's database is created in one transaction (DDL is transactional there), under
an advisory lock on PostgreSQL so that concurrent first uses create it once.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from drvtape.errors import DrvtapeError
from drvtape.store import tables as t
from drvtape.store import views
from drvtape.store.damage import DamagedDatabase, not_the_schema
from drvtape.store.engines import WRITE, create_engine

_PG_CREATION_LOCK = 0x64727674  # "drvt": the advisory lock key held while creating the tables
# PostgreSQL's type oids (pg_type) of the column types drvtape's tables have: every one
PG_TYPE_OIDS = {sa.BigInteger: 20, sa.Integer: 23, sa.SmallInteger: 21, sa.String: 1043, sa.Text: 25,
                 sa.LargeBinary: 17}
_COLUMNS = [(table, column) for table in t.metadata.sorted_tables for column in table.c]
# every column of every table, in _COLUMNS order; no row (a cross join, LIMIT 0)
_EVERY_COLUMN = ("SELECT " + ", ".join(f'"{table.name}"."{column.name}"' for table, column in _COLUMNS)
                 + " FROM " + ", ".join(f'"{table.name}"' for table in t.metadata.sorted_tables) + " LIMIT 0")


def check_file(path: Path, create: bool) -> None:
    """Refuse a path no database can be at (or, without create, where none is)."""
    if path.is_dir():
        raise DrvtapeError(f"{path} is a directory, not a drvtape database")
    if path.exists():
        if path.stat().st_size == 0:
            raise DrvtapeError(f"{path} is an empty file, not a drvtape database")
        return
    if not create:
        raise DrvtapeError(f"no drvtape database at {path} (record or import a session first, or pass --db)")
    if not path.parent.is_dir():
        raise DrvtapeError(f"cannot create {path}: folder {path.parent} does not exist")


def create_sqlite_file(path: Path) -> None:
    """A new, complete drvtape database at path, unless another process made one first."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.creating")
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # the umask's mode, as SQLite's
    try:
        engine = create_engine("sqlite:///" + str(temp), temp)
        try:
            with engine.connect() as conn:
                conn.execution_options(**WRITE)
                with conn.begin():
                    _create_tables(conn)
            raw = engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA journal_mode = WAL")  # kept in the file from now on
            finally:
                raw.close()
        finally:
            engine.dispose()
        _publish(temp, path)
    finally:
        for leftover in (temp, temp.with_name(temp.name + "-wal"), temp.with_name(temp.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _publish(temp: Path, path: Path) -> None:
    try:
        os.link(temp, path)
    except FileExistsError:
        pass  # created meanwhile by another process: that one is the database
    except OSError:  # a file system without hard links: rename, unless one appeared meanwhile
        if not path.exists():
            os.replace(temp, path)


def checked_version(engine: Engine, where: str, *, create_tables: bool) -> int:
    """The database's schema version, refusing a foreign or too new one; create_tables makes
    the tables in a database that has none (engines other than SQLite files)."""
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        if t.meta.name in names:
            return schema_version(conn, where)
    if names or not create_tables:
        raise DrvtapeError(f"{where} is not a drvtape database")
    with engine.connect() as conn:
        conn.execution_options(**WRITE)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CREATION_LOCK})
            names = set(sa.inspect(conn).get_table_names())
            if not names:
                _create_tables(conn)
            elif t.meta.name not in names:
                raise DrvtapeError(f"{where} is not a drvtape database")
            return schema_version(conn, where)


def _create_tables(conn: Connection) -> None:
    t.metadata.create_all(conn)
    views.create(conn)
    conn.execute(t.meta.insert(), [
        {"key": "application", "value": t.APPLICATION},
        {"key": "schema_version", "value": str(t.SCHEMA_VERSION)},
    ])


def schema_version(conn: Connection, where) -> int:
    """The drvtape schema version of a database; refuses one that is not drvtape's or too new."""
    meta = dict(conn.execute(sa.select(t.meta.c.key, t.meta.c.value)).all())
    if meta.get("application") != t.APPLICATION:
        raise DrvtapeError(f"{where} is not a drvtape database")
    version = meta.get("schema_version", "")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9]{1,9}", version):
        raise DrvtapeError(f"{where} is damaged: its schema version {version!r} is not a number")
    if int(version) > t.SCHEMA_VERSION:
        raise DrvtapeError(f"the database has schema version {version}, newer than this drvtape knows "
                           f"({t.SCHEMA_VERSION}): upgrade drvtape to read it")
    return int(version)


def check_columns(engine: Engine, where: str) -> None:
    """Refuse tables that lack a column drvtape reads or writes, or (PostgreSQL, which keeps
    types) hold one of another type, before anything is written to them. One statement naming
    every column fails where one is missing, and the engine's error translation
    (drvtape.store.damage) names the database damaged; its result says each column's type.
    Plain SQL: a new engine compiles every SQLAlchemy statement anew (measured: +5 ms per open
    for a select per table)."""
    with engine.connect() as conn:
        result = conn.exec_driver_sql(_EVERY_COLUMN)
        if conn.dialect.name == "postgresql":
            _check_types(result.cursor.description, where)
        result.close()


def _check_types(description, where: str) -> None:
    for (table, column), described in zip(_COLUMNS, description):
        if described.type_code != PG_TYPE_OIDS[type(column.type)]:
            raise DamagedDatabase(not_the_schema(where, f"column {table.name}.{column.name} is not of the type "
                                                        "drvtape writes"))


def refuse_older(version: int, where: str) -> None:
    if version < t.SCHEMA_VERSION:
        raise DrvtapeError(
            f"the database has schema version {version}, older than this drvtape's ({t.SCHEMA_VERSION}): "
            f"run 'drvtape --db {where} db upgrade' (it keeps a backup)"
        )
