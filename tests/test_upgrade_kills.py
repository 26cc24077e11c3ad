"""`drvtape db upgrade` killed at a random moment leaves a database the next upgrade finishes
(issue 18, item 3): the alembic stamp and every migration commit in one transaction."""

import random
import shutil
import sqlite3
from pathlib import Path

from drvtape.store import Store, tables
from drvtape.store.migrations import upgrade
from forks import kill_at_random, timed, trials

FIXTURES = Path(__file__).parent / "fixtures"


def contents(db):
    with Store.open(db, read_only=True) as store:
        return [(s.header, store.rows(s.pk), store.verify(s.pk)) for s in store.sessions()]


def test_a_killed_upgrade_is_finished_by_the_next_one(tmp_path):
    reference, *spares = _v1_copies(tmp_path, "reference", 3)
    within = min(timed(upgrade, db) for db in (reference, *spares))  # the fastest of three aims the kills (forks.timed)
    expected = contents(reference)
    rng = random.Random(18_3)
    killed = 0
    for i in range(trials(20)):
        db = tmp_path / f"u{i}.db"
        shutil.copy(FIXTURES / "schema-v1.db", db)
        killed += kill_at_random(upgrade, db, within=within, rng=rng)
        done = upgrade(db)
        assert done.after == tables.SCHEMA_VERSION and contents(db) == expected, i
        backups = sorted(p.name for p in tmp_path.glob(f"u{i}.db.schema-v1*.bak"))
        assert backups and all(_is_whole_v1(tmp_path / b) for b in backups), backups
    assert killed >= trials(8)


def _v1_copies(folder: Path, stem: str, n: int) -> list[Path]:
    copies = [folder / f"{stem}{i}.db" for i in range(n)]
    for copy in copies:
        shutil.copy(FIXTURES / "schema-v1.db", copy)
    return copies


def _is_whole_v1(backup: Path) -> bool:
    conn = sqlite3.connect(backup)
    try:
        return (conn.execute("SELECT value FROM drvtape_meta WHERE key = 'schema_version'").fetchone() == ("1",)
                and conn.execute("SELECT count(*) FROM events").fetchone() == (54,))
    finally:
        conn.close()
