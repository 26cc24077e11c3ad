"""Every command, every option, hostile values and damaged databases: never a traceback.

The commands and their parameters are read from the click command `drvtape` runs, so a new
command or option is covered without editing this file (tests/hostile_harness.py). Each case
runs one command with good values everywhere but in one place: one parameter given a hostile
value (on an intact database), or the database itself damaged. Each must answer with exit 0,
1 or 2; exit 2 is one line on stderr; no traceback; and after a failure the database is
byte-identical. tests/test_hostile_cli_postgres.py runs the same on PostgreSQL.

The cross product is sampled: DRVTAPE_HOSTILE_CASES cases (default 450) of one hostile
value each (beyond all of those, cases of two at once), the damaged databases always whole.
CI=true draws the same sample every run; elsewhere the seed varies and a failure names it
(DRVTAPE_HOSTILE_SEED=N draws it again). scripts/fuzz-cli runs 10x.
"""

import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_harness import (
    HOSTILE, SQL_DAMAGES, SQLITE_TYPE_DAMAGES, Case, Place, commands, described, file_digest, invocation, judged,
    prepared, seed, shown, single_cases,
)

CASES = int(os.environ.get("DRVTAPE_HOSTILE_CASES", "450"))


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


DAMAGES: dict[str, Callable[[Path], None]] = {
    **{name: _sql(*statements) for name, statements in {**SQL_DAMAGES, **SQLITE_TYPE_DAMAGES}.items()},
    "corrupted page": _overwrite_page(2),
    "corrupted header page": _overwrite_page(1),
    "truncated file": _truncate(0.5),
    "zero-byte file": _truncate(0.0),
}


# ---- the cases -----------------------------------------------------------------------------

def _place(tmp_path: Path, pristine: Path, n: int) -> Place:
    """A folder of its own for case n: a copy of the fixture database and the good files."""
    folder = tmp_path / f"case{n}"
    place = prepared(folder, str(folder / "t.db"), pristine)
    shutil.copyfile(pristine, place.db)
    return place


def sampled_cases(rng: random.Random) -> tuple[list[Case], int]:
    """CASES cases, and how many one hostile parameter makes: each of those at most once, then
    (for a longer run) commands with two hostile parameters at once."""
    singles = single_cases()
    chosen = rng.sample(singles, min(CASES, len(singles)))
    several = [cmd for cmd in commands() if len(cmd.params) > 1]
    for _ in range(CASES - len(chosen)):
        cmd = rng.choice(several)
        chosen.append((cmd, tuple((param, rng.choice(list(HOSTILE))) for param in rng.sample(cmd.params, 2))))
    return chosen, len(singles)


def test_every_option_takes_hostile_values_without_a_traceback(tape_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drawn = seed()
    chosen, singles = sampled_cases(random.Random(drawn))
    problems = []
    for n, (cmd, hostile) in enumerate(chosen):
        place = _place(tmp_path, tape_db, n)
        args = invocation(cmd, place, {param: HOSTILE[kind](place) for param, kind in hostile})
        problem = judged(args, lambda: file_digest(Path(place.db)))
        if problem:
            problems.append(f"{described(cmd, hostile)}: {problem}\n    drvtape {shown(args)}")
    assert not problems, (f"{len(problems)} of {len(chosen)} cases ({singles} with one hostile value; "
                          f"DRVTAPE_HOSTILE_SEED={drawn}):\n" + "\n".join(problems))


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_command_on_a_damaged_database_without_a_traceback(damage, tape_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = []
    for n, cmd in enumerate(commands()):
        place = _place(tmp_path, tape_db, n)
        DAMAGES[damage](Path(place.db))
        DAMAGES[damage](place.source)  # pull reads this one: damaged too
        args = invocation(cmd, place)
        problem = judged(args, lambda: file_digest(Path(place.db)))
        if problem:
            problems.append(f"{' '.join(cmd.path)}: {problem}\n    drvtape {shown(args)}")
    assert not problems, f"{len(problems)} commands on a database with {damage}:\n" + "\n".join(problems)


def test_the_harness_reaches_every_command_and_option():
    found = commands()
    paths = {" ".join(c.path) for c in found}
    assert {"sessions", "show", "events", "import", "export", "replay", "explore", "push", "pull",
            "timeline", "db upgrade"} <= paths
    assert all(any(p.opt == "--db" for p in c.params) for c in found)
    assert any(p.opt == "--chunk" for c in found for p in c.params)
