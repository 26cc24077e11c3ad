"""Every command, every option, hostile values and damaged databases: never a traceback.

The commands and their parameters are read from the click command `drvtape` runs, so a new
command or option is covered without editing this file. Each case runs one command with good
values everywhere but in one place: one parameter given a hostile value (on an intact
database), or the database itself damaged. Each must answer with exit 0, 1 or 2; exit 2 is
one line on stderr; no traceback; and after a failure the database is byte-identical.

The cross product is sampled: DRVTAPE_HOSTILE_CASES cases (default 450) of one hostile
value each (beyond all of those, cases of two at once), the damaged databases always whole. CI=true draws the same sample every run; elsewhere the seed varies
and a failure names it (DRVTAPE_HOSTILE_SEED=N draws it again). scripts/fuzz-cli runs 10x.
"""

import hashlib
import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from cli_runner import run_cli

from drvtape.cli import command
from drvtape.formats.jsonl import dump_session
from drvtape.store import Store, tables, views

CASES = int(os.environ.get("DRVTAPE_HOSTILE_CASES", "450"))
SKIPPED_GROUPS = {"tap"}  # runs `wine reg` in drvtape's Wine prefix: tests/native/test_tap_install.py covers it
WORKLOAD = '[[steps]]\naction = "open"\ninstance = "a"\n\n[[steps]]\naction = "close"\ninstance = "a"\n'


def _seed() -> int:
    if "DRVTAPE_HOSTILE_SEED" in os.environ:
        return int(os.environ["DRVTAPE_HOSTILE_SEED"])
    return 0 if os.environ.get("CI", "").lower() == "true" else random.SystemRandom().randrange(2**32)


# ---- hostile values ------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where a case runs: the database, and files the good values and hostile paths name."""
    folder: Path
    db: Path

    def file(self, name: str, text: str = "") -> str:
        path = self.folder / name
        path.write_text(text)
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
    "read-only file": lambda p: _read_only(p.folder / "read-only"),
    "not a database": lambda p: p.file("junk.db", "hello\n" * 100),
}


def _read_only(path: Path) -> str:
    path.write_text("read-only\n")
    path.chmod(0o444)
    return str(path)


# ---- damaged databases -----------------------------------------------------------------------

def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        conn = sqlite3.connect(path)
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()
    return damage


def _overwrite_page(number: int) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        page_size = int.from_bytes(data[16:18], "big")
        start = page_size * (number - 1)
        data[start:start + page_size] = bytes([0x5A]) * page_size
        path.write_bytes(bytes(data))
    return damage


def _truncate(fraction: float) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * fraction)])
    return damage


# a table or column the views name goes only with them (SQLite refuses otherwise)
DROP_VIEWS = [f"DROP VIEW IF EXISTS {name}" for name in views.NAMES]

