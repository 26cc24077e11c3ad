"""The C insert path for SQLite (drvtape/store/native_insert.py) stores exactly what the Python
path stores: the same rows, chain links, tips and thread_counts, or the same error with
nothing stored."""

import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.schema.events import SessionHeader, utc_now
from drvtape.errors import DrvtapeError
from drvtape.schema.rows import CALL, RETURN, ROW_COLUMNS, call_row, return_row
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT64_MAX
from drvtape.store import Store, chain
from drvtape.store import tables as t
from drvtape.store.appends import EventInserter
from drvtape.store.native_insert import NOT_NULL_MASK, PACK_SLICE_ROWS, UNSIGNED_MASK, registered, sqlite_rows

TIP = chain.genesis(uuid.UUID(int=7))
INT64 = st.integers(INT64_MIN, INT64_MAX) | st.sampled_from([0, -1, INT64_MIN, INT64_MAX])
UINT64 = st.integers(0, UINT64_MAX) | st.sampled_from([0, INT64_MAX, INT64_MAX + 1, UINT64_MAX])
TEXT = st.text() | st.sampled_from(['{"é": "\x1f\x00"}', "None", "", "日本"])
FIELD = {name: (st.none() | INT64) for name in ROW_COLUMNS}
FIELD.update(seq=INT64, kind=INT64, ts_ns=INT64, thread=UINT64, driver_id=st.none() | UINT64,
             hdrvr=st.none() | UINT64, payload=st.none() | TEXT, entry_point=st.none() | st.integers(0, 9))
# values the columns do not expect: the C path must leave them to the Python path, or agree with it
ODD = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | TEXT
       | st.sampled_from(["\ud800", b"\x01", "12", 2**64 + 5, -2**63 - 1]))


def new_session(store: Store) -> int:
    return store.begin_session(SessionHeader(id=uuid.uuid4(), driver="sim:native", started_at=utc_now(), source="test"))


def rows_of(fields: st.SearchStrategy) -> st.SearchStrategy:
    """Lists of rows of 14 or 15 fields (a DriverProc row may leave entry_point out)."""
    return st.lists(st.tuples(*(fields[name] for name in ROW_COLUMNS)).flatmap(
        lambda row: st.sampled_from([row, row[:14]]) if row[14] is None else st.just(row)), max_size=12)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with Store.open(str(tmp_path_factory.mktemp("native") / "n.db"), create=True) as opened:
        yield opened


def stored(store: Store, pk: int) -> tuple[list, list]:
    """A session's events (all but session_pk, in insertion order) and its thread_counts."""
    e, c = t.events, t.thread_counts
    with store.reading() as conn:
        events = conn.execute(sa.select(*(col for col in e.c if col.name != "session_pk"))
                              .where(e.c.session_pk == pk).order_by(sa.literal_column("rowid"))).all()
        counts = conn.execute(sa.select(c.c.thread, c.c.events, c.c.calls).where(c.c.session_pk == pk)
                              .order_by(c.c.thread)).all()
    return events, counts


def outcome(store: Store, inserter: EventInserter, rows, share_gil: bool | None = None) -> tuple:
    """What inserting rows after TIP in a new session does: (tip, events, counts) or the error.
    share_gil: by default, for an even number of rows only."""
    pk = new_session(store)
    try:
        with store.writing() as conn:
            tip = inserter.insert(conn, pk, rows, TIP, share_gil=len(rows) % 2 == 0 if share_gil is None else share_gil)
    except Exception as exc:  # noqa: BLE001 - the two paths must fail alike, whatever they raise
        assert stored(store, pk) == ([], []), "a failed insert stored something"
        return type(exc), str(getattr(exc, "orig", exc))
    return (tip, *stored(store, pk))


def test_the_build_has_the_c_insert_path(store):
    """CI and scripts/setup build it (setup.py): without it, ingest and the recorder's writer
    lose their speed silently, so its absence fails here."""
    assert registered(), "drvtape.store.sqlite_rows is not built or not registered (pip install -e . builds it)"
    assert store.inserter.native is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_of(FIELD), seq_from=INT64.filter(lambda s: s < INT64_MAX - 20))
def test_c_path_stores_what_the_python_path_stores(store, rows, seq_from):
    rows = [(seq_from + i, *row[1:]) for i, row in enumerate(rows)]  # distinct seqs: all stored
    assert sqlite_rows.pack_rows(rows, UNSIGNED_MASK, NOT_NULL_MASK) is not None  # the C path takes them
    python = outcome(store, EventInserter(store.engine, native=False), rows)
    assert outcome(store, store.inserter, rows) == python
    assert len(python[1]) == len(rows) and (not rows or python[0] == python[1][-1].chain)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_of({**FIELD, **{name: ODD for name in ROW_COLUMNS[1:]}}))
