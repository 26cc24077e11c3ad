"""Tampering the hash chain did not cover before schema version 3 (issue 18, item 8): header
fields, NULL made the text 'None', a kind, a whole session deleted. docs/reliability.md lists
what verify does and does not detect."""

import json
import sqlite3

import pytest

from drvtape.errors import DrvtapeError
from drvtape.recorder import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store


def record(db, sessions=1) -> None:
    for _ in range(sessions):
        with Recorder(db, driver="tampered", target="sim:reference") as rec:
            hooked = rec.wrap(ReferenceDriver())
            for i in range(5):
                hooked(0, 1, 0x4001, i, 0)


def tamper(db, sql) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql)
    conn.close()


def verdicts(db) -> list:
    with Store.open(db, read_only=True) as store:
        return [store.verify(s.pk) for s in store.sessions()]


@pytest.mark.parametrize("sql", [
    "UPDATE sessions SET target = 'py:notes:DriverProc'",
    "UPDATE sessions SET target = NULL",
    "UPDATE sessions SET driver = 'other.dll'",
    "UPDATE sessions SET machine = 'elsewhere'",
    "UPDATE sessions SET started_us = started_us + 1",
    "UPDATE sessions SET pid = pid + 1",
    "UPDATE sessions SET header_link = NULL",
])
def test_an_altered_header_field_is_found(tmp_path, sql):
    db = str(tmp_path / "t.db")
    record(db)
    tamper(db, sql)
    [problems] = verdicts(db)
    assert problems and problems[0][0] == 0 and "header" in problems[0][1]


def test_null_made_the_text_none_is_found_and_reads_fail_in_one_line(tmp_path):
    db = str(tmp_path / "t.db")
    record(db)
    tamper(db, "UPDATE events SET payload = 'None' WHERE seq = 3 AND payload IS NULL")
    [problems] = verdicts(db)
    assert problems[0][0] == 3 and "never writes" in problems[0][1]
    with Store.open(db, read_only=True) as store, pytest.raises(DrvtapeError, match="is damaged"):
        store.events(store.resolve("last").pk)


def test_a_tampered_kind_is_found_and_reads_fail_in_one_line(tmp_path):
    db = str(tmp_path / "t.db")
    record(db)
    tamper(db, "UPDATE events SET kind = 7 WHERE seq = 2")
    [problems] = verdicts(db)
    assert problems[0][0] == 2
    with Store.open(db, read_only=True) as store, pytest.raises(DrvtapeError, match="unknown kind 7"):
        store.events(store.resolve("last").pk)


def test_a_session_deleted_whole_is_found_by_verify_all(tmp_path, drvtape):
    db = str(tmp_path / "t.db")
    record(db, sessions=3)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM sessions WHERE pk = 2")  # its events go with it (ON DELETE CASCADE)
    conn.close()
    run = drvtape("--db", db, "verify", "--all", "--json")
    doc = json.loads(run.stdout)
    assert run.code == 1 and doc["sessions"] == 2 and doc["intact"] == 2
    assert "1 session(s) stored in this database are gone" in doc["damaged"][0]["problem"]
