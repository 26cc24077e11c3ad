"""The JSONL interchange format: exact dumps, strict parsing with file:line errors, its JSON Schema."""

import json
import uuid

import pytest
from conftest import SHUTDOWN_ID, T0, Tape, clean_tape, hang_tape, header, shutdown_tape
from hypothesis import HealthCheck, given, settings
from test_store import int64_edges, uint64_edges

from drvtape.errors import DrvtapeError
from drvtape.schema.events import EndReason
from drvtape.schema.interchange import FORMAT, VERSION, dump_session, json_schema, parse_jsonl
from drvtape.schema.messages import DRV_USER
from drvtape.store import Store


def _lines(*tapes: Tape) -> list[str]:
    return [line for t in tapes for line in dump_session(t.header, t.events)]


def _problem(lines: list[str]) -> str:
    with pytest.raises(DrvtapeError) as err:
        parse_jsonl(lines, "in.jsonl")
    return str(err.value)


def _edit(line: str, **changes) -> str:
    return json.dumps({**json.loads(line), **changes})


def test_a_session_is_a_tagged_header_line_then_one_line_per_event():
    tape = shutdown_tape()
    lines = _lines(tape)
    first = json.loads(lines[0])
    assert (first["type"], first["format"], first["version"]) == ("session", FORMAT, VERSION)
    assert first["id"] == SHUTDOWN_ID and first["started_at"] == "2024-05-01T12:00:00Z"
    assert [json.loads(line)["kind"] for line in lines[1:]][-3:] == ["call", "fault", "end"]
    assert len(lines) == 1 + len(tape.events) and all("\n" not in line for line in lines)


def test_64_bit_values_are_json_integers_never_floats_or_strings():
    user_call = json.loads(_lines(shutdown_tape())[7])
    assert user_call["lparam1"] == -(1 << 63) and user_call["lparam2"] == (1 << 63) - 1
    assert user_call["thread"] == 0xFFFF_FFFF_FFFF_FFF0
    assert '"lparam1":-9223372036854775808' in _lines(shutdown_tape())[7]


def test_several_sessions_parse_back_to_equal_models():
    tapes = (shutdown_tape(), hang_tape(), clean_tape())
    parsed = parse_jsonl(_lines(*tapes), "in.jsonl")
    assert parsed == [(t.header, t.events) for t in tapes]


def test_blank_lines_are_ignored_but_counted():
    lines = _lines(clean_tape())
    lines[2:2] = ["", "   "]
    lines[5] = "{oops"
    assert _problem(lines) == "in.jsonl:6: not JSON: Expecting property name enclosed in double quotes (column 2)"


def _bad(index: int, replacement: str) -> list[str]:
    lines = _lines(shutdown_tape())
    lines[index] = replacement
    return lines


