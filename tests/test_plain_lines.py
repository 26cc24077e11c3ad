"""drvtape.formats.plain_lines, in C: rows_of_lines gives, for each line it takes, exactly
the row plain_row makes of orjson's object, and stops at any line it is not sure of; it takes
every line drvtape writes. Through jsonl_items, with it and without it, the bulk path accepts
and refuses exactly what the models do, with the same message. lines_of_rows writes, for each
row it takes, exactly line_of_row's line; it takes every row line_of_row writes, and export's
lines (dump_rows) are the same with it and without it."""

import json
import random
from unittest.mock import patch

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.formats import jsonl, jsonl_reader
from drvtape.formats.plain_rows import line_of_row, lines_of_rows, plain_row, rows_of_lines
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import END, ROW_COLUMNS, EventRow, call_row, end_row, return_row
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT32_MAX, UINT64_MAX
from test_plain_rows import EDGES, outcome, plain_events, sessions

UINT64 = st.integers(0, UINT64_MAX) | st.sampled_from([0, INT64_MAX, INT64_MAX + 1, UINT64_MAX])
INT64 = st.integers(INT64_MIN, INT64_MAX) | st.sampled_from([0, -1, INT64_MIN, INT64_MAX])
COUNT = st.integers(0, INT64_MAX) | st.sampled_from([0, INT64_MAX])
ORDINAL = st.integers(1, INT64_MAX) | st.sampled_from([1, INT64_MAX])
CALLS = st.builds(call_row, ORDINAL, COUNT, UINT64, st.integers(0, UINT32_MAX), UINT64, UINT64, INT64, INT64, COUNT)
RETURNS = st.builds(return_row, ORDINAL, COUNT, UINT64, st.integers(0, UINT32_MAX), UINT64, UINT64, INT64, ORDINAL,
                    COUNT)
# text a value may be written as, JSON or not: numbers in every form, other types, other bytes
ODD_VALUES = st.sampled_from([
    "-0", "0", "01", "-01", "1.0", "1e2", "1E2", "-", "+1", "0x10", "1_0", "Infinity", "NaN", "true", "false",
    "null", '"1"', '"call"', '"return"', "[]", "{}", "[1]", str(UINT64_MAX), str(UINT64_MAX + 1),
    str(INT64_MIN), str(INT64_MIN - 1), str(INT64_MAX), str(INT64_MAX + 1), str(UINT32_MAX + 1), "9" * 30,
    '"\\u0063all"', '"cal\\u006c"', '"ca\\"ll"', '"caé"', "nul", "nulll",
]) | st.integers().map(str)
SPACES = st.sampled_from([" ", "\t", "\n", "\r", "\r\n", "  ", "\x0b", "\x0c", "\xa0", "\x00", "\u3000"])


def takes(line) -> list:
    return rows_of_lines([line], 0, 1)


def test_the_build_has_the_c_module():
    """CI and scripts/setup build it (setup.py): without it import and export lose their speed silently."""
    assert rows_of_lines is not None and lines_of_rows is not None, \
        "drvtape.formats.plain_lines is not built (pip install -e . builds it)"


@settings(max_examples=300, deadline=None)
@given(row=CALLS | RETURNS, as_text=st.booleans())
def test_every_plain_line_drvtape_writes_is_taken_as_its_row(row, as_text):
    line = line_of_row(row)
    assert line is not None
    expected = plain_row(orjson.loads(line))
    assert takes(line if as_text else line.encode() + b"\n") == [expected] == [tuple(row)]


@st.composite
def odd_lines(draw) -> bytes:
    """A plain line of drvtape's with some of its text changed: values, keys, their order,
    spaces, duplicates, a cut, bytes around it."""
    row = draw(CALLS | RETURNS)
    members = [[json.dumps(k), json.dumps(v)] for k, v in json.loads(line_of_row(row)).items()]
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(members) - 1))
        op = draw(st.sampled_from(["value", "value", "edge", "key", "dup", "drop", "shuffle"]))
        if op == "value":
            members[at][1] = draw(ODD_VALUES)
        elif op == "edge":
            members[at][1] = json.dumps(draw(st.sampled_from(EDGES)))
        elif op == "key":
            members[at][0] = draw(st.sampled_from(['"se\\u0071"', '"Seq"', '"seq "', '"entry_point"', '"memory"',
                                                   '"kind"', '"payload"', '"call_seq"', '"lparam1"', '""']))
        elif op == "dup":
            members.insert(at, list(members[draw(st.integers(0, len(members) - 1))]))
        elif op == "drop":
            del members[at]
        else:
            draw(st.randoms()).shuffle(members)
    text = "{" + ",".join(k + ":" + v for k, v in members) + "}" + draw(st.sampled_from(["", "", "", "\n", "x", ",", "{}"]))
    for _ in range(draw(st.integers(0, 2))):  # spaces anywhere: between tokens, or inside one
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(SPACES) + text[at:]
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


def _orjson_row(line: bytes):
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return plain_row(obj) if obj.__class__ is dict else None


@settings(max_examples=1500, deadline=None)
@given(line=odd_lines(), as_text=st.booleans())
def test_a_line_taken_gives_the_row_orjson_and_plain_row_give(line, as_text):
    if as_text:
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            return
    taken = takes(line)
    assert taken == [] or taken == [_orjson_row(line)]
    if taken:
        assert json.loads(line) == orjson.loads(line)  # one JSON object, read alike by both
        assert True not in set(map(type, taken[0])) and float not in set(map(type, taken[0]))


def test_compact_lines_in_any_key_order_are_taken():
    rng = random.Random(3)
    for event in plain_events(rng, 200):
        items = list(event.items())
        rng.shuffle(items)
        for line in (json.dumps(dict(items)), json.dumps(dict(items), separators=(",", ":"))):
            assert takes(line.encode()) == [plain_row(orjson.loads(line))]


