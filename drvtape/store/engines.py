"""SQLAlchemy engines for drvtape databases: URLs, SQLite's tuning and its transactions.

pysqlite's legacy transaction control emits no BEGIN before DDL or SELECT: a CREATE TABLE
autocommits and two SELECTs of one `with engine.connect()` read two different snapshots.
So SQLite connections run in driver autocommit and drvtape emits BEGIN itself (SQLAlchemy's
documented recipe, "Serializable isolation / Savepoints / Transactional DDL"): DDL is then
transactional, a read connection reads one snapshot, and a write transaction (`WRITE`)
begins IMMEDIATE, taking the write lock (with the busy timeout) before it reads, so a read
followed by a write never fails with a stale snapshot under concurrent writers.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from drvtape.errors import DrvtapeError

DEFAULT_DB = "drvtape.db"
WRITE = {"drvtape_write": True}  # execution options of a connection whose transaction writes


def database_url(path_or_url: str | os.PathLike | None) -> str:
    """A SQLAlchemy URL from --db: URLs pass through, anything else is a SQLite file path."""
    value = os.fspath(path_or_url or os.environ.get("DRVTAPE_DB") or DEFAULT_DB)
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def sqlite_path(url: str) -> Path | None:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DrvtapeError(f"cannot use database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_engine(url: str, path: Path | None, *, read_only: bool = False) -> Engine:
    """The engine for a database; read_only is for a command that only reads (_read_only_url)."""
    try:
        read_only_url = _read_only_url(path) if path is not None and read_only else None
        engine = sa.create_engine(read_only_url or url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError, ValueError) as exc:
        raise DrvtapeError(f"cannot use database URL {url!r}: {exc}") from None
    if path is not None:
        sa_event.listen(engine, "connect", _tune_sqlite)
        sa_event.listen(engine, "begin", _begin_sqlite)
    return engine


def _read_only_url(path: Path) -> sa.engine.URL | None:
    """How a command that only reads opens a SQLite file (None: as any other).

    With a -wal beside it (a writer is at work, or was killed): mode=ro, which never
    checkpoints that WAL. Without one, where the file and its folder can be written: as any
    other, since a read-only connection would leave an empty -wal and a -shm behind where
    nothing was, and one that only reads writes nothing. On read-only media: mode=ro when a
    writer left both -wal and -shm (SQLite >= 3.22 reads them), else immutable (nothing is
    locked or created; no WAL is there to read)."""
    wal, shm = (path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    if writable and not wal:
        return None
    query = {"mode": "ro"} if writable or (wal and shm) else {"immutable": "1"}
    return sa.engine.URL.create("sqlite", database="file:" + quote(str(path)), query={**query, "uri": "true"})


def _tune_sqlite(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # BEGIN is drvtape's (_begin_sqlite)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _begin_sqlite(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("drvtape_write") else "BEGIN")
