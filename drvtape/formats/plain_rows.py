"""The bulk path of the JSONL format: plain call and return events (integers only, no
payload, no memory, DriverProc's: most of any recording) between JSON objects or lines and rows,
without a pydantic model per event.

The C module drvtape.formats.plain_lines (drvtape/formats/native/, where setup.py built it)
does both in bulk: rows_of_lines reads a batch of lines into the very rows plain_row makes of
orjson's objects, lines_of_rows writes a batch of rows as line_of_row does; each stops at a
line or row it is not sure of, which the Python functions here take (both None where the
module is missing). in_batches gives them their batches.
plain_row tests what it can of one line's object in a few C calls; the rest, which costs
little per run of rows and much per line, is left to its caller (drvtape.formats.jsonl_reader):
no_bools, and the session's checks, which see to seq and call_seq being at least 1. A run
that fails goes through the event models line by line, which accept it or name the problem:
so the bulk path never accepts what the models refuse (tests/test_plain_rows). line_of_row,
for export, tests a stored row with the same packing and writes what the models' JSON is
(tests/test_export_lines).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter

import orjson

from drvtape.schema.rows import CALL, RETURN, EventRow

try:
    from drvtape.formats.plain_lines import lines_of_rows, rows_of_lines  # the C module (setup.py)
except ImportError:  # not built (no C compiler or headers at install): orjson, plain_row, line_of_row only
    lines_of_rows = rows_of_lines = None

# A plain line's fields: drvtape's key sets (line_of_row's). An object with as many keys that
# has all of these has exactly these; a line with any other set (depth or payload left out, an
# empty memory list, an entry point) takes the model path.
_CALL_FIELDS = itemgetter("seq", "kind", "ts_ns", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2", "depth",
                          "payload")
_RETURN_FIELDS = itemgetter("seq", "kind", "ts_ns", "thread", "call_seq", "msg", "driver_id", "hdrvr", "result",
                            "duration_ns")
_CALL_KEYS, _RETURN_KEYS = 11, 10
# Packing the values tests their types and ranges in one C call: struct refuses what is not an
# integer (a float, a string, null, a list) or out of its format's range. A count (ts_ns, depth,
# duration_ns) is packed twice, as signed and as unsigned 64-bit: 0..2**63-1. seq and call_seq
# are only signed 64-bit here.
_CALL_RANGES = struct.Struct("<qqQIQQqqqQQ").pack  # seq ts thread msg driver_id hdrvr lparam1 lparam2 depth ts depth
_RETURN_RANGES = struct.Struct("<qqQqIQQqqQQ").pack  # seq ts thread call_seq msg driver_id hdrvr result duration ts duration


def plain_row(obj: dict) -> tuple | None:
    """The row (a plain tuple in ROW_COLUMNS order) of a plain call or return line's object;
    None: another shape, or a value a plain line cannot have. A bool passes for 0 or 1 (struct
    takes it), and seq and call_seq may be below 1: no_bools and the session's checks refuse those."""
    try:
        if len(obj) == _CALL_KEYS:
            seq, kind, ts, thread, msg, driver_id, hdrvr, l1, l2, depth, payload = _CALL_FIELDS(obj)
            if kind == "call" and payload is None:
                _CALL_RANGES(seq, ts, thread, msg, driver_id, hdrvr, l1, l2, depth, ts, depth)
                return (seq, CALL, ts, thread, msg, driver_id, hdrvr, l1, l2, None, None, depth, None, None, None)
        elif len(obj) == _RETURN_KEYS:
            seq, kind, ts, thread, call_seq, msg, driver_id, hdrvr, result, duration = _RETURN_FIELDS(obj)
            if kind == "return":
                _RETURN_RANGES(seq, ts, thread, call_seq, msg, driver_id, hdrvr, result, duration, ts, duration)
                return (seq, RETURN, ts, thread, msg, driver_id, hdrvr, None, None, result, call_seq, None, duration,
                        None, None)
    except (KeyError, struct.error):
        pass
    return None


def no_bools(rows: list[tuple]) -> bool:
    """Whether plain_row's rows hold no true or false: their JSON is then integers and nulls
    only, in which no 't' or 'f' appears (one C pass over a run instead of a test per value)."""
    text = orjson.dumps(rows)
    return b"t" not in text and b"f" not in text


def line_of_row(row: EventRow) -> str | None:
    """The JSONL line (no newline) of a plain stored call or return row, exactly as the
    event model's JSON is; None for any other row (a value a model refuses included)."""
    seq, kind, ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, duration, payload, entry = row
    if payload is not None or entry is not None:
        return None
    try:
        if (kind == CALL and seq.__class__ is ts.__class__ is thread.__class__ is msg.__class__ is driver_id.__class__
                is hdrvr.__class__ is l1.__class__ is l2.__class__ is depth.__class__ is int and seq > 0):
            _CALL_RANGES(seq, ts, thread, msg, driver_id, hdrvr, l1, l2, depth, ts, depth)
            return (f'{{"seq":{seq},"ts_ns":{ts},"thread":{thread},"kind":"call","msg":{msg},"driver_id":{driver_id},'
                    f'"hdrvr":{hdrvr},"lparam1":{l1},"lparam2":{l2},"depth":{depth},"payload":null}}')
        if (kind == RETURN and seq.__class__ is ts.__class__ is thread.__class__ is call_seq.__class__
                is msg.__class__ is driver_id.__class__ is hdrvr.__class__ is result.__class__ is duration.__class__
                is int and seq > 0 and call_seq > 0):
            _RETURN_RANGES(seq, ts, thread, call_seq, msg, driver_id, hdrvr, result, duration, ts, duration)
            return (f'{{"seq":{seq},"ts_ns":{ts},"thread":{thread},"kind":"return","call_seq":{call_seq},'
                    f'"msg":{msg},"driver_id":{driver_id},"hdrvr":{hdrvr},"result":{result},"duration_ns":{duration}}}')
    except struct.error:
        pass
    return None


def in_batches(items: Iterable, size: int) -> Iterator[list]:
    """The items in lists of up to size; an error reading them is raised after the items read
    before it have been yielded, as when they were read one at a time."""
    it = iter(items)
    while True:
        batch: list = []
        add = batch.append
        try:
            for item in islice(it, size):
                add(item)
        except Exception:  # not KeyboardInterrupt: that one stops the reading at once
            if batch:
                yield batch
            raise
        if not batch:
            return
        yield batch
