"""The bulk path of the JSONL format: plain call and return events (integers only, no
payload, no memory: most of any recording) between JSON objects or lines and rows, with
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
_ABSENT = object()
_new_tuple = tuple.__new__


def _u64(v) -> bool:
    return v.__class__ is int and 0 <= v <= UINT64_MAX


def _i64(v) -> bool:
    return v.__class__ is int and INT64_MIN <= v <= INT64_MAX


def _count(v) -> bool:
    return v.__class__ is int and 0 <= v <= INT64_MAX


def _ordinal(v) -> bool:
    return v.__class__ is int and 1 <= v <= INT64_MAX


def _u32(v) -> bool:
    return v.__class__ is int and 0 <= v <= UINT32_MAX


def _no_memory(obj: dict) -> bool:
    memory = obj.get("memory", _ABSENT)
    return memory is _ABSENT or (memory.__class__ is list and not memory)


def call_row(obj: dict) -> EventRow | None:
    """The row of a plain call line's object."""
    try:
        seq, ts, thread, msg = obj["seq"], obj["ts_ns"], obj["thread"], obj["msg"]
        driver_id, hdrvr, l1, l2 = obj["driver_id"], obj["hdrvr"], obj["lparam1"], obj["lparam2"]
    except KeyError:
        return None
    depth = obj.get("depth", 0)
    if (obj.keys() <= _CALL_KEYS and obj.get("payload") is None and _no_memory(obj) and _ordinal(seq)
            and _count(ts) and _u64(thread) and _u32(msg) and _u64(driver_id) and _u64(hdrvr) and _i64(l1)
            and _i64(l2) and _count(depth)):
        return _new_tuple(EventRow, (seq, CALL, ts, thread, msg, driver_id, hdrvr, l1, l2, None, None, depth,
                                     None, None))
    return None


def return_row(obj: dict) -> EventRow | None:
    """The row of a plain return line's object."""
    try:
        seq, ts, thread, call_seq, msg = obj["seq"], obj["ts_ns"], obj["thread"], obj["call_seq"], obj["msg"]
        driver_id, hdrvr, result, duration = obj["driver_id"], obj["hdrvr"], obj["result"], obj["duration_ns"]
    except KeyError:
        return None
    if (obj.keys() <= _RETURN_KEYS and _no_memory(obj) and _ordinal(seq) and _count(ts) and _u64(thread)
            and _ordinal(call_seq) and _u32(msg) and _u64(driver_id) and _u64(hdrvr) and _i64(result)
            and _count(duration)):
        return _new_tuple(EventRow, (seq, RETURN, ts, thread, msg, driver_id, hdrvr, None, None, result, call_seq,
                                     None, duration, None))
    return None


ROW_OF_KIND = {"call": call_row, "return": return_row}


def line_of_row(row: EventRow) -> str | None:
    """The JSONL line (no newline) of a plain stored call or return row, exactly as the
    event model's JSON is; None for any other row."""
    seq, kind, ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, duration, payload = row
    if payload is not None or not (_ordinal(seq) and _count(ts) and _u64(thread) and _u32(msg)
                                   and _u64(driver_id) and _u64(hdrvr)):
        return None
    if kind == CALL and _i64(l1) and _i64(l2) and _count(depth):
        return (f'{{"seq":{seq},"ts_ns":{ts},"thread":{thread},"kind":"call","msg":{msg},"driver_id":{driver_id},'
                f'"hdrvr":{hdrvr},"lparam1":{l1},"lparam2":{l2},"depth":{depth},"payload":null}}')
    if kind == RETURN and _ordinal(call_seq) and _i64(result) and _count(duration):
        return (f'{{"seq":{seq},"ts_ns":{ts},"thread":{thread},"kind":"return","call_seq":{call_seq},"msg":{msg},'
                f'"driver_id":{driver_id},"hdrvr":{hdrvr},"result":{result},"duration_ns":{duration}}}')
    return None