@pytest.mark.parametrize(("lines", "expected"), [
    (["{not json"], "in.jsonl:1: not JSON"),
    (["[1, 2]"], "in.jsonl:1: a line must be a JSON object, not list"),
    (_lines(shutdown_tape())[1:], "in.jsonl:1: an event before any session header"),
    ([_edit(_lines(clean_tape())[0], format="csv")], "in.jsonl:1: unknown format 'csv'"),
    ([_edit(_lines(clean_tape())[0], version=2)], "in.jsonl:1: unsupported drvtape-jsonl version 2"),
    ([_edit(_lines(clean_tape())[0], version=True)], "in.jsonl:1: unsupported drvtape-jsonl version True"),
    ([json.dumps({"hello": 1})], "in.jsonl:1: neither a session header"),
    (_bad(3, _edit(_lines(shutdown_tape())[3], kind="call-ish")), "in.jsonl:4: unknown event kind 'call-ish'"),
    (_bad(7, _edit(_lines(shutdown_tape())[7], lparam1=1 << 63)), "in.jsonl:8: field 'lparam1': Input should be"),
    (_bad(7, _edit(_lines(shutdown_tape())[7], lparam1=1.0)), "in.jsonl:8: field 'lparam1': Input should be"),
    (_bad(7, _edit(_lines(shutdown_tape())[7], lparam1="5")), "in.jsonl:8: field 'lparam1': Input should be"),
    (_bad(7, _edit(_lines(shutdown_tape())[7], hdrvr=-1)), "in.jsonl:8: field 'hdrvr'"),
    (_bad(7, _edit(_lines(shutdown_tape())[7], extra=1)), "in.jsonl:8: field 'extra'"),
    (_bad(0, _edit(_lines(shutdown_tape())[0], started_at="yesterday")), "in.jsonl:1: field 'started_at'"),
    (_bad(4, _edit(_lines(shutdown_tape())[4], seq=5)), "in.jsonl:5: seq 5 where 4 was expected"),
    (_bad(4, _edit(_lines(shutdown_tape())[4], call_seq=2)),
     "in.jsonl:5: call_seq 2 does not name an earlier call event"),
    (_bad(4, _edit(_lines(shutdown_tape())[4], call_seq=9)),
     "in.jsonl:5: call_seq 9 does not name an earlier call event"),
    (_bad(4, _edit(_lines(shutdown_tape())[4], call_seq=1)), "in.jsonl:5: call 1 already has a return or fault"),
    ([], "in.jsonl: no sessions (the file is empty)"),
    (["", " "], "in.jsonl: no session header in 2 line(s)"),
])
def test_malformed_input_names_the_line_and_the_problem(lines, expected):
    assert _problem(lines).startswith(expected)


def test_events_after_the_end_event_are_refused():
    tape = clean_tape()
    tape.mark("after the end", thread=T0)
    assert _problem(_lines(tape)) == (f"in.jsonl:{len(tape.events) + 1}: event after the session's end event "
                                      f"(seq {len(tape.events) - 1})")


def test_a_session_twice_in_one_file_is_refused():
    lines = _lines(clean_tape(), clean_tape())
    assert _problem(lines) == f"in.jsonl:{len(lines) // 2 + 1}: session {clean_tape().header.id} appears twice in this file"


def test_seq_restarts_at_1_in_each_session():
    second = hang_tape()
    lines = _lines(clean_tape(), second)
    assert [len(evs) for _, evs in parse_jsonl(lines, "in.jsonl")] == [len(clean_tape().events), len(second.events)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lparam1=int64_edges, lparam2=int64_edges, result=int64_edges,
       driver_id=uint64_edges, hdrvr=uint64_edges, thread=uint64_edges)
def test_64_bit_values_round_trip_through_export_and_import(tmp_path, lparam1, lparam2, result,
                                                            driver_id, hdrvr, thread):
    tape = Tape(header(str(uuid.uuid4())))
    seq = tape.call(DRV_USER, thread=thread, driver_id=driver_id, hdrvr=hdrvr, lparam1=lparam1, lparam2=lparam2)
    tape.ret(seq, result)
    tape.end(EndReason.CLOSED)
    exported = _lines(tape)
    with Store.open(str(tmp_path / "rt.db"), create=True) as store:
        store.import_sessions(parse_jsonl(exported, "rt.jsonl"))
        stored = store.resolve(str(tape.header.id))
        assert list(dump_session(stored.header, store.events(stored.pk))) == exported
        assert store.events(stored.pk) == tape.events


def test_the_json_schema_is_draft_2020_12_and_names_the_format():
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert FORMAT in schema["$id"] and str(VERSION) in schema["$id"]
    assert len(schema["oneOf"]) == 6  # the header line and five event kinds
    assert "kind" in schema["$defs"]["CallEvent"]["required"]


def test_every_exported_line_matches_exactly_one_branch_of_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    for line in _lines(shutdown_tape(), hang_tape()):
        validator.validate(json.loads(line))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"kind": "call", "seq": 1})
