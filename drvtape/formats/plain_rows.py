"""The bulk path of the JSONL format: plain call and return events (integers only, no
payload, no memory, DriverProc's: most of any recording) between JSON objects or lines and rows, with
type and range tests instead of a pydantic model per event.

Each function returns None for anything else, and its caller takes the model path, which
accepts or names the problem: so these never accept what the event models refuse, and
what they write is what the models' JSON is (drvtape.formats.jsonl, tests/test_interchange).
"""

from __future__ import annotations

from drvtape.schema.rows import CALL, RETURN, EventRow
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT32_MAX, UINT64_MAX

_CALL_KEYS = frozenset(("kind", "seq", "ts_ns", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2",
                        "depth", "payload", "memory"))
_RETURN_KEYS = frozenset(("kind", "seq", "ts_ns", "thread", "call_seq", "msg", "driver_id", "hdrvr", "result",
                          "duration_ns", "memory"))
_new_tuple = tuple.__new__

# The tests below are written out in one expression per kind: a helper function per value
# cost more than the tests themselves (this runs once per event of an import). "No memory"
# is the key absent or an empty list (`== []`: JSON gives no list subclass).


def call_row(obj: dict) -> EventRow | None:
    """The row of a plain call line's object."""
    try:
        seq, ts, thread, msg = obj["seq"], obj["ts_ns"], obj["thread"], obj["msg"]
        driver_id, hdrvr, l1, l2 = obj["driver_id"], obj["hdrvr"], obj["lparam1"], obj["lparam2"]
    except KeyError:
        return None
    depth = obj.get("depth", 0)
    if (seq.__class__ is ts.__class__ is thread.__class__ is msg.__class__ is driver_id.__class__ is hdrvr.__class__
            is l1.__class__ is l2.__class__ is depth.__class__ is int
            and 1 <= seq <= INT64_MAX and 0 <= ts <= INT64_MAX and 0 <= thread <= UINT64_MAX
            and 0 <= msg <= UINT32_MAX and 0 <= driver_id <= UINT64_MAX and 0 <= hdrvr <= UINT64_MAX
            and INT64_MIN <= l1 <= INT64_MAX and INT64_MIN <= l2 <= INT64_MAX and 0 <= depth <= INT64_MAX
            and obj.keys() <= _CALL_KEYS and obj.get("payload") is None
            and ("memory" not in obj or obj["memory"] == [])):
        return _new_tuple(EventRow, (seq, CALL, ts, thread, msg, driver_id, hdrvr, l1, l2, None, None, depth,
                                     None, None, None))
    return None


def return_row(obj: dict) -> EventRow | None:
    """The row of a plain return line's object."""
    try:
        seq, ts, thread, call_seq, msg = obj["seq"], obj["ts_ns"], obj["thread"], obj["call_seq"], obj["msg"]
        driver_id, hdrvr, result, duration = obj["driver_id"], obj["hdrvr"], obj["result"], obj["duration_ns"]
    except KeyError:
        return None
    if (seq.__class__ is ts.__class__ is thread.__class__ is call_seq.__class__ is msg.__class__
            is driver_id.__class__ is hdrvr.__class__ is result.__class__ is duration.__class__ is int
            and 1 <= seq <= INT64_MAX and 0 <= ts <= INT64_MAX and 0 <= thread <= UINT64_MAX
            and 1 <= call_seq <= INT64_MAX and 0 <= msg <= UINT32_MAX and 0 <= driver_id <= UINT64_MAX
            and 0 <= hdrvr <= UINT64_MAX and INT64_MIN <= result <= INT64_MAX and 0 <= duration <= INT64_MAX
            and obj.keys() <= _RETURN_KEYS and ("memory" not in obj or obj["memory"] == [])):
        return _new_tuple(EventRow, (seq, RETURN, ts, thread, msg, driver_id, hdrvr, None, None, result, call_seq,
                                     None, duration, None, None))
    return None


ROW_OF_KIND = {"call": call_row, "return": return_row}


def _int_in(v, low: int, high: int) -> bool:
    return v.__class__ is int and low <= v <= high


def line_of_row(row: EventRow) -> str | None:
    """The JSONL line (no newline) of a plain stored call or return row, exactly as the
    event model's JSON is; None for any other row."""
    seq, kind, ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, duration, payload, entry = row
    if payload is not None or entry is not None or not (_int_in(seq, 1, INT64_MAX) and _int_in(ts, 0, INT64_MAX)
                                   and _int_in(thread, 0, UINT64_MAX) and _int_in(msg, 0, UINT32_MAX)
                                   and _int_in(driver_id, 0, UINT64_MAX) and _int_in(hdrvr, 0, UINT64_MAX)):
        return None
    if kind == CALL and _int_in(l1, INT64_MIN, INT64_MAX) and _int_in(l2, INT64_MIN, INT64_MAX) \
            and _int_in(depth, 0, INT64_MAX):
        return (f'{{"seq":{seq},"ts_ns":{ts},"thread":{thread},"kind":"call","msg":{msg},"driver_id":{driver_id},'
                f'"hdrvr":{hdrvr},"lparam1":{l1},"lparam2":{l2},"depth":{depth},"payload":null}}')
    if kind == RETURN and _int_in(call_seq, 1, INT64_MAX) and _int_in(result, INT64_MIN, INT64_MAX) \
            and _int_in(duration, 0, INT64_MAX):
        return (f'{{"seq":{seq},"ts_ns":{ts},"thread":{thread},"kind":"return","call_seq":{call_seq},"msg":{msg},'
                f'"driver_id":{driver_id},"hdrvr":{hdrvr},"result":{result},"duration_ns":{duration}}}')
    return None
