"""The JSONL interchange format: exact dumps, strict parsing with file:line errors, its JSON Schema.

(Exact 64-bit round trips through export and import are property-tested in test_store.py.)
"""

import json

import jsonschema
import pytest

from drvtape.errors import DrvtapeError
from drvtape.formats.jsonl import FORMAT, VERSION, dump_session, json_schema
from drvtape.formats.jsonl_reader import parse_jsonl


def _lines(*tapes) -> list[str]:
    return [line for t in tapes for line in dump_session(t.header, t.events)]


def _problem(lines: list[str]) -> str:
    with pytest.raises(DrvtapeError) as err:
        parse_jsonl(lines, "in.jsonl")
    return str(err.value)


def test_a_session_is_a_tagged_header_line_then_one_line_per_event(tapes):
    tape = tapes.shutdown()
    lines = _lines(tape)
    first = json.loads(lines[0])
    assert (first["type"], first["format"], first["version"]) == ("session", FORMAT, VERSION)
    assert first["id"] == tapes.IDS["shutdown"] and first["started_at"] == "2024-05-01T12:00:00Z"
    assert [json.loads(line)["kind"] for line in lines[1:]][-3:] == ["call", "fault", "end"]
    assert len(lines) == 1 + len(tape.events) and all("\n" not in line for line in lines)


def test_64_bit_values_are_json_integers_never_floats_or_strings(tapes):
    user_call = _lines(tapes.shutdown())[7]  # seq 7: DRV_USER+1 on T1 with extreme lparams
    assert '"lparam1":-9223372036854775808,"lparam2":9223372036854775807' in user_call
    assert f'"thread":{tapes.T1},' in user_call and f'"hdrvr":{tapes.H1},' in user_call


def test_several_sessions_parse_back_to_equal_models(tapes):
    made = (tapes.shutdown(), tapes.hang(), tapes.clean())
    assert parse_jsonl(_lines(*made), "in.jsonl") == [(t.header, t.events) for t in made]


def test_seq_restarts_at_1_in_each_session(tapes):
    parsed = parse_jsonl(_lines(tapes.clean(), tapes.hang()), "in.jsonl")
    assert [[ev.seq for ev in evs][:2] for _, evs in parsed] == [[1, 2], [1, 2]]


def test_blank_lines_are_ignored_but_counted(tapes):
    lines = _lines(tapes.clean())
    lines[2:2] = ["", "   "]
    lines[5] = "{oops"
    assert _problem(lines) == "in.jsonl:6: not JSON: Expecting property name enclosed in double quotes (column 2)"


@pytest.mark.parametrize(("lines", "expected"), [
    (["{not json"], "in.jsonl:1: not JSON"),
    (["[1, 2]"], "in.jsonl:1: a line must be a JSON object, not list"),
    (['{"hello": 1}'], "in.jsonl:1: neither a session header"),
    ([], "in.jsonl: no sessions (the file is empty)"),
    (["", " "], "in.jsonl: no session header in 2 line(s)"),
])
def test_lines_that_are_not_the_format_at_all(lines, expected):
    assert _problem(lines).startswith(expected)


# In the shutdown tape, line 1 is the header, line n+1 is seq n: 5-6 DRV_OPEN call/return,
# 7-8 DRV_USER+1 call/return (7 on T1 with extreme lparams).
@pytest.mark.parametrize(("line", "changes", "expected"), [
    (1, {"format": "csv"}, "unknown format 'csv'"),
    (1, {"version": 2}, "unsupported drvtape-jsonl version 2"),
    (1, {"version": True}, "unsupported drvtape-jsonl version True"),
    (1, {"started_at": "yesterday"}, "field 'started_at'"),
    (1, {"driver": ""}, "field 'driver'"),
    (4, {"kind": "call-ish"}, "unknown event kind 'call-ish'"),
    (8, {"lparam1": 1 << 63}, "field 'lparam1': Input should be less than or equal to 9223372036854775807"),
    (8, {"lparam1": 1.0}, "field 'lparam1': Input should be a valid integer"),
    (8, {"lparam1": "5"}, "field 'lparam1': Input should be a valid integer"),
    (8, {"hdrvr": -1}, "field 'hdrvr': Input should be greater than or equal to 0"),
    (8, {"thread": 1 << 64}, "field 'thread'"),
    (8, {"extra": 1}, "field 'extra': Extra inputs are not permitted"),
    (6, {"payload": {"lparam1": {"type": "wstr"}}}, "field 'payload.lparam1.wstr.text': Field required"),
    (5, {"seq": 5}, "seq 5 where 4 was expected"),
    (5, {"call_seq": 2}, "call_seq 2 does not name an earlier call event"),
    (5, {"call_seq": 9}, "call_seq 9 does not name an earlier call event"),
    (5, {"call_seq": 1}, "call 1 already has a return or fault"),
])
def test_a_bad_line_is_named_with_what_is_wrong(tapes, line, changes, expected):
    lines = _lines(tapes.shutdown())
    lines[line - 1] = json.dumps({**json.loads(lines[line - 1]), **changes})
    assert _problem(lines).startswith(f"in.jsonl:{line}: {expected}")


def test_an_event_before_any_header_is_refused(tapes):
    assert _problem(_lines(tapes.clean())[1:]) == "in.jsonl:1: an event before any session header"


def test_events_after_the_end_event_are_refused(tapes):
    tape = tapes.clean()
    tape.mark("after the end")
    assert _problem(_lines(tape)) == (f"in.jsonl:{len(tape.events) + 1}: event after the session's end event "
                                      f"(seq {len(tape.events) - 1})")


def test_a_session_twice_in_one_file_is_refused(tapes):
    lines = _lines(tapes.clean(), tapes.clean())
    assert _problem(lines) == (f"in.jsonl:{len(lines) // 2 + 1}: session {tapes.IDS['clean']} "
                               "appears twice in this file")


def test_the_json_schema_is_draft_2020_12_and_names_the_format():
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert FORMAT in schema["$id"] and str(VERSION) in schema["$id"]
    assert len(schema["oneOf"]) == 7  # the header line, the blob line and five event kinds
    assert {"type", "sha256", "data_b64"} <= set(schema["$defs"]["BlobLine"]["required"])
    assert "kind" in schema["$defs"]["CallEvent"]["required"]
    assert {"type", "format", "version"} <= set(schema["$defs"]["HeaderLine"]["required"])


def test_every_exported_line_matches_exactly_one_branch_of_the_schema(tapes):
    validator = jsonschema.Draft202012Validator(json_schema())
    for line in _lines(tapes.shutdown(), tapes.hang(), tapes.open()):
        validator.validate(json.loads(line))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"kind": "call", "seq": 1})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**json.loads(_lines(tapes.clean())[0]), "version": 2})


def test_lines_read_as_bytes_give_what_the_same_text_gives(tapes):
    made = (tapes.shutdown(), tapes.clean())
    lines = _lines(*made)
    lines[2:2] = ["", "  \u3000 "]  # blank for str.strip, which bytes.strip is not: still skipped
    as_bytes = [line.encode("utf-8") + b"\n" for line in lines]
    assert parse_jsonl(as_bytes, "in.jsonl") == parse_jsonl(lines, "in.jsonl") == [(t.header, t.events) for t in made]
    as_bytes[4] = b'{"seq": 3, "kind": "call", "x": "\xff"}\n'
    with pytest.raises(DrvtapeError, match=r"^in\.jsonl:5: not UTF-8 text$"):
        parse_jsonl(as_bytes, "in.jsonl")