def test_the_scan_stops_at_the_first_line_it_does_not_take():
    lines = [line_of_row(call_row(seq, 0, 1, 1, 1, 1, 0, 0, 0)).encode() for seq in range(1, 6)]
    lines[3] = b'{"seq":4,"kind":"end"}'
    assert [row[0] for row in rows_of_lines(lines, 0, 100)] == [1, 2, 3]
    assert [row[0] for row in rows_of_lines(lines, 1, 2)] == [2]
    assert rows_of_lines(lines, 3, 5) == []
    assert [row[0] for row in rows_of_lines(lines, 4, 5)] == [5]
    assert rows_of_lines(["é", None, 5], 0, 3) == []
    with pytest.raises(TypeError):
        rows_of_lines(tuple(lines), 0, 1)


@pytest.mark.parametrize("scan", ["c", "none"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=sessions(), run_rows=st.sampled_from([1, 3, 1000]), read_lines=st.sampled_from([1, 2, 1000]))
def test_the_bulk_path_with_and_without_the_scan_is_the_models_path(scan, lines, run_rows, read_lines):
    with (patch.object(jsonl_reader, "RUN_ROWS", run_rows), patch.object(jsonl_reader, "READ_LINES", read_lines),
          patch.object(jsonl_reader, "rows_of_lines", rows_of_lines if scan == "c" else None)):
        assert outcome(lines, models=False) == outcome(lines, models=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(odd_lines(), max_size=8), run_rows=st.sampled_from([1, 1000]))
def test_odd_lines_after_a_header_are_read_as_the_models_read_them(lines, run_rows):
    header = json.dumps({"type": "session", "format": "drvtape-jsonl", "version": 1,
                         "id": "aaaa0001-0000-4000-8000-000000000001", "driver": "d",
                         "started_at": "2024-05-01T12:00:00Z"}).encode()
    with patch.object(jsonl_reader, "RUN_ROWS", run_rows):
        assert outcome([header, *lines], models=False) == outcome([header, *lines], models=True)


def test_an_error_reading_the_lines_comes_after_the_lines_read_before_it():
    """A damaged compressed file raises as its lines are read: the problem of a line before
    the damage is the one reported, as when lines were read one at a time."""
    header = json.dumps({"type": "session", "format": "drvtape-jsonl", "version": 1,
                         "id": "aaaa0001-0000-4000-8000-000000000001", "driver": "d",
                         "started_at": "2024-05-01T12:00:00Z"}).encode()

    def damaged():
        yield header
        yield b'{"seq": 1, "kind": "mark"}'
        raise OSError("damaged")

    assert outcome(damaged(), models=False)[1].startswith("p.jsonl:2: ")


# ---- writing ----------------------------------------------------------------------------

ODD_FIELD = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
             | st.sampled_from([0, 1, -1, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), "1", "{}"]))


def writes(row) -> list:
    return lines_of_rows([row], 0, 1)


@settings(max_examples=300, deadline=None)
@given(row=CALLS | RETURNS, as_tuple=st.booleans())
def test_every_row_line_of_row_writes_is_written_alike(row, as_tuple):
    row = tuple(row) if as_tuple else row
    assert writes(row) == [line_of_row(row)]


@settings(max_examples=1500, deadline=None)
@given(row=CALLS | RETURNS, changes=st.dictionaries(st.sampled_from(ROW_COLUMNS), ODD_FIELD, max_size=3))
def test_a_row_written_gives_line_of_rows_line(row, changes):
    row = row._replace(**changes)
    written = writes(row)
    assert written == [] or written == [line_of_row(row)]


def test_rows_of_other_shapes_are_left_to_line_of_row():
    plain = call_row(1, 0, 7, 3, 1, 2, -1, 0, 0)
    assert writes(plain) == [line_of_row(plain)]
    for other in (tuple(plain)[:14], (*plain, None), list(plain), plain._replace(kind=True), plain._replace(kind=1.0),
                  plain._replace(kind=END), end_row(1, 0, 7, "closed"), "row", None):
        assert writes(other) == []


def test_writing_stops_at_the_first_row_it_does_not_write():
    rows = [call_row(seq, 0, 1, 1, 1, 1, 0, 0, 0) for seq in range(1, 6)]
    rows[3] = rows[3]._replace(payload="{}")
    assert lines_of_rows(rows, 0, 100) == [line_of_row(r) for r in rows[:3]]
    assert lines_of_rows(rows, 1, 2) == [line_of_row(rows[1])]
    assert lines_of_rows(rows, 3, 5) == []
    assert lines_of_rows(rows, 4, 5) == [line_of_row(rows[4])]
    with pytest.raises(TypeError):
        lines_of_rows(tuple(rows), 0, 1)


@pytest.mark.parametrize("write_rows", [1, 3, 1000])
@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.one_of(CALLS, RETURNS, CALLS.map(lambda r: r._replace(payload='{"lparam1": null}')),
                               st.just(end_row(9, 0, 7, "closed"))), max_size=12))
def test_export_lines_are_the_same_with_and_without_the_c_writer(write_rows, rows):
    header = SessionHeader(id="aaaa0001-0000-4000-8000-000000000001", driver="d", started_at="2024-05-01T12:00:00Z")
    rows = [EventRow(*r) for r in rows]
    with patch.object(jsonl, "WRITE_ROWS", write_rows):
        fast = list(jsonl.dump_rows(header, iter(rows)))
        with patch.object(jsonl, "lines_of_rows", None):
            assert fast == list(jsonl.dump_rows(header, iter(rows)))
