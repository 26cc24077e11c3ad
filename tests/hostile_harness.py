"""The hostile-input harness of tests/test_hostile_cli.py (SQLite files) and
tests/test_hostile_cli_postgres.py: hostile values, damaged databases, the commands read from
the click command `drvtape` runs, and the judgement of one run.

A case runs one command with good values everywhere but in one place. It must answer with
exit 0, 1 or 2; exit 2 is one line on stderr; no traceback; and after a failure the database
is as it was (a SQLite file byte-identical, a PostgreSQL database the same dump).
"""

import hashlib
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from cli_runner import run_cli

from drvtape.cli import command
from drvtape.formats.jsonl import dump_session
from drvtape.store import Store, tables, views

# tap runs `wine reg` in drvtape's Wine prefix (tests/native/test_tap_install.py covers it); hook runs
# a program under Wine, which an in-process run cannot (no real stderr to hand it), after building
# the hook once, whose "building ... (once)" lines made a case fail on a fresh cache
# (tests/native/test_hook_run.py refuses its bad values)
SKIPPED_GROUPS = {"tap", "hook"}
WORKLOAD = '[[steps]]\naction = "open"\ninstance = "a"\n\n[[steps]]\naction = "close"\ninstance = "a"\n'


def seed() -> int:
    """DRVTAPE_HOSTILE_SEED, or 0 under CI=true (the same sample every run), else a new one."""
    if "DRVTAPE_HOSTILE_SEED" in os.environ:
        return int(os.environ["DRVTAPE_HOSTILE_SEED"])
    return 0 if os.environ.get("CI", "").lower() == "true" else random.SystemRandom().randrange(2**32)


@dataclass(frozen=True)
class Place:
    """Where a case runs: the database, a SQLite database `pull` reads, and a folder for the
    files the good values and hostile paths name."""
    folder: Path
    db: str  # the --db value: a SQLite file or a PostgreSQL URL
    source: Path

    def file(self, name: str, text: str = "") -> str:
        path = self.folder / name
        path.write_text(text)
        return str(path)


def prepared(folder: Path, db: str, pristine: Path) -> Place:
    """A Place in folder (made here) for database db: the good files, from the SQLite
    database pristine, and a copy of it for `pull`."""
    folder.mkdir()
    place = Place(folder, db, folder / "source.db")
    shutil.copyfile(pristine, place.source)
    place.file("good.jsonl", jsonl_of(pristine))
    place.file("not-a-tape.drvtape", "no tape\n")
    place.file("workload.toml", WORKLOAD)
    return place


# ---- hostile values ------------------------------------------------------------------------

def read_only_file(path: Path) -> str:
    path.write_text("read-only\n")
    path.chmod(0o444)
    return str(path)


HOSTILE: dict[str, Callable[[Place], str]] = {
    "empty": lambda p: "",
    "blank": lambda p: "   ",
    "huge": lambda p: "9" * 5000,
    "negative": lambda p: "-1",
    "2^64": lambda p: str(2**64),
    "-2^63-1": lambda p: str(-(2**63) - 1),
    "float": lambda p: "1e308",
    "non-UTF-8": lambda p: b"caf\xe9\xff".decode("utf-8", "surrogateescape"),
    "NUL": lambda p: "a\0b",
    "SQL": lambda p: "'; DROP TABLE events; --",
    "LIKE": lambda p: "%_\\",
    "format string": lambda p: "%s%n%x{0}{!r}{__class__}",
    "markup": lambda p: "[/bold][link=x]:notes:",
    "long text": lambda p: "x" * 40_000,
    "path too long": lambda p: str(p.folder / ("a" * 300) / "b"),
    "path too deep": lambda p: str(p.folder / "/".join(["d" * 200] * 30)),
    "missing path": lambda p: str(p.folder / "missing" / "x"),
    "directory": lambda p: str(p.folder),
    "read-only file": lambda p: read_only_file(p.folder / "read-only"),
    "not a database": lambda p: p.file("junk.db", "hello\n" * 100),
}


