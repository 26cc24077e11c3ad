"""A damaged or foreign database is named as such in one line by the store, on both engines (issue 17)."""

import hashlib
import sqlite3

import pytest
import sqlalchemy as sa
from hostile_harness import DROP_VIEWS, database_dump

from drvtape.errors import DrvtapeError
from drvtape.recorder import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store, sqlite_path, tables
from drvtape.store.opening import PG_TYPE_OIDS

# damage made with SQL, on either engine: (name, statements, what the error says)
SQL_DAMAGE = [
    ("schema version not a number", ["UPDATE drvtape_meta SET value = '²' WHERE key = 'schema_version'"],
     "schema version '²' is not a number"),
    ("newer schema", ["UPDATE drvtape_meta SET value = '99' WHERE key = 'schema_version'"], "newer"),
    ("not drvtape's meta", ["UPDATE drvtape_meta SET value = 'other' WHERE key = 'application'"],
     "not a drvtape database"),
    ("dropped column", [*DROP_VIEWS, "ALTER TABLE events DROP COLUMN payload"], "is damaged"),
    ("dropped table", [*DROP_VIEWS, "DROP TABLE events"], "is damaged"),
    ("non-JSON detail", ["UPDATE events SET payload = '{not json' WHERE kind = 4"], "not JSON"),
    ("unknown end reason", ["""UPDATE events SET payload = '{"reason":"zzz","detail":null}' WHERE kind = 4"""],
     "unknown reason 'zzz'"),
    ("malformed session UUID", ["UPDATE sessions SET uuid = 'abc-not-a-uuid'"], "is damaged"),
    ("unknown kind", ["UPDATE events SET kind = 9 WHERE seq = 2"], "unknown kind 9"),
    ("mark without text", ["""UPDATE events SET kind = 3, payload = '[1]' WHERE seq = 3"""], "no 'text'"),
    ("a call without its msg", ["UPDATE events SET msg = NULL WHERE kind = 0 AND seq = 1"],
     "seq 1 has a msg that is not a number (None)"),
]
# damage SQLite allows and PostgreSQL's types refuse
SQLITE_ONLY_DAMAGE = [
    ("text in the pid column", ["UPDATE sessions SET pid = 'abc'"], "is damaged"),
    ("text in the started_us column", ["UPDATE sessions SET started_us = 'abc'"], "is damaged"),
    ("text in an event's ts_ns", ["UPDATE events SET ts_ns = 'abc' WHERE seq = 3"], "is damaged"),
    ("text in an event's thread", ["UPDATE events SET thread = 'abc' WHERE seq = 3"], "is damaged"),
    ("the text 'None' in a msg", ["UPDATE events SET msg = 'None' WHERE seq = 1"],
     "seq 1 has a msg that is not a number ('None')"),
]


def record(db) -> None:
    with Recorder(db, driver="damaged") as rec:
        hooked = rec.wrap(ReferenceDriver())
        for i in range(20):
            hooked(0, 1, 0x4001, i, 0)


def damage(db, statements) -> None:
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    engine.dispose()


def read_everything(db) -> None:
    """What the read commands do: sessions, show, events, verify."""
    with Store.open(db, read_only=True) as store:
        store.sessions()
        session = store.resolve("last")
        store.summary(session.pk)
        store.threads(session.pk)
        store.verify(session.pk)
        store.events(session.pk)
        store.rows(session.pk)
        store.call_counts(session.pk)


def assert_named(db, says) -> str:
    with pytest.raises(DrvtapeError) as raised:
        read_everything(db)
    message = str(raised.value)
    assert len(message.splitlines()) == 1 and says in message, message
    return message


def file_hash(db) -> str | None:
    path = sqlite_path(db if "://" in db else f"sqlite:///{db}")
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else None


@pytest.mark.parametrize("name, statements, says", SQL_DAMAGE, ids=[d[0] for d in SQL_DAMAGE])
def test_damage_made_with_sql_is_named_on_both_engines(db, name, statements, says):
    record(db)
    damage(db, statements)
    before = file_hash(db)
    message = assert_named(db, says)
    assert "Traceback" not in message
    assert file_hash(db) == before


@pytest.mark.parametrize("name, statements, says", SQLITE_ONLY_DAMAGE, ids=[d[0] for d in SQLITE_ONLY_DAMAGE])
def test_text_in_an_integer_column_is_named(tmp_path, name, statements, says):
    db = str(tmp_path / "d.db")
    record(db)
    damage(db, statements)
    assert_named(db, says)


def damaged_file(tmp_path, how) -> str:
    db = tmp_path / "d.db"
    record(str(db))
    data = bytearray(db.read_bytes())
    if how == "zero bytes":
        data = bytearray()
    elif how == "truncated":
        data = data[: len(data) // 2 + 17]
    elif how == "header overwritten":
        data[0:100] = b"\xff" * 100
    else:  # a page overwritten
        data[4096:8192] = b"\x5a" * 4096
    db.write_bytes(bytes(data))
    return str(db)


@pytest.mark.parametrize("how, says", [
    ("zero bytes", "is an empty file, not a drvtape database"),
    ("truncated", "is damaged"),
    ("header overwritten", "not a usable drvtape database: not an SQLite database file"),
    ("a page overwritten", "is damaged"),
])
def test_a_damaged_file_is_named_and_left_as_it_was(tmp_path, how, says):
    db = damaged_file(tmp_path, how)
    before = file_hash(db)
    message = assert_named(db, says)
    assert db in message
    try:  # a writer opening it neither adopts nor repairs it
        Store.open(db, create=True).close()
    except DrvtapeError:
        pass
    assert file_hash(db) == before


def test_a_corrupted_page_is_named_by_its_number(tmp_path):
    db = damaged_file(tmp_path, "a page overwritten")
    message = assert_named(db, "is damaged at page ")
    assert "run `drvtape verify` / restore the backup" in message


def test_a_foreign_sqlite_file_is_not_a_drvtape_database(tmp_path):
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    assert_named(str(db), "not a drvtape database")


def contents(db) -> str:
    """The file's hash (SQLite), or a digest of every table (PostgreSQL)."""
    if "://" not in db:
        return file_hash(db)
    engine = sa.create_engine(db)
    try:
        return database_dump(engine)
    finally:
        engine.dispose()


def test_a_writer_refuses_a_table_missing_a_column_before_it_writes(db):
    record(db)
    damage(db, [*DROP_VIEWS, "ALTER TABLE events DROP COLUMN duration_ns"])
    before = contents(db)
    with pytest.raises(DrvtapeError, match="is damaged .*duration_ns.*not the drvtape schema"):
        record(db)
    assert contents(db) == before


def test_a_column_of_another_type_is_refused_on_postgresql(postgres):
    url = postgres.new_database()
    record(url)
    damage(url, [*DROP_VIEWS, "ALTER TABLE events ALTER COLUMN thread TYPE text"])
    before = contents(url)
    for use in (record, read_everything):
        with pytest.raises(DrvtapeError, match="column events.thread is not of the type drvtape writes"):
            use(url)
    assert contents(url) == before


def test_every_column_type_has_its_postgresql_type_oid():
    """Store.open compares PostgreSQL's column types with these: a new type needs its oid."""
    assert {type(c.type) for table in tables.metadata.sorted_tables for c in table.c} <= set(PG_TYPE_OIDS)
