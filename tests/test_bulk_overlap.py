"""A bulk load whose database work runs in a second thread (BulkLoad(overlap=True), what
`drvtape ingest` uses) stores what the same load without it stores, and an error on
either side leaves the database as it was, with the thread gone."""
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from drvtape.errors import DrvtapeError
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import call_row, return_row
from drvtape.store import Store
from drvtape.store.bulk import CHUNK_ROWS

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


def load(store: Store, overlap: bool, sessions: int = 3, events: int = 2 * CHUNK_ROWS + 100, compare: bool = True
         ) -> list:
    with store.bulk_load(overlap=overlap) as bulk:
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


def no_inserting_thread() -> bool:
    return not any(t.name == "drvtape-bulk-insert" for t in threading.enumerate())


def test_an_overlapped_load_stores_what_a_plain_one_stores(tmp_path):
    plain, overlapped = Store.open(tmp_path / "a.db", create=True), Store.open(tmp_path / "b.db", create=True)
    done = load(plain, False), load(overlapped, True)
    assert stored(plain) == stored(overlapped) and len(stored(plain)) == 3
    assert [(d.events, d.tip, d.already_there) for d in done[0]] == [(d.events, d.tip, d.already_there)
                                                                      for d in done[1]]
    assert no_inserting_thread()
    compared = load(overlapped, True)  # already there: compared (import), equal to its last link
    assert [d.already_there for d in compared] == [True] * 3
    counted = load(overlapped, True, compare=False)  # already there: counted (ingest), not stored twice
    assert [d.already_there for d in counted] == [True] * 3 and [d.stored_events for d in counted] == [10_100] * 3
    assert stored(plain) == stored(overlapped)


def test_an_error_in_the_inserting_thread_is_raised_in_the_caller_and_nothing_is_stored(tmp_path):
    store = Store.open(tmp_path / "a.db", create=True)
    load(store, True, sessions=1)
    with pytest.raises(DrvtapeError, match="already in the database with other content"):
        with store.bulk_load(overlap=True) as bulk:
            for n in (1, 2):
                loaded = bulk.begin(header(IDS[n]))
                bulk.add_rows(loaded, rows(100))
                bulk.end(loaded)
            other = bulk.begin(header(IDS[0], driver="other"))  # refused in the thread
            bulk.add_rows(other, rows(3 * CHUNK_ROWS))
            bulk.end(other)
    assert [s.header.id for s in store.sessions()] == [header(IDS[0]).id]
    assert no_inserting_thread()


def test_an_error_in_the_caller_while_chunks_are_in_flight_rolls_everything_back(tmp_path):
    store = Store.open(tmp_path / "a.db", create=True)
    with pytest.raises(DrvtapeError, match="not a tape"):
        with store.bulk_load(overlap=True) as bulk:
            loaded = bulk.begin(header(IDS[1]))
            bulk.add_rows(loaded, rows(4 * CHUNK_ROWS))
            raise DrvtapeError("not a tape")
    assert store.sessions() == []
    assert no_inserting_thread()


def test_ingest_in_a_second_thread_stores_what_ingest_in_one_stores(tmp_path, monkeypatch):
    """`drvtape ingest` with INSERT_IN_SECOND_THREAD on: tapes with memory blocks (blobs), a
    session already there, a torn tail; the same output and database as with it off."""
    from cli_runner import run_cli
    from test_tape_fast_path import mixed_tape
    from test_tape_memory import decompress_session

    import drvtape.cli.ingest as ingest_cli

    tapes = [tmp_path / "mixed.drvtape", tmp_path / "memory.drvtape"]
    tapes[0].write_bytes(mixed_tape())
    tapes[1].write_bytes(bytes(decompress_session()[0].data))
    results = []
    for overlap in (False, True):
        monkeypatch.setattr(ingest_cli, "INSERT_IN_SECOND_THREAD", overlap)
        db = tmp_path / f"{overlap}.db"
        results.append([run_cli("--db", db, "ingest", "--json", *tapes), run_cli("--db", db, "ingest", *tapes)])
        with Store.open(db) as store:
            results[-1].append(stored(store))
        assert no_inserting_thread()
    assert results[0] == results[1]
    (code, text, _), (again, said, _), sessions = results[1]
    assert code == again == 0 and '"ingested": 4' in text and said.count("already ingested") == 4
    assert len(sessions) == 4