# ---- damage made with SQL ------------------------------------------------------------------

# a table or column the views name goes only with them (SQLite refuses to drop a column a view
# names, PostgreSQL a table or a column, or to change its type)
DROP_VIEWS = tuple(f"DROP VIEW IF EXISTS {name}" for name in views.NAMES)
# and msg's type changes only without the partial indexes whose predicates compare it to a number
DROP_MSG_INDEXES = ("DROP INDEX IF EXISTS ix_events_opened", "DROP INDEX IF EXISTS ix_events_closing")

SQL_DAMAGES: dict[str, tuple[str, ...]] = {  # the same statements on SQLite and PostgreSQL
    "schema version not a number": ("UPDATE drvtape_meta SET value = '²' WHERE key = 'schema_version'",),
    "newer schema": (f"UPDATE drvtape_meta SET value = '{tables.SCHEMA_VERSION + 1}' WHERE key = 'schema_version'",),
    "no meta rows": ("DELETE FROM drvtape_meta",),
    "dropped column": (*DROP_VIEWS, "ALTER TABLE events DROP COLUMN duration_ns"),
    "dropped table": (*DROP_VIEWS, "DROP TABLE events"),
    "end detail not JSON": ("UPDATE events SET payload = '{\"reason\": \"hang\", ' WHERE kind = 4",),
    "unknown end reason": ("UPDATE events SET payload = '{\"reason\": \"zzz\"}' WHERE kind = 4",),
    "unknown event kind": ("UPDATE events SET kind = 9 WHERE seq = 2",),
    "bad session UUID": ("UPDATE sessions SET uuid = 'not-a-uuid!' WHERE pk = 1",),
    "NULL where a value belongs": ("UPDATE events SET msg = NULL WHERE kind = 0 AND seq = 1",),
    "payload of the wrong type": ("UPDATE events SET payload = '{\"lparam1\": {\"type\": \"zzz\"}}' WHERE kind = 0",),
    "huge integer": ("UPDATE sessions SET pid = 9223372036854775807 WHERE pk = 4",),
}
# text in an integer column: SQLite keeps it as it is; PostgreSQL only once the column is text
SQLITE_TYPE_DAMAGES: dict[str, tuple[str, ...]] = {
    "text in an integer column": ("UPDATE events SET thread = 'abc' WHERE seq = 1",
                                  "UPDATE sessions SET started_us = 'yesterday' WHERE pk = 2"),
    "the text None": ("UPDATE events SET msg = 'None' WHERE seq = 1",),
}
POSTGRES_TYPE_DAMAGES: dict[str, tuple[str, ...]] = {
    "text in an integer column": (*DROP_VIEWS, "ALTER TABLE events ALTER COLUMN thread TYPE text",
                                  "UPDATE events SET thread = 'abc' WHERE seq = 1",
                                  "ALTER TABLE sessions ALTER COLUMN started_us TYPE text",
                                  "UPDATE sessions SET started_us = 'yesterday' WHERE pk = 2"),
    "the text None": (*DROP_VIEWS, *DROP_MSG_INDEXES, "ALTER TABLE events ALTER COLUMN msg TYPE text",
                      "UPDATE events SET msg = 'None' WHERE seq = 1"),
}


# ---- the commands, from the app ------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    opt: str | None  # None for an argument
    name: str
    many: bool  # an argument taking several values

    def tokens(self, value: str | list[str]) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return values if self.opt is None else [t for v in values for t in (self.opt, v)]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    params: tuple[Param, ...]
    required: frozenset[str]


@cache
def commands() -> tuple[Command, ...]:
    found = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs is not None:
            for name, sub in sorted(subs.items()):
                if name not in SKIPPED_GROUPS:
                    walk(sub, (*path, name))
            return
        params = tuple(Param(opt=p.opts[-1] if p.param_type_name == "option" else None, name=p.name,
                             many=p.nargs == -1)
                       for p in cmd.params if p.name != "help" and not getattr(p, "is_flag", False))
        found.append(Command(path, params, frozenset(p.name for p in cmd.params if p.required)))

    walk(command(), ())
    return tuple(found)


