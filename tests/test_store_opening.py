"""Opening a database: concurrent first use, concurrent orphan recovery, a kill during creation,
read-only opening and snapshots (issue 18, items 4, 5 and 12), on both engines."""

import hashlib
import os
import platform
import random
import sqlite3
import time
import uuid

import pytest
import sqlalchemy as sa

from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import Kind, call_row
from drvtape.store import Store, tables
from drvtape.store.recovery import end_orphaned_sessions
from forks import fork, kill_at_random, timed, trials, wait

OPENERS = 8


def first_use(db) -> None:
    with Store.open(db, create=True) as store:
        store.begin_session(SessionHeader(id=uuid.uuid4(), driver="first-use", started_at=utc_now()))


def test_concurrent_first_use_of_a_new_database_creates_it_once(db):
    at = time.time() + 0.5
    children = [fork(first_use, db, at=at) for _ in range(OPENERS)]
    assert [wait(pid) for pid in children] == [0] * OPENERS
    with Store.open(db) as store:
        assert len(store.sessions()) == OPENERS


def dead_pid() -> int:
    pid = fork(lambda: None)
    wait(pid)  # reaped: nothing runs under it now
    return pid


def store_orphan(db) -> None:
    header = SessionHeader(id=uuid.uuid4(), driver="orphan", machine=platform.node(), pid=dead_pid(),
                           started_at=utc_now())
    with Store.open(db, create=True) as store:
        pk = store.begin_session(header)
        store.append_rows(pk, [call_row(1, 0, 1, 0x4001, 0, 1, 0, 0, 0)])


def recover(db) -> None:
    with Store.open(db) as store:
        end_orphaned_sessions(store)


def test_writers_opening_a_database_with_an_orphan_at_once_end_it_once(db):
    store_orphan(db)
    at = time.time() + 0.5
    children = [fork(recover, db, at=at) for _ in range(OPENERS)]
    assert [wait(pid) for pid in children] == [0] * OPENERS
    with Store.open(db) as store:
        rows = store.rows(store.resolve("last").pk)
    assert [r.kind for r in rows] == [Kind.CALL, Kind.END] and [r.seq for r in rows] == [1, 2]


def create(db) -> None:
    Store.open(db, create=True).close()


def test_a_kill_at_any_moment_of_a_creation_leaves_a_database_that_opens(tmp_path, postgres):
    """SIGKILL while a database is being created: the next writer opens it (or creates it)
    and it is whole. SQLite files and PostgreSQL databases, kills spread over the creation."""
    rng = random.Random(18_4)
    kinds = {"sqlite": lambda i: str(tmp_path / f"c{i}.db"), "postgresql": lambda i: postgres.new_database()}
    killed = 0
    for kind, new_db in kinds.items():
        within = 1.3 * min(timed(create, new_db(f"timing{j}")) for j in range(3))  # forks.timed
        for i in range(trials(20)):
            db = new_db(i)
            killed += kill_at_random(create, db, within=within, rng=rng)
            with Store.open(db, create=True) as store:
                assert store.sessions() == []
            first_use(db)
    assert killed >= trials(8)  # most kills landed before the creation finished


def file_bytes(path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.parent.glob(path.name + "*"))
            if not p.name.endswith("-shm")}


def killed_writer_leaves_a_wal(db) -> None:
    first_use(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE sessions SET driver = 'in the wal'")
    conn.commit()
    os._exit(0)  # no close: no checkpoint, the WAL stays


def test_a_read_only_open_reads_a_killed_writers_wal_and_writes_nothing(tmp_path):
    db = tmp_path / "r.db"
    wait(fork(killed_writer_leaves_a_wal, str(db)))
    before = file_bytes(db)
    assert f"{db.name}-wal" in before
    with Store.open(db, read_only=True) as store:
        assert [s.header.driver for s in store.sessions()] == ["in the wal"]
    assert file_bytes(db) == before  # not checkpointed, not changed


def test_a_database_on_read_only_media_is_readable(tmp_path, monkeypatch):
    db = tmp_path / "media.db"
    first_use(str(db))
    # root may write anywhere: stand in for a read-only mount, as os.access reports one
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    before = file_bytes(db)
    with Store.open(db, read_only=True) as store:
        assert len(store.sessions()) == 1
        url = store.engine.url
    assert url.query.get("immutable") == "1"
    assert file_bytes(db) == before and not db.with_name(db.name + "-shm").exists()


def test_a_read_only_store_beside_a_wal_cannot_write(tmp_path):
    db = tmp_path / "ro.db"
    wait(fork(killed_writer_leaves_a_wal, str(db)))
    with Store.open(db, read_only=True) as store, pytest.raises(sa.exc.OperationalError, match="readonly"):
        store.begin_session(SessionHeader(id=uuid.uuid4(), driver="x", started_at=utc_now()))


def test_reads_in_a_snapshot_see_one_moment(db):
    first_use(db)
    with Store.open(db) as store, Store.open(db) as writer:
        pk = store.resolve("last").pk
        with store.snapshot():
            assert store.threads(pk) == []
            writer.append_rows(pk, [call_row(1, 0, 7, 0x4001, 0, 1, 0, 0, 0)])
            assert store.events(pk) == []  # committed after the snapshot began: not seen
        assert store.threads(pk) == [7] and len(store.events(pk)) == 1


def test_a_new_database_is_whole_and_leaves_no_temporary_file(tmp_path):
    db = tmp_path / "new.db"
    create(str(db))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert set(sa.inspect(conn).get_table_names()) == set(tables.metadata.tables)
    engine.dispose()
