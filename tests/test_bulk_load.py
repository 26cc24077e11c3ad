"""A bulk load (import, ingest) stores whole sessions in chunks: a session already there is
compared or counted, not stored twice; an error anywhere leaves the database as it was; rows
given packed (the ingest fast path's PackedRows) among rows given one by one store what the
same rows given as tuples store."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from drvtape.errors import DrvtapeError
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import call_row, return_row
from drvtape.store import Store
from drvtape.store.bulk import CHUNK_ROWS
from drvtape.store.native_insert import NOT_NULL_MASK, UNSIGNED_MASK, sqlite_rows
from drvtape.store.packed_rows import PackedRows

IDS = [f"bbbb000{n}-0000-4000-8000-00000000000{n}" for n in range(1, 4)]


def header(session_id: str, minutes: int = 0, driver: str = "bulk.dll") -> SessionHeader:
    return SessionHeader(id=uuid.UUID(session_id), driver=driver, machine="box-a",
                         started_at=datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes))


def rows(n: int) -> list[tuple]:
    out = []
    for i in range(1, n, 2):
        out.append(call_row(i, 10 * i, 7, 0x4000 + i % 9, 1, 2, i, -i, 0))
        out.append(return_row(i + 1, 10 * i + 5, 7, 0x4000 + i % 9, 1, 2, i, i, 5))
    return out


def load(store: Store, sessions: int = 3, events: int = 2 * CHUNK_ROWS + 100, compare: bool = True) -> list:
    with store.bulk_load() as bulk:
        for n in range(sessions):
            loaded = bulk.begin(header(IDS[n], minutes=n), compare=compare)
            given = rows(events)
            bulk.add_rows(loaded, given[:CHUNK_ROWS - 1])
            for row in given[CHUNK_ROWS - 1:CHUNK_ROWS + 10]:
                bulk.add(loaded, row)
            bulk.add_rows(loaded, given[CHUNK_ROWS + 10:])
            bulk.blob(f"{n:064x}", bytes([n]) * 100)
            bulk.end(loaded)
    return bulk.loaded


def stored(store: Store) -> list:
    return [(s.header.id, store.rows(s.pk)) for s in store.sessions()]


def test_a_session_already_there_is_compared_or_counted_not_stored_twice(tmp_path):
    store = Store.open(tmp_path / "a.db", create=True)
    done = load(store)
    first = stored(store)
    assert len(first) == 3 and [(d.events, d.already_there) for d in done] == [(10_100, False)] * 3
    compared = load(store)  # already there: compared (import), equal to its last link
    assert [d.already_there for d in compared] == [True] * 3
    assert [d.tip for d in compared] == [d.tip for d in done]
    counted = load(store, compare=False)  # already there: counted (ingest), not stored twice
    assert [d.already_there for d in counted] == [True] * 3 and [d.stored_events for d in counted] == [10_100] * 3
    assert stored(store) == first


def test_a_session_there_with_other_content_is_refused_and_nothing_is_stored(tmp_path):
    store = Store.open(tmp_path / "a.db", create=True)
    load(store, sessions=1)
    with pytest.raises(DrvtapeError, match="already in the database with other content"):
        with store.bulk_load() as bulk:
            for n in (1, 2):
                loaded = bulk.begin(header(IDS[n]))
                bulk.add_rows(loaded, rows(100))
                bulk.end(loaded)
            other = bulk.begin(header(IDS[0], driver="other"))  # refused
            bulk.add_rows(other, rows(3 * CHUNK_ROWS))
            bulk.end(other)
    assert [s.header.id for s in store.sessions()] == [header(IDS[0]).id]


def test_an_error_in_the_caller_after_chunks_were_stored_rolls_everything_back(tmp_path):
    store = Store.open(tmp_path / "a.db", create=True)
    with pytest.raises(DrvtapeError, match="not a tape"):
        with store.bulk_load() as bulk:
            loaded = bulk.begin(header(IDS[1]))
            bulk.add_rows(loaded, rows(4 * CHUNK_ROWS))
            raise DrvtapeError("not a tape")
    assert store.sessions() == []


def packed(given: list[tuple]) -> PackedRows:
    return PackedRows(sqlite_rows.pack_rows(given, UNSIGNED_MASK, NOT_NULL_MASK), len(given))


@pytest.mark.parametrize("odd", [False, True])
def test_packed_rows_among_rows_store_what_the_same_rows_as_tuples_store(tmp_path, odd):
    """Parts of a chunk packed and not, in any order, across chunk ends; odd: one row the C
    path leaves to the Python path (a bool), which then takes the whole chunk."""
    given = rows(3 * CHUNK_ROWS)
    if odd:
        given[4_003] = given[4_003][:11] + (True,) + given[4_003][12:]  # in a part given as tuples
    as_tuples, mixed = Store.open(tmp_path / "a.db", create=True), Store.open(tmp_path / "b.db", create=True)
    with as_tuples.bulk_load() as bulk:
        loaded = bulk.begin(header(IDS[0]))
        bulk.add_rows(loaded, given)
    with mixed.bulk_load() as bulk:
        loaded = bulk.begin(header(IDS[0]))
        at = 0
        for size in (1, 4_000, 7, 2, 3_000, 1, 1, 5_000, 900):
            part = given[at:at + size]
            if size == 1:
                bulk.add(loaded, part[0])
            elif size % 2:
                bulk.add_rows(loaded, part)
            else:
                bulk.add_rows(loaded, packed(part))
            at += size
        bulk.add_rows(loaded, packed(given[at:]))
    assert stored(mixed) == stored(as_tuples)
    with as_tuples.engine.connect() as a, mixed.engine.connect() as b:
        for table in ("events", "thread_counts"):
            query = f"SELECT * FROM {table} ORDER BY 1, 2"
            assert b.exec_driver_sql(query).fetchall() == a.exec_driver_sql(query).fetchall()