def good_value(cmd: Command, param: Param, place: Place) -> str | list[str] | None:
    """A value that works for a parameter; None: leave it out (its default is good)."""
    by_name = {
        "db": place.db,
        "session": "last", "a": "last", "b": "last",
        "sessions": ["last"],
        "files": [str(place.folder / "good.jsonl")],
        "tapes": [str(place.folder / "not-a-tape.drvtape")],
        "target": "sim:reference",
        "workload": str(place.folder / "workload.toml"),
        "output": str(place.folder / "out.txt"),
        "to": str(place.folder / "central.db"),
        "source_url": str(place.source),
        "budget": "2",
        "max_replays": "2",
    }
    if param.name in by_name:
        return by_name[param.name]
    return "x" if param.name in cmd.required else None  # a new required parameter: some text


@cache
def jsonl_of(db: Path) -> str:
    with Store.open(str(db)) as store:
        stored = store.resolve("last")
        return "".join(line + "\n" for line in dump_session(stored.header, store.events(stored.pk)))


def invocation(cmd: Command, place: Place, hostile: dict[Param, str] | None = None) -> list[str]:
    hostile = hostile or {}
    args = list(cmd.path)
    for param in cmd.params:
        value = hostile[param] if param in hostile else good_value(cmd, param, place)
        if value is not None:
            args += param.tokens(value)
    return args


Case = tuple[Command, tuple[tuple[Param, str], ...]]  # a command, and (parameter, hostile kind) pairs


def single_cases() -> list[Case]:
    """Every (command, parameter, hostile value) with one hostile value."""
    return [(cmd, ((param, kind),)) for cmd in commands() for param in cmd.params for kind in HOSTILE]


# ---- running and judging -------------------------------------------------------------------

def file_digest(db: Path) -> str:
    h = hashlib.sha256()
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()


def database_dump(engine: sa.Engine) -> str:
    """A digest of every table's columns and rows, in a canonical order: a PostgreSQL
    database's contents (information_schema rather than SQLAlchemy's inspector, which takes
    ten times as long)."""
    with engine.connect() as conn:
        columns = conn.exec_driver_sql(
            "SELECT c.table_name, c.column_name, c.data_type, t.table_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.ordinal_position").all()
        tables = sorted({name for name, _, _, kind in columns if kind == "BASE TABLE"})
        rows = [sorted(repr(tuple(row)) for row in conn.exec_driver_sql(f'SELECT * FROM "{name}"'))
                for name in tables]
    return hashlib.sha256(repr((columns, rows)).encode()).hexdigest()


def judged(args: list[str], contents: Callable[[], str], before: str | None = None) -> str | None:
    """What is wrong with running drvtape ARGS (None: nothing); contents() is the database's,
    before what it was before the run when that is known."""
    before = contents() if before is None else before
    try:
        code, _out, err = run_cli(*args)
    except BaseException as exc:  # noqa: BLE001  (what the user would see as a traceback)
        return f"traceback: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    if code not in (0, 1, 2):
        return f"exit {code}: {err[:300]!r}"
    if "Traceback" in err:
        return f"traceback on stderr: {err[-300:]!r}"
    if code == 2 and not (err.startswith("drvtape: error: ") and err.count("\n") == 1):
        return f"exit 2 without one error line: {err[:300]!r}"
    if code != 0 and contents() != before:
        return f"exit {code} and the database changed: {err[:200]!r}"
    return None


def shown(args: list[str]) -> str:
    return " ".join(a if len(a) < 60 else a[:30] + f"...({len(a)} chars)" for a in args)


def described(cmd: Command, hostile: tuple[tuple[Param, str], ...]) -> str:
    return f"{' '.join(cmd.path)} " + ", ".join(f"{param.opt or param.name.upper()}={kind}" for param, kind in hostile)
