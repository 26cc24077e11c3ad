"""The bulk path of the JSONL reader (plain call and return lines as rows, checked a run at
a time) accepts and refuses exactly what the model path does, with the same message, and
gives the same rows: jsonl_items(lines) against jsonl_items(lines, models=True)."""

import json
import random
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.errors import DrvtapeError
from drvtape.formats import jsonl_reader
from drvtape.formats.jsonl_reader import Blob, PlainRows, RowEvent, jsonl_items
from drvtape.schema.events import SessionHeader

HEADER = {"type": "session", "format": "drvtape-jsonl", "version": 1, "id": "aaaa0001-0000-4000-8000-000000000001",
          "driver": "d", "started_at": "2024-05-01T12:00:00Z"}
EDGES = [0, 1, -1, 2, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, True,
         False, 1.0, -0.0, 1e300, None, "1", "call", [], [1], {}, {"type": "wstr"}]


def outcome(lines: list[bytes], models: bool) -> tuple[list, str | None]:
    """What jsonl_items gives before it stops: each item (rows as plain tuples), and its error."""
    got: list = []
    try:
        for item in jsonl_items(lines, "p.jsonl", models=models):
            if isinstance(item, PlainRows):
                got += [("row", tuple(row)) for row in item.rows]
            elif isinstance(item, RowEvent):
                got.append(("row", tuple(item.row)))
            elif isinstance(item, Blob):
                got.append(("blob", item.sha256))
            else:
                assert isinstance(item, SessionHeader)
                got.append(("header", item.id))
    except DrvtapeError as exc:
        return got, str(exc)
    return got, None


def plain_events(rng: random.Random, count: int) -> list[dict]:
    """A session's plain calls and returns, in drvtape's key order, each call answered soon."""
    events, open_calls, seq = [], [], 0
    for _ in range(count):
        seq += 1
        if open_calls and rng.random() < 0.5:
            call = open_calls.pop(rng.randrange(len(open_calls)))
            events.append({"seq": seq, "ts_ns": seq * 10, "thread": 7, "kind": "return", "call_seq": call,
                           "msg": 3, "driver_id": 1, "hdrvr": 2**47, "result": 1, "duration_ns": 5})
        else:
            open_calls.append(seq)
            events.append({"seq": seq, "ts_ns": seq * 10, "thread": 7, "kind": "call", "msg": 3, "driver_id": 1,
                           "hdrvr": 2**47, "lparam1": seq, "lparam2": -1, "depth": 0, "payload": None})
    return events


@st.composite
def sessions(draw) -> list[bytes]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    events = plain_events(rng, draw(st.integers(0, 24)))
    for _ in range(draw(st.integers(0, 3))):
        if not events:
            break
        at = draw(st.integers(0, len(events) - 1))
        event = dict(events[at])
        op = draw(st.sampled_from(["value", "value", "value", "seq", "call_seq", "call_seq", "drop_key", "add_key",
                                   "kind", "swap", "dup", "drop", "shuffle"]))
        if op == "value":
            event[draw(st.sampled_from(sorted(event)))] = draw(st.sampled_from(EDGES) | st.booleans() | st.integers())
        elif op == "seq":
            event["seq"] = draw(st.integers(-1, len(events) + 2))
        elif op == "call_seq":  # of a return: a call answered already, a later call, a return, itself
            answers = [i for i, e in enumerate(events) if e.get("kind") == "return" and "call_seq" in e]
            if not answers:
                continue
            at = rng.choice(answers)  # rng: hypothesis draws the first of a list far more often
            named = events if rng.random() < 0.5 else events[at:]
            event = dict(events[at], call_seq=rng.choice([e.get("seq") for e in named]))
        elif op == "drop_key":
            del event[draw(st.sampled_from(sorted(event)))]
        elif op == "add_key":
            event[draw(st.sampled_from(["memory", "entry_point", "depth", "payload", "x", "call_seq"]))] = \
                draw(st.sampled_from([[], 0, None, "wodMessage", 1]))
        elif op == "kind":
            event["kind"] = draw(st.sampled_from(["call", "return", "mark", "end", "fault"]))
        elif op == "swap":
            other = draw(st.integers(0, len(events) - 1))
            events[other], event = event, events[other]
        elif op == "dup":
            events.insert(at, event)
        elif op == "drop":
            del events[at]
            continue
        else:  # the same object, its keys in another order: the bulk path does not care
            items = list(event.items())
            rng.shuffle(items)
            event = dict(items)
        events[at] = event
    if draw(st.booleans()):
        events.append({"seq": len(events) + 1, "ts_ns": 0, "thread": 7, "kind": "end", "reason": "closed"})
        if draw(st.booleans()) and events[:1]:  # an event after the end, seq in order or not
            events.append(dict(events[0], seq=draw(st.sampled_from([1, len(events) + 1]))))
    lines = [json.dumps(HEADER).encode()]
    for event in events:
        lines.append(json.dumps(event, separators=(",", ":")).encode() + b"\n")
        if draw(st.integers(0, 30)) == 0:
            lines.append(b"\n")  # a blank line: counted, not read
    return lines


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions(), st.sampled_from([1, 3, 1000]))
def test_the_bulk_path_accepts_refuses_and_names_exactly_what_the_models_do(lines, run_rows):
    with patch.object(jsonl_reader, "RUN_ROWS", run_rows):
        assert outcome(lines, models=False) == outcome(lines, models=True)


