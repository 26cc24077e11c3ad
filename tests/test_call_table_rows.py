"""A piece of plain calls is put in the call table's columns straight from its rows
(call_table._plain_table); every other piece is read through schema.recording. Both must give
the same tables, lanes, classes and outcomes: generated sessions (threads overlapping,
re-entrant calls, opens and closes of instances, marks, values at and past their ranges,
empty and real payloads, calls that never return, hangs) are read both ways, cut into pieces
of every size."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.replay import call_table
from drvtape.schema.details import encode_end, encode_mark
from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.rows import CALL, END, MARK, RETURN
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT64_MAX

HEADER = SessionHeader(id=uuid.UUID(int=7), driver="msacm.imaadpcm", started_at=datetime(2026, 12, 2, tzinfo=timezone.utc),
                       source="ingest")
SIGNED = st.one_of(st.integers(-3, 3), st.sampled_from([INT64_MIN, INT64_MAX]), st.integers(INT64_MIN, INT64_MAX))
UNSIGNED = st.one_of(st.integers(0, 3), st.sampled_from([UINT64_MAX]), st.integers(0, UINT64_MAX))
OFF_RANGE = st.sampled_from([INT64_MAX + 1, UINT64_MAX + 1, INT64_MIN - 1, None])


def rarely(strategy, default=None):
    """strategy's value one time in 15, else default: a call that makes its whole piece be read
    the other way must be rare, or the plain way would go untested in longer pieces."""
    return st.tuples(st.integers(0, 14), strategy).map(lambda t: t[1] if t[0] == 0 else default)


call_plan = st.fixed_dictionaries({
    "thread": st.sampled_from([11, 22, 33]),
    "msg": st.one_of(st.sampled_from([DRV_OPEN, DRV_CLOSE, 0x4000]), SIGNED),
    "driver_id": st.one_of(st.integers(0, 3), UNSIGNED),
    "hdrvr": UNSIGNED,
    "lparam1": SIGNED,
    "lparam2": SIGNED,
    "result": st.one_of(st.integers(0, 3), SIGNED),
    "entry_point": st.one_of(st.none(), st.integers(0, 2)),
    "payload": rarely(st.just("")),
    "reentrant": st.booleans(),
    "returns": rarely(st.just(False), True),
    "return_after": st.integers(0, 3),  # how many later calls are made before it returns
    "off_range": rarely(st.tuples(st.sampled_from(["msg", "driver_id", "lparam1", "result"]), OFF_RANGE)),
})


def session_rows(plans: list[dict], mark_every: int, end: str | None) -> list[tuple]:
    """The stored rows (schema.rows order) of the planned calls: each call's return is made
    after return_after later calls began (or never); a hang's END names the first unreturned call."""
    rows: list[tuple] = []
    seq = 0
    due: list[tuple[int, int, dict]] = []  # (calls still to begin before it returns, its seq, its plan)

    def add(kind, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, payload, ep):
        nonlocal seq
        seq += 1
        rows.append((seq, kind, seq * 10, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, None,
                     payload, ep))
        return seq

    def return_of(call_seq, plan):
        values = dict(plan)
        if plan["off_range"]:
            values[plan["off_range"][0]] = plan["off_range"][1]
        add(RETURN, plan["thread"], values["msg"], values["driver_id"], plan["hdrvr"], None, None, values["result"],
            call_seq, 0, plan["payload"], plan["entry_point"])

    unreturned = []
    for n, plan in enumerate(plans):
        for item in [d for d in due if d[0] <= 0]:
            due.remove(item)
            return_of(item[1], item[2])
        due = [(left - 1, s, p) for left, s, p in due]
        values = dict(plan)
        if plan["off_range"]:
            values[plan["off_range"][0]] = plan["off_range"][1]
        call_seq = add(CALL, plan["thread"], values["msg"], values["driver_id"], plan["hdrvr"], values["lparam1"],
                       plan["lparam2"], None, None, 0, plan["payload"], plan["entry_point"])
        if plan["reentrant"]:  # the driver's own call inside this one, with a payload replay never reads
            inner = add(CALL, plan["thread"], 0x4001, 1, 1, 0, 0, None, None, 1, '{"not": "read"}', None)
            add(RETURN, plan["thread"], 0x4001, 1, 1, None, None, 0, inner, 1, None, None)
        if mark_every and n % mark_every == 0:
            add(MARK, plan["thread"], None, None, None, None, None, None, None, 0, encode_mark("a mark"), None)
        if plan["returns"]:
            due.append((plan["return_after"], call_seq, plan))
        else:
            unreturned.append(call_seq)
    for _, call_seq, plan in due:
        return_of(call_seq, plan)
    if end is not None:
        hang = end == "hang" and unreturned
        add(END, 0, None, None, None, None, None, None, unreturned[0] if hang else None, 0,
            encode_end(EndReason.HANG if hang else EndReason.CLOSED, None), None)
    return rows


def read_both_ways(rows, monkeypatch, piece):
    monkeypatch.setattr(call_table, "PIECE", piece)
    fast = list(call_table.table_pieces(HEADER, iter(rows)))
    with monkeypatch.context() as patch:
        patch.setattr(call_table, "_plain_table", lambda rows, lanes: None)
        slow = list(call_table.table_pieces(HEADER, iter(rows)))
    return fast, slow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(call_plan, min_size=1, max_size=30), mark_every=st.integers(0, 4),
       end=st.sampled_from([None, "closed", "hang"]), piece=st.integers(1, 40))
def test_plain_and_read_pieces_give_the_same_tables_and_outcomes(monkeypatch, plans, mark_every, end, piece):
    rows = session_rows(plans, mark_every, end)
    fast, slow = read_both_ways(rows, monkeypatch, piece)
    assert [len(t) for t, _ in fast] == [len(t) for t, _ in slow]
    for (fast_table, fast_outcome), (slow_table, slow_outcome) in zip(fast, slow):
        assert list(fast_table) == list(slow_table)
        assert fast_outcome == slow_outcome
        assert bytes(fast_table.cls) == bytes(slow_table.cls) and bytes(fast_table.entry) == bytes(slow_table.entry)


def test_a_piece_of_plain_calls_is_read_without_a_recorded_call_per_call(monkeypatch):
    """The plain way is taken where it can be (else the test above compares the read way with itself)."""
    plans = [dict(thread=11 + i % 2, msg=0x4000, driver_id=1, hdrvr=2, lparam1=i, lparam2=0, result=1,
                  entry_point=None, payload=None, reentrant=i % 3 == 0, returns=True, return_after=1, off_range=None)
             for i in range(20)]
    rows = session_rows(plans, 0, "closed")
    taken = []
    plain = call_table._plain_table
    monkeypatch.setattr(call_table, "_plain_table", lambda rows, lanes: taken.append(plain(rows, lanes)) or taken[-1])
    tables = list(call_table.table_pieces(HEADER, iter(rows)))
    assert taken and all(t is not None for t in taken) and sum(len(t) for t, _ in tables) == 20
    assert [c.thread for c in tables[0][0]][:4] == [0, 1, 0, 1]
