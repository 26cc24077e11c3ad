"""The hash chain, `drvtape verify`, schema upgrades from the first release, damaged files."""

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from drvtape.store.migrations import alembic_config
from drvtape.store import Store, tables

FIXTURES = Path(__file__).parent / "fixtures"


def drvtape(db, *args):
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True)


@pytest.fixture
def recorded(tmp_path):
    """A database with the use-after-release demo session in it (13 events)."""
    db = tmp_path / "i.db"
    assert drvtape(db, "demo", "--bug", "use-after-release").returncode == 0
    return db


def tamper(db, *statements):
    with sqlite3.connect(db) as conn:
        for sql in statements:
            conn.execute(sql)


def verdict(db):
    proc = drvtape(db, "verify", "--all", "--json")
    return proc.returncode, json.loads(proc.stdout)


def test_an_untouched_session_is_intact(recorded):
    code, doc = verdict(recorded)
    assert code == 0 and doc == {"sessions": 1, "intact": 1, "damaged": []}


@pytest.mark.parametrize("statements, seq, says", [
    (["UPDATE events SET lparam1 = 6 WHERE seq = 8"], 8, "does not match"),  # altered
    (["UPDATE events SET result = 0 WHERE seq = 6"], 6, "does not match"),  # altered: a result
    (["DELETE FROM events WHERE seq = 7"], 7, "is missing"),  # removed
    (["DELETE FROM events WHERE seq = 13"], None, None),  # the last event: see the docstring of verify
    # inserted: later events shifted up by one to make room for a forged event at seq 5
    (["UPDATE events SET seq = -seq - 1 WHERE seq >= 5", "UPDATE events SET seq = -seq WHERE seq < 0",
      "INSERT INTO events (session_pk, seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2, depth) "
      "SELECT session_pk, 5, 0, ts_ns, thread, 4, driver_id, hdrvr, 0, 0, 0 FROM events WHERE seq = 4"], 5,
     "has no chain link"),
    # reordered: the contents of seq 3 and 4 swapped, chain links included
    (["UPDATE events SET seq = -3 WHERE seq = 3", "UPDATE events SET seq = 3 WHERE seq = 4",
      "UPDATE events SET seq = 4 WHERE seq = -3"], 3, "does not match"),
])
def test_verify_finds_the_first_damaged_seq(recorded, statements, seq, says):
    tamper(recorded, *statements)
    code, doc = verdict(recorded)
    if seq is None:
        # Removing the newest events leaves a shorter, still consistent chain: verify cannot see it
        # without an anchor outside the database (noted for planning), and says so honestly: intact.
        assert code == 0
        return
    assert code == 1
    assert doc["damaged"][0]["seq"] == seq and says in doc["damaged"][0]["problem"]


def test_the_first_released_schema_upgrades_with_nothing_lost(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-v1.db", db)
    original = hashlib.sha256(db.read_bytes()).hexdigest()
    refused = drvtape(db, "sessions")
    assert refused.returncode == 2 and "db upgrade" in refused.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == original  # refusing wrote nothing
    done = drvtape(db, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    backup = tmp_path / "old.db.schema-v1.bak"
    assert backup.is_file() and f"from schema version 1 to {tables.SCHEMA_VERSION}" in done.stdout
    exported = drvtape(db, "export", "--all")
    assert exported.stdout == (FIXTURES / "schema-v1.jsonl").read_text()
    assert verdict(db) == (0, {"sessions": 4, "intact": 4, "damaged": []})
    again = drvtape(db, "db", "upgrade")
    assert again.returncode == 0 and "already" in again.stdout
    with sqlite3.connect(backup) as conn:  # the backup is the old database, whole
        assert conn.execute("SELECT value FROM drvtape_meta WHERE key = 'schema_version'").fetchone() == ("1",)
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (54,)
    assert drvtape(db, "replay", "c69327c0", "--target", "recorded", "--repeat", "2").returncode == 0  # the upgraded session replays


def schema_of(url):
    engine = sa.create_engine(url)
    inspector = sa.inspect(engine)
    shape = {name: (sorted((c["name"], str(c["type"])) for c in inspector.get_columns(name)),
                    sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)))
             for name in inspector.get_table_names() if name != "alembic_version"}
    engine.dispose()
    return shape


def test_the_migrations_build_the_schema_the_code_uses(tmp_path):
    migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = sa.create_engine(migrated)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    engine.dispose()
    Store.open(tmp_path / "fresh.db", create=True).close()
    assert schema_of(migrated) == schema_of(f"sqlite:///{tmp_path / 'fresh.db'}")
    Store.open(migrated).close()  # and it opens as a current database


@pytest.mark.parametrize("damage", ["header", "truncate", "middle"])
def test_a_damaged_database_file_is_a_clear_error(recorded, damage):
    data = bytearray(recorded.read_bytes())
    if damage == "header":
        data[0:100] = b"\xff" * 100
    elif damage == "truncate":
        data = data[: len(data) // 3 + 17]
    else:
        data[4096:8192] = b"\x5a" * 4096
    recorded.write_bytes(bytes(data))
    for wal in recorded.parent.glob("i.db-*"):
        wal.unlink()
    for args in (["sessions"], ["events", "last"], ["verify", "--all"], ["replay", "last", "--target", "recorded"]):
        proc = drvtape(recorded, *args)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        if proc.returncode == 2:
            assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("drvtape: error: ")
        else:  # damage that SQLite does not notice shows as a broken chain, never as silence
            assert args[0] == "verify" and proc.returncode == 1, (args, proc.returncode, proc.stderr)