def _lines(events: list[dict]) -> list[bytes]:
    return [json.dumps(HEADER).encode()] + [json.dumps(e, separators=(",", ":")).encode() for e in events]


# plain_events(random.Random(1), 8): call 1, return 1 (seq 2), call 3, return 3 (seq 4), call 5, call 6,
# return 6 (seq 7), call 8
@pytest.mark.parametrize("run_rows", [1, 3, 1000])
@pytest.mark.parametrize("at, change, message", [
    (1, {"call_seq": 8}, "p.jsonl:3: call_seq 8 does not name an earlier call event of this session"),
    (1, {"call_seq": 2}, "p.jsonl:3: call_seq 2 does not name an earlier call event of this session"),
    (6, {"call_seq": 3}, "p.jsonl:8: call 3 already has a return or fault"),
    (6, {"call_seq": 1}, "p.jsonl:8: call 1 already has a return or fault"),
    (4, {"seq": 6}, "p.jsonl:6: seq 6 where 5 was expected (seq is contiguous from 1 in a session)"),
    (0, {"seq": 0}, "p.jsonl:2: field 'seq': Input should be greater than or equal to 1"),
    (1, {"call_seq": 0}, "p.jsonl:3: field 'call_seq': Input should be greater than or equal to 1"),
    (2, {"depth": False}, "p.jsonl:4: field 'depth': Input should be a valid integer"),
    (5, {"msg": 2**32}, "p.jsonl:7: field 'msg': Input should be less than or equal to 4294967295"),
    (7, {"ts_ns": 2**63}, "p.jsonl:9: field 'ts_ns': Input should be less than or equal to 9223372036854775807"),
])
def test_each_check_of_a_run_names_the_line_the_models_name(at, change, message, run_rows):
    events = plain_events(random.Random(1), 8)
    events[at].update(change)
    with patch.object(jsonl_reader, "RUN_ROWS", run_rows):
        fast = outcome(_lines(events), models=False)
        assert fast == outcome(_lines(events), models=True)
    assert fast[1] == message


def test_a_plain_event_after_the_end_event_is_refused():
    events = plain_events(random.Random(1), 4)
    events += [{"seq": 5, "ts_ns": 0, "thread": 7, "kind": "end", "reason": "closed"}, dict(events[0], seq=6)]
    fast = outcome(_lines(events), models=False)
    assert fast == outcome(_lines(events), models=True)
    assert fast[1] == "p.jsonl:7: event after the session's end event (seq 5)"


def test_a_run_refused_at_its_third_line_yields_the_two_before_it():
    events = plain_events(random.Random(1), 6)
    events[2]["thread"] = True  # a bool: struct takes it, no_bools refuses the run
    got, error = outcome(_lines(events), models=False)
    assert error == "p.jsonl:4: field 'thread': Input should be a valid integer"
    assert [kind for kind, _ in got] == ["header", "row", "row"]


def test_plain_lines_come_as_runs_of_rows():
    events = plain_events(random.Random(2), 2_500)
    lines = _lines(events)
    items = list(jsonl_items(lines, "p.jsonl"))
    assert [len(item.rows) for item in items[1:]] == [1_000, 1_000, 500]
    assert outcome(lines, models=False) == outcome(lines, models=True)
