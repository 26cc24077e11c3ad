"""Store queries that the CLI answers without reading a whole session."""

import uuid
from datetime import timedelta

from drvtape.schema.events import CallEvent, EndEvent, EndReason, ReturnEvent, SessionHeader, utc_now
from drvtape.schema.messages import DRV_CLOSE, DRV_EXITSESSION, DRV_OPEN
from drvtape.store import Store


def session(started, calls):
    """calls: (thread, msg) pairs, each answered with 1; then an end event."""
    header = SessionHeader(id=uuid.uuid4(), driver="d", started_at=started)
    events, seq = [], 0
    for thread, msg in calls:
        events.append(CallEvent(seq=seq + 1, ts_ns=seq, thread=thread, msg=msg, driver_id=0, hdrvr=1, lparam1=0,
                                lparam2=0))
        events.append(ReturnEvent(seq=seq + 2, ts_ns=seq + 1, thread=thread, call_seq=seq + 1, msg=msg, driver_id=0,
                                  hdrvr=1, result=1, duration_ns=1))
        seq += 2
    events.append(EndEvent(seq=seq + 1, ts_ns=seq, thread=calls[0][0], reason=EndReason.CLOSED))
    return header, events


def test_last_is_the_session_stored_most_recently_even_when_recorded_earlier(tmp_path):
    now = utc_now()
    new = session(now, [(1, DRV_OPEN)])
    old = session(now - timedelta(days=400), [(1, DRV_OPEN)])
    with Store.open(tmp_path / "s.db", create=True) as store:
        store.import_sessions([new])
        store.import_sessions([old])  # brought to the desk after the other one
        assert store.resolve("last").header.id == old[0].id
        assert [s.header.id for s in store.sessions()] == [old[0].id, new[0].id]  # listed by start time


def test_threads_in_order_of_first_appearance_and_calls_per_message(tmp_path):
    big = 0xFFFF_FFFF_FFFF_FFF0
    header, events = session(utc_now(), [(7, DRV_OPEN), (big, DRV_EXITSESSION), (7, DRV_CLOSE), (3, DRV_CLOSE)])
    with Store.open(tmp_path / "s.db", create=True) as store:
        store.import_sessions([(header, events)])
        pk = store.resolve("last").pk
        assert store.threads(pk) == [7, big, 3]
        assert store.call_counts(pk) == {DRV_OPEN: 1, DRV_CLOSE: 2, DRV_EXITSESSION: 1}
        summary = store.summary(pk)
        assert (summary.events, summary.calls, summary.threads, summary.end_reason) == (9, 4, 3, EndReason.CLOSED)


def test_sessions_with_a_message_and_a_limit_keep_the_newest(tmp_path):
    now = utc_now()
    made = [session(now + timedelta(seconds=i), [(1, DRV_EXITSESSION if i % 2 else DRV_OPEN)]) for i in range(6)]
    with Store.open(tmp_path / "s.db", create=True) as store:
        store.import_sessions(made)
        found = store.sessions(with_msg=DRV_EXITSESSION, limit=2)
    assert [s.header.id for s in found] == [made[3][0].id, made[5][0].id]