DAMAGES: dict[str, Callable[[Path], None]] = {
    "schema version not a number": _sql("UPDATE drvtape_meta SET value = '²' WHERE key = 'schema_version'"),
    "newer schema": _sql(f"UPDATE drvtape_meta SET value = '{tables.SCHEMA_VERSION + 1}' WHERE key = 'schema_version'"),
    "no meta rows": _sql("DELETE FROM drvtape_meta"),
    "dropped column": _sql(*DROP_VIEWS, "ALTER TABLE events DROP COLUMN duration_ns"),
    "dropped table": _sql(*DROP_VIEWS, "DROP TABLE events"),
    "end detail not JSON": _sql("UPDATE events SET payload = '{\"reason\": \"hang\", ' WHERE kind = 4"),
    "unknown end reason": _sql("UPDATE events SET payload = '{\"reason\": \"zzz\"}' WHERE kind = 4"),
    "unknown event kind": _sql("UPDATE events SET kind = 9 WHERE seq = 2"),
    "bad session UUID": _sql("UPDATE sessions SET uuid = 'not-a-uuid!' WHERE pk = 1"),
    "text in an integer column": _sql("UPDATE events SET thread = 'abc' WHERE seq = 1",
                                      "UPDATE sessions SET started_us = 'yesterday' WHERE pk = 2"),
    "NULL where a value belongs": _sql("UPDATE events SET msg = NULL WHERE kind = 0 AND seq = 1"),
    "the text None": _sql("UPDATE events SET msg = 'None' WHERE seq = 1"),
    "payload of the wrong type": _sql("UPDATE events SET payload = '{\"lparam1\": {\"type\": \"zzz\"}}' "
                                      "WHERE kind = 0"),
    "huge integer": _sql("UPDATE sessions SET pid = 9223372036854775807 WHERE pk = 4"),
    "corrupted page": _overwrite_page(2),
    "corrupted header page": _overwrite_page(1),
    "truncated file": _truncate(0.5),
    "zero-byte file": _truncate(0.0),
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


def commands() -> list[Command]:
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
    return found


def good_value(cmd: Command, param: Param, place: Place) -> str | list[str] | None:
    """A value that works for a parameter; None: leave it out (its default is good)."""
    by_name = {
        "db": str(place.db),
        "session": "last", "a": "last", "b": "last",
        "sessions": ["last"],
        "files": [str(place.folder / "good.jsonl")],
        "tapes": [str(place.folder / "not-a-tape.drvtape")],
        "target": "sim:reference",
        "workload": str(place.folder / "workload.toml"),
        "output": str(place.folder / "out.txt"),
        "to": str(place.folder / "central.db"),
        "source_url": _copy(place.db, place.folder / "source.db"),
        "budget": "2",
        "max_replays": "2",
    }
    if param.name in by_name:
        return by_name[param.name]
    return "x" if param.name in cmd.required else None  # a new required parameter: some text


@cache
def _jsonl(db: Path) -> str:
    with Store.open(str(db)) as store:
        stored = store.resolve("last")
        return "".join(line + "\n" for line in dump_session(stored.header, store.events(stored.pk)))


def _copy(src: Path, dst: Path) -> str:
    if not dst.exists():
        shutil.copyfile(src, dst)
    return str(dst)


def invocation(cmd: Command, place: Place, hostile: dict[Param, str] | None = None) -> list[str]:
    hostile = hostile or {}
    args = list(cmd.path)
    for param in cmd.params:
        value = hostile[param] if param in hostile else good_value(cmd, param, place)
        if value is not None:
            args += param.tokens(value)
    return args


# ---- running and judging -------------------------------------------------------------------

def _digest(db: Path) -> str:
    h = hashlib.sha256()
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()


def judged(args: list[str], db: Path) -> str | None:
    """What is wrong with running drvtape ARGS (None: nothing)."""
    before = _digest(db)
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
    if code != 0 and _digest(db) != before:
        return f"exit {code} and the database changed: {err[:200]!r}"
    return None


def _shown(args: list[str]) -> str:
    return " ".join(a if len(a) < 60 else a[:30] + f"...({len(a)} chars)" for a in args)


def _place(tmp_path: Path, pristine: Path, n: int) -> Place:
    """A folder of its own for case n: a copy of the fixture database and the good files."""
    folder = tmp_path / f"case{n}"
    folder.mkdir()
    db = folder / "t.db"
    shutil.copyfile(pristine, db)
    place = Place(folder, db)
    place.file("good.jsonl", _jsonl(pristine))
    place.file("not-a-tape.drvtape", "no tape\n")
    place.file("workload.toml", WORKLOAD)
    return place


Case = tuple[Command, tuple[tuple[Param, str], ...]]  # a command, and (parameter, hostile kind) pairs


def sampled_cases(rng: random.Random) -> tuple[list[Case], int]:
    """CASES cases, and how many one hostile parameter makes: each of those at most once, then
    (for a longer run) commands with two hostile parameters at once."""
    singles = [(cmd, ((param, kind),)) for cmd in commands() for param in cmd.params for kind in HOSTILE]
    chosen = rng.sample(singles, min(CASES, len(singles)))
    several = [cmd for cmd in commands() if len(cmd.params) > 1]
    for _ in range(CASES - len(chosen)):
        cmd = rng.choice(several)
        chosen.append((cmd, tuple((param, rng.choice(list(HOSTILE))) for param in rng.sample(cmd.params, 2))))
    return chosen, len(singles)


def test_every_option_takes_hostile_values_without_a_traceback(tape_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seed = _seed()
    chosen, singles = sampled_cases(random.Random(seed))
    problems = []
    for n, (cmd, hostile) in enumerate(chosen):
        place = _place(tmp_path, tape_db, n)
        args = invocation(cmd, place, {param: HOSTILE[kind](place) for param, kind in hostile})
        problem = judged(args, place.db)
        if problem:
            where = ", ".join(f"{param.opt or param.name.upper()}={kind}" for param, kind in hostile)
            problems.append(f"{' '.join(cmd.path)} {where}: {problem}\n    drvtape {_shown(args)}")
    assert not problems, (f"{len(problems)} of {len(chosen)} cases ({singles} with one hostile value; "
                          f"DRVTAPE_HOSTILE_SEED={seed}):\n" + "\n".join(problems))


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_command_on_a_damaged_database_without_a_traceback(damage, tape_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = []
    for n, cmd in enumerate(commands()):
        place = _place(tmp_path, tape_db, n)
        source = Path(_copy(place.db, place.folder / "source.db"))  # pull reads this one: damaged too
        DAMAGES[damage](place.db)
        DAMAGES[damage](source)
        args = invocation(cmd, place)
        problem = judged(args, place.db)
        if problem:
            problems.append(f"{' '.join(cmd.path)}: {problem}\n    drvtape {_shown(args)}")
    assert not problems, f"{len(problems)} commands on a database with {damage}:\n" + "\n".join(problems)


def test_the_harness_reaches_every_command_and_option():
    found = commands()
    paths = {" ".join(c.path) for c in found}
    assert {"sessions", "show", "events", "import", "export", "replay", "explore", "push", "pull",
            "timeline", "db upgrade"} <= paths
    assert all(any(p.opt == "--db" for p in c.params) for c in found)
    assert any(p.opt == "--chunk" for c in found for p in c.params)
