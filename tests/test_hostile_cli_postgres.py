"""The hostile-input harness on PostgreSQL (issue 17 item 2: the same on SQLite and PostgreSQL).

Against the private server of tests/postgres_server.py: every command with a sample of its
parameters given hostile values (DRVTAPE_HOSTILE_PG_CASES per command, default 4; the seed as
in tests/test_hostile_cli.py), and every command on each damage a server database can have
(the damage made with SQL; file damage is SQLite's). Each case finds a copy of a database
holding tape_db's sessions (damaged), as the first case found it; after a failure the dump of
its tables (columns, rows) must be as before.
"""

import os
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hostile_harness import (
    HOSTILE, POSTGRES_TYPE_DAMAGES, SQL_DAMAGES, commands, database_dump, described, invocation, judged, prepared,
    seed, shown, single_cases,
)

from drvtape.store import Store

CASES_PER_COMMAND = int(os.environ.get("DRVTAPE_HOSTILE_PG_CASES", "3"))
# The damage a server's database is likely to have, within the harness's minute: a column
# dropped or of another type, details that are not JSON, values no enum has, a bad UUID, a
# newer schema. tests/test_damaged_database.py has the rest at the store on PostgreSQL.
DAMAGES = {name: statements for name, statements in {**SQL_DAMAGES, **POSTGRES_TYPE_DAMAGES}.items()
           if name in {"dropped column", "text in an integer column", "the text None", "NULL where a value belongs",
                       "end detail not JSON", "unknown end reason", "unknown event kind", "bad session UUID",
                       "newer schema"}}
# Commands whose store access another one here has (demo is record's, explore minimize's), and
# those that never reach the database here (schema opens none; ingest refuses the harness's
# tape before it opens one).
SAME_AS_ANOTHER = {("demo",), ("explore",), ("schema",), ("ingest",)}


def server_commands():
    return [cmd for cmd in commands() if cmd.path not in SAME_AS_ANOTHER]
_TEMPLATES: dict[int, "Template"] = {}  # id(server): the database every case copies, made once per run


@dataclass(frozen=True)
class Template:
    url: str
    contents: str  # its database_dump


@pytest.fixture
def template(postgres, tape_db) -> Template:
    """A PostgreSQL database holding tape_db's sessions, in the same order (the same pks)."""
    if id(postgres) not in _TEMPLATES:
        url = postgres.new_database()
        with Store.open(str(tape_db)) as source, Store.open(url, create=True) as target:
            for summary in source.sessions():
                target.store_session(summary.header, source.rows(summary.pk))
        engine = sa.create_engine(url)
        _TEMPLATES[id(postgres)] = Template(url, database_dump(engine))
        engine.dispose()  # a template must have no connections to be copied
    return _TEMPLATES[id(postgres)]


def damaged(engine: sa.Engine, statements: tuple[str, ...]) -> None:
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)


class Cases:
    """Cases run one after another in one copy of the template (damaged by statements), which
    is made again after a command that changed it: each case finds the database as the first."""

    def __init__(self, postgres, template: Template, statements: tuple[str, ...] = ()):
        self.postgres, self.template, self.statements = postgres, template, statements
        self.url = self.engine = self.contents = None

    def _fresh(self) -> None:
        self.close()
        self.url = self.postgres.new_database(template=self.template.url)
        self.engine = sa.create_engine(self.url)
        damaged(self.engine, self.statements)
        self.contents = database_dump(self.engine)

    def problem(self, args_of, place_at: Path, tape_db) -> tuple[list[str], str | None]:
        """(the args of one case, what is wrong with its run)."""
        if self.url is None:
            self._fresh()
        args = args_of(prepared(place_at, self.url, tape_db))
        problem = judged(args, lambda: database_dump(self.engine), before=self.contents)
        if database_dump(self.engine) != self.contents:
            self._fresh()
        return args, problem

    def close(self) -> None:
        if self.url is not None:
            self.engine.dispose()
            self.postgres.drop_database(self.url)
            self.url = None


def test_every_command_takes_hostile_values_on_postgresql(postgres, template, tape_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drawn = seed()
    rng = random.Random(drawn)
    singles = single_cases()
    chosen = [case for cmd in commands()
              for case in rng.sample([c for c in singles if c[0] is cmd], min(CASES_PER_COMMAND, len(cmd.params) * len(HOSTILE)))]
    cases, problems = Cases(postgres, template), []
    try:
        for n, (cmd, hostile) in enumerate(chosen):
            args, problem = cases.problem(
                lambda place: invocation(cmd, place, {p: HOSTILE[kind](place) for p, kind in hostile}),
                tmp_path / f"case{n}", tape_db)
            if problem:
                problems.append(f"{described(cmd, hostile)}: {problem}\n    drvtape {shown(args)}")
    finally:
        cases.close()
    assert not problems, (f"{len(problems)} of {len(chosen)} cases on PostgreSQL "
                          f"(DRVTAPE_HOSTILE_SEED={drawn}):\n" + "\n".join(problems))


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_command_on_a_damaged_postgresql_database(damage, postgres, template, tape_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases, problems = Cases(postgres, template, DAMAGES[damage]), []
    try:
        for n, cmd in enumerate(server_commands()):
            args, problem = cases.problem(lambda place: invocation(cmd, place), tmp_path / f"case{n}", tape_db)
            if problem:
                problems.append(f"{' '.join(cmd.path)}: {problem}\n    drvtape {shown(args)}")
        assert cases.contents != template.contents  # the damage is there (a statement matched)
    finally:
        cases.close()
    assert not problems, f"{len(problems)} commands on a PostgreSQL database with {damage}:\n" + "\n".join(problems)
