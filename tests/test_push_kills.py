"""A push killed at a random moment resumes, even for a session recorded on this machine by a
process that is gone, with writers opening the destination in between (issue 18, item 2)."""

import random

import sqlalchemy as sa

from drvtape.recorder import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store, tables
from drvtape.store.recovery import end_orphaned_sessions
from drvtape.store.sync import copy_sessions
from forks import fork, kill_at_random, timed, trials, wait

CALLS, CHUNK = 600, 40


def record(db) -> None:
    with Recorder(db, driver="pushed", durability="batched") as rec:
        hooked = rec.wrap(ReferenceDriver())
        for i in range(CALLS):
            hooked(0, 1, 0x4001, i, 0)


def push(source_db, destination_db) -> None:
    with Store.open(source_db) as source, Store.open(destination_db, create=True) as destination:
        copy_sessions(source, destination, [source.resolve("last")], chunk=CHUNK)


def contents(db):
    with Store.open(db) as store:
        session = store.resolve("last")
        return session.header, store.rows(session.pk), store.verify(session.pk)


def markers(db) -> list[str]:
    with Store.open(db) as store, store.engine.connect() as conn:
        keys = conn.execute(sa.select(tables.meta.c.key)).scalars()
        return [k for k in keys if k.startswith(tables.COPYING)]


def test_a_killed_push_resumes_after_writers_opened_the_destination(tmp_path, postgres):
    source_db = str(tmp_path / "here.db")
    assert wait(fork(record, source_db)) == 0  # recorded on this machine by a process now gone
    expected = contents(source_db)
    rng = random.Random(18_2)
    kinds = {"sqlite": lambda i: str(tmp_path / f"central{i}.db"), "postgresql": lambda i: postgres.new_database()}
    killed = 0
    for kind, new_db in kinds.items():
        within = 1.2 * min(timed(push, source_db, new_db(f"timing{j}")) for j in range(3))  # forks.timed
        for i in range(trials(20)):
            destination_db = new_db(i)
            killed += kill_at_random(push, source_db, destination_db, within=within, rng=rng)
            try:
                with Store.open(destination_db) as destination:
                    assert end_orphaned_sessions(destination) == [], kind  # the copy is not an orphan
            except Exception as exc:  # killed before the destination existed
                assert "no drvtape database" in str(exc) or "not a drvtape database" in str(exc), exc
            push(source_db, destination_db)
            assert contents(destination_db) == expected, (kind, i)
            assert markers(destination_db) == []
    assert killed >= trials(10)


def test_a_copy_of_an_open_session_stays_marked_until_its_end_arrives(tmp_path):
    source_db, destination_db = str(tmp_path / "here.db"), str(tmp_path / "central.db")
    rec = Recorder(source_db, driver="open", durability="process")
    rec.wrap(ReferenceDriver())(0, 1, 0x4001, 0, 0)
    push(source_db, destination_db)
    assert len(markers(destination_db)) == 1
    rec.close()
    push(source_db, destination_db)
    assert markers(destination_db) == [] and contents(destination_db) == contents(source_db)
