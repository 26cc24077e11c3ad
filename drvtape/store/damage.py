"""A damaged or foreign database, named as such in one line: the one place store errors are translated.

Two kinds of damage reach the store. The database engine notices some (a corrupted page, a
file that is not a database, a table or column that is missing): `translate_engine_errors`
turns those into DamagedDatabase as they are raised. The rest is stored values that are not
what drvtape writes (text in an integer column, a malformed UUID, details that are not JSON,
an unknown kind or end reason): every Store method that reads is `@reads`, which turns the
ValueError, TypeError or KeyError that decoding them raises into DamagedDatabase.
"""

from __future__ import annotations

import functools
import re
import sqlite3

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from drvtape.errors import DrvtapeError
from drvtape.schema.details import DamagedDetail
from drvtape.store.pages import damaged_page

RESTORE = "run `drvtape verify` / restore the backup"
# sqlite3.h: SQLITE_CORRUPT 11, SQLITE_NOTADB 26 (primary codes: the low byte of an extended one)
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
# PostgreSQL SQLSTATEs: undefined_table, undefined_column
_PG_MISSING = {"42P01", "42703"}
_SQLITE_MISSING = re.compile(r"^no such (table|column)|has no column named")


class DamagedDatabase(DrvtapeError):
    """The database is not drvtape's or not as drvtape wrote it."""


def translate_engine_errors(engine: Engine, where: str, sqlite_file: str | None) -> None:
    """Make the engine raise DamagedDatabase for errors that mean the database is damaged."""

    def on_error(context) -> None:
        message = damage_message(context.original_exception, where, sqlite_file)
        if message is not None:
            raise DamagedDatabase(message) from None

    sa_event.listen(engine, "handle_error", on_error)


def damage_message(exc: BaseException, where: str, sqlite_file: str | None) -> str | None:
    """One line naming the damage a DBAPI error shows; None for an error that is not damage."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == _SQLITE_NOTADB:
        return f"{where} is not a usable drvtape database: not an SQLite database file"
    if code is not None and code & 0xFF == _SQLITE_CORRUPT:
        page = damaged_page(sqlite_file) if sqlite_file else None
        at = f" at page {page}" if page is not None else ""
        return f"{where} is damaged{at}: {RESTORE}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError) and _SQLITE_MISSING.search(text):
        return not_the_schema(where, text)
    if getattr(exc, "sqlstate", None) in _PG_MISSING:
        return not_the_schema(where, text)
    return None


def not_the_schema(where: str, what: str) -> str:
    """The line for tables that are not as drvtape made them (what: which and how)."""
    return f"{where} is damaged ({what}): not the drvtape schema; {RESTORE}"


def reads(method):
    """A Store method that decodes stored values: values drvtape never writes are damage."""

    @functools.wraps(method)
    def guarded(store, *args, **kwargs):
        try:
            return method(store, *args, **kwargs)
        except DamagedDetail as exc:
            raise DamagedDatabase(f"{store.where} is damaged: {exc}; {RESTORE}") from None
        except DrvtapeError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise DamagedDatabase(f"{store.where} is damaged: {stored_value_problem(exc)}; {RESTORE}") from None

    return guarded


def stored_value_problem(exc: BaseException) -> str:
    """What is wrong with a stored value, in a few words (a validation error's first problem)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"a stored value is not valid ({where}: {first.get('msg')}, got {first.get('input')!r})"[:300]
    text = str(exc).strip().splitlines()
    return f"a stored value is not valid ({type(exc).__name__}: {text[0] if text else ''})"[:300]
