"""The hook's writer path (issue 16 item 3): a batch appended in one json_each statement is
stored as executemany stores it, and the opt-in switch interval is the recorder's only while
it records."""

import sys
import uuid

import pytest
import sqlalchemy as sa

from drvtape.errors import DrvtapeError
from drvtape.recorder import Recorder
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import CALL, RETURN, end_row, mark_row
from drvtape.store import Store

UNSIGNED_MAX = 2 ** 64 - 1


def varied_rows() -> list[tuple]:
    """Rows of every width and value kind: 14 fields (no entry_point) and 15, unsigned values
    above INT64_MAX, negative lParams, NULLs, payload text with quotes and non-ASCII."""
    return [
        (1, CALL, 10, UNSIGNED_MAX, 0x4001, UNSIGNED_MAX - 1, 2 ** 63, -1, -(2 ** 63), None, None, 0, None,
         '{"text":"é \\" \\\\ \u2028"}'),
        (2, RETURN, 20, UNSIGNED_MAX, 0x4001, UNSIGNED_MAX - 1, 2 ** 63, None, None, 2 ** 63 - 1, 1, None, 10, None,
         None),
        (3, CALL, 30, 7, 0x0801, 1, 2, 3, 4, None, None, 1, None, None, 2),
        mark_row(4, 40, 7, "a mark: ünï\x1f"),
        end_row(5, 50, 7, "closed"),
    ]


def stored(store: Store, pk: int) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2, result, call_seq, depth, "
            "duration_ns, payload, entry_point, chain, typeof(payload), typeof(chain) FROM events "
            "WHERE session_pk = :pk ORDER BY seq"), {"pk": pk})]


def test_a_batch_in_one_statement_is_stored_as_executemany_stores_it(tmp_path):
    with Store.open(tmp_path / "batch.db", create=True) as store:
        pks = [store.begin_session(SessionHeader(id=uuid.uuid4(), driver="batch", started_at=utc_now()))
               for _ in range(2)]
        store.append_rows(pks[0], varied_rows())  # one json_each statement
        with store.writing() as conn:  # executemany
            store.inserter.insert(conn, pks[1], varied_rows(), store.tips.tip(pks[1], conn))
        by_batch, by_rows = stored(store, pks[0]), stored(store, pks[1])
        # the same values and SQL types; the links differ (each session's chain starts at its id)
        assert [r[:15] + r[16:] for r in by_batch] == [r[:15] + r[16:] for r in by_rows]
        assert store.rows(pks[0]) == store.rows(pks[1]) == [tuple(r) + (None,) * (15 - len(r)) for r in varied_rows()]
        assert store.verify(pks[0]) == [] and store.verify(pks[1]) == []


def test_a_batch_orjson_cannot_encode_fails_as_executemany_fails(tmp_path):
    with Store.open(tmp_path / "surrogate.db", create=True) as store:
        pk = store.begin_session(SessionHeader(id=uuid.uuid4(), driver="batch", started_at=utc_now()))
        with pytest.raises(UnicodeEncodeError):
            store.append_rows(pk, [mark_row(1, 1, 7, "ok"), mark_row(2, 2, 7, "\ud800")])
        assert store.rows(pk) == []


def test_the_switch_interval_is_the_recorders_while_it_records(tmp_path):
    before = sys.getswitchinterval()
    with Recorder(str(tmp_path / "switch.db"), driver="switch", switch_interval=0.0005):
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    assert sys.getswitchinterval() == before
    with Recorder(str(tmp_path / "switch.db"), driver="switch"):
        assert sys.getswitchinterval() == before


@pytest.mark.parametrize("seconds", [0, -1, 2])
def test_a_switch_interval_out_of_range_is_refused_before_a_session_begins(tmp_path, seconds):
    with pytest.raises(DrvtapeError, match="switch_interval"):
        Recorder(str(tmp_path / "refused.db"), driver="switch", switch_interval=seconds)
    assert not (tmp_path / "refused.db").exists()