def test_c_path_fails_or_stores_as_the_python_path_does_for_odd_values(store, rows):
    assert outcome(store, store.inserter, rows) == outcome(store, EventInserter(store.engine, native=False), rows)


def test_out_of_range_values_raise_what_the_python_path_raises_with_nothing_stored(store):
    good = [call_row(seq, 0, 1, 1, 1, 1, 0, 0, 0) for seq in range(1, PACK_SLICE_ROWS + 11)]
    too_large = (OverflowError, "Python int too large to convert to SQLite INTEGER")
    for bad, says in (({"lparam1": INT64_MAX + 1}, too_large), ({"ts_ns": INT64_MIN - 1}, too_large),
                      ({"thread": 2**65}, (DrvtapeError, f"seq 1000000: field 'thread': {2**65} does not fit in 64 bits")),
                      ({"driver_id": -2**63 - 1}, too_large)):
        row = call_row(10**6, **{"ts_ns": 0, "thread": 1, "msg": 1, "driver_id": 1, "hdrvr": 1, "lparam1": 0,
                                 "lparam2": 0, "depth": 0, **bad})
        # in the first packed slice, past it, and after a row the database refuses first (seq 1 again)
        for rows in ([good[0], row], [*good, row], [good[0], good[0], row]):
            raised = outcome(store, store.inserter, rows, share_gil=True)
            assert raised == outcome(store, EventInserter(store.engine, native=False), rows, share_gil=True), bad
            if rows[1] is not good[0]:
                assert raised == says, bad


def test_payloads_of_any_size_are_stored_as_the_python_path_stores_them(store):
    """A text field is followed by entry_point: the packed bytes must have room for it too."""
    rows = [call_row(seq, 0, 1, 1, 1, 1, 0, 0, 0, "x" * size, 3)
            for seq, size in enumerate([1, 127, 128, 1000, 4096, 65_536, 1 << 20, 3 << 20], start=1)]
    for batch in ([row] for row in rows):
        assert outcome(store, store.inserter, batch) == outcome(store, EventInserter(store.engine, native=False), batch)
    assert outcome(store, store.inserter, rows) == outcome(store, EventInserter(store.engine, native=False), rows)


@pytest.mark.parametrize("share_gil", [True, False])
def test_a_batch_of_several_packed_slices_is_stored_as_the_python_path_stores_it(store, share_gil):
    rows = [return_row(seq, seq, UINT64_MAX - seq % 3, 0x800, seq, INT64_MAX + seq, -seq, seq - 1, 5,
                       None if seq % 7 else f'{{"n": "ж{seq}"}}', None if seq % 2 else 1)
            for seq in range(1, 2 * PACK_SLICE_ROWS + 100)]
    assert outcome(store, store.inserter, rows, share_gil) == \
        outcome(store, EventInserter(store.engine, native=False), rows, share_gil)


def test_verify_passes_on_what_the_c_path_stored(tmp_path):
    db = tmp_path / "v.db"
    with Store.open(str(db), create=True) as opened:
        assert opened.inserter.native is not None
        pk = new_session(opened)
        thread, handle = UINT64_MAX - 3, INT64_MAX + 9
        rows = []
        for i in range(300):
            ep = None if i % 3 else 2
            rows.append(call_row(2 * i + 1, 10 * i, thread, 0x800 + i, handle, handle, -i, UINT64_MAX >> 1, 0,
                                 '{"text": "ü\\u001f日"}' if i % 5 == 0 else None, ep))
            rows.append(return_row(2 * i + 2, 10 * i + 4, thread, 0x800 + i, handle, handle, -1, 2 * i + 1, 4,
                                   entry_point=ep))
        for start in range(0, len(rows), 128):
            opened.append_rows(pk, rows[start:start + 128])
        assert [r[:2] for r in stored(opened, pk)[0][:2]] == [(1, CALL), (2, RETURN)]
    done = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "verify", "--all"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_drvtape_rows_refuses_what_pack_rows_never_writes(store):
    with store.engine.connect() as conn:
        for sql, says in (("SELECT * FROM drvtape_rows(x'0e05', ?)", "not whole rows"),
                          ("SELECT * FROM drvtape_rows(x'', x'00')", "16-byte link"),
                          ("SELECT * FROM drvtape_rows(x'')", "two arguments")):
            with pytest.raises(sa.exc.OperationalError, match=says):
                conn.exec_driver_sql(sql, (TIP,) if "?" in sql else ()).all()
