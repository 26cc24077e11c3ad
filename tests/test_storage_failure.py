"""The storage failing under a recording (a full disk): the application gets its driver's
results, the session says what was lost, `verify` finds no tampering (issue 18, item 7).

The disk fills up through SQLite's max_page_count, set on every connection the store checks
out while the test has it `full`: inserts then fail with SQLITE_FULL, as on a full disk.
"""

import time

import pytest
import sqlalchemy as sa

from drvtape.recorder import Recorder
from drvtape.schema.details import decode_mark
from drvtape.schema.rows import Kind
from drvtape.store import Store


class Disk:
    def __init__(self, store: Store):
        self.full = False
        sa.event.listen(store.engine.pool, "checkout", self._limit)

    def _limit(self, dbapi_conn, _record, _proxy) -> None:
        cur = dbapi_conn.cursor()
        pages = cur.execute("PRAGMA page_count").fetchone()[0]
        cur.execute(f"PRAGMA max_page_count = {pages + 1 if self.full else 1_073_741_823}")
        cur.close()


def record(store: Store, disk: Disk, durability: str, calls: int, **options):
    disk.full = True
    rec = Recorder(store, driver="full-disk", durability=durability, **options)
    hooked = rec.wrap(lambda driver_id, hdrvr, msg, lparam1, lparam2: lparam1 * 3)
    start = time.perf_counter()
    results = [hooked(0, 1, 0x4001, i, 0) for i in range(calls)]
    per_call = (time.perf_counter() - start) / calls
    disk.full = False  # space again, for the end
    rec.close()
    assert results == [3 * i for i in range(calls)]  # the driver's results, never a storage error
    return rec, per_call


def loss_of(store: Store):
    session = store.resolve("last")
    rows = store.rows(session.pk)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))  # no hole
    assert store.verify(session.pk) == []  # no false tampering alarm
    assert rows[-1].kind == Kind.END
    marks = [decode_mark(r.payload) for r in rows if r.kind == Kind.MARK]
    return rows, marks


@pytest.mark.parametrize("durability", ["process", "machine"])
def test_a_full_disk_in_a_durable_mode_loses_events_honestly(tmp_path, durability):
    with Store.open(tmp_path / "full.db", create=True) as store:
        disk = Disk(store)
        calls = 3000
        record(store, disk, durability, calls)
        rows, marks = loss_of(store)
    assert len(marks) == 1 and "were lost: the storage failed" in marks[0] and "full" in marks[0]
    lost = int(marks[0].split()[0])
    assert len(rows) - 2 + lost == 2 * calls  # stored + lost = every call and return (then the mark, the end)


def test_a_full_disk_in_batched_mode_backs_off_with_bounded_memory(tmp_path):
    with Store.open(tmp_path / "full.db", create=True) as store:
        disk = Disk(store)
        calls = 40_000
        _, per_call = record(store, disk, "batched", calls, batch_size=256, max_pending=1024, flush_interval=0.01)
        rows, marks = loss_of(store)
    assert len(marks) == 1 and "were lost" in marks[0]
    lost = int(marks[0].split()[0])
    assert len(rows) - 2 + lost == 2 * calls
    assert len(rows) < 2 * 1024 + 200  # what was kept while the disk was full: within the bound
    assert per_call < 0.001, f"{per_call * 1e6:.0f} us per call while the disk was full"


def test_a_disk_full_for_a_moment_loses_nothing_in_batched_mode(tmp_path):
    with Store.open(tmp_path / "full.db", create=True) as store:
        disk = Disk(store)
        record(store, disk, "batched", 200, batch_size=64, max_pending=100_000)
        rows, marks = loss_of(store)
    assert marks == [] and len(rows) == 401
