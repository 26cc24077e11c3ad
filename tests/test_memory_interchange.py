"""Captured memory in the JSONL interchange: one blob line per distinct content, before the
first event naming it; import checks every blob against its sha256 and every block against
an earlier blob line, and refuses (exit 2, one line, nothing written) otherwise."""

import base64
import json
import sqlite3

import jsonschema
import pytest

from drvtape.errors import DrvtapeError
from drvtape.formats.jsonl import dump_session, json_schema
from drvtape.formats.jsonl_reader import read_jsonl
from drvtape.schema.memory.captured import blob_key
from drvtape.schema.recording import blobs_in
from drvtape.store import Store

from test_memory_store import FORMAT, FRAME, codec_tape, stored


def lines_of(tape, blobs) -> list[str]:
    return list(dump_session(tape.header, tape.events, blobs_in(blobs)))


def test_each_distinct_blob_is_one_line_before_the_first_event_naming_it():
    tape, blobs = codec_tape(frames=5)
    lines = [json.loads(line) for line in lines_of(tape, blobs)]
    kinds = [line.get("type") or line["kind"] for line in lines]
    assert kinds[:5] == ["session", "blob", "blob", "call", "return"] and kinds.count("blob") == 2
    assert {line["sha256"] for line in lines if line.get("type") == "blob"} == set(blobs)
    frame = next(line for line in lines if line.get("sha256") == blob_key(FRAME))
    assert base64.b64decode(frame["data_b64"]) == FRAME


def test_a_file_of_several_sessions_holds_each_blob_once():
    tape, blobs = codec_tape(frames=2)
    other = tape.__class__(tape.header.model_copy(update={"id": tape.header.id.__class__(int=5)}), tape.events)
    written: set[str] = set()
    lines = [*dump_session(tape.header, tape.events, blobs_in(blobs), written),
             *dump_session(other.header, other.events, blobs_in(blobs), written)]
    assert sum('"type":"blob"' in line for line in lines) == 2
    sessions, read = read_jsonl(lines, "two.jsonl")
    assert [s[1] for s in sessions] == [tape.events, tape.events] and read == blobs


def test_events_and_blobs_parse_back_exactly():
    tape, blobs = codec_tape(frames=3, arch="x86")
    sessions, read = read_jsonl(lines_of(tape, blobs), "m.jsonl")
    assert sessions == [(tape.header, tape.events)] and read == blobs


def test_every_line_with_memory_matches_the_json_schema():
    validator = jsonschema.Draft202012Validator(json_schema())
    tape, blobs = codec_tape(frames=2, arch="x86")
    for line in lines_of(tape, blobs):
        validator.validate(json.loads(line))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"type": "blob", "sha256": "00" * 32})


def _problem(lines) -> str:
    with pytest.raises(DrvtapeError) as err:
        read_jsonl(lines, "in.jsonl")
    return str(err.value)


def test_a_blob_whose_data_is_not_its_hash_is_refused_naming_the_line():
    lines = lines_of(*codec_tape(frames=1))
    blob = json.loads(lines[1])
    blob["data_b64"] = base64.b64encode(b"other bytes").decode()
    lines[1] = json.dumps(blob)
    assert _problem(lines) == f"in.jsonl:2: blob {blob['sha256'][:16]}: its data does not hash to its sha256"


def test_a_block_without_an_earlier_blob_line_is_refused():
    lines = lines_of(*codec_tape(frames=1))
    del lines[1]  # the format's blob
    assert "in.jsonl:3: memory block lparam1.lpbiInput names blob" in _problem(lines)


def test_a_blob_that_is_not_base64_is_refused():
    lines = lines_of(*codec_tape(frames=1))
    blob = json.loads(lines[1])
    lines[1] = json.dumps({**blob, "data_b64": "A"})
    assert _problem(lines).startswith("in.jsonl:2: field 'data_b64'")


def test_export_then_import_gives_the_same_session_and_bytes(drvtape, tmp_path):
    tape, blobs = codec_tape(frames=4)
    db = stored(tmp_path, tape, blobs)
    exported = drvtape("--db", db, "export", "last")
    assert exported.code == 0 and exported.stdout.count('"type":"blob"') == 2
    other = tmp_path / "other.db"
    (tmp_path / "s.jsonl").write_text(exported.stdout)
    done = drvtape("--db", other, "import", str(tmp_path / "s.jsonl"))
    assert done.code == 0, done.stderr
    with Store.open(str(other), read_only=True) as store:
        pk = store.resolve("last").pk
        assert store.events(pk) == tape.events and store.verify(pk) == []
        assert store.blobs(blobs) == blobs
    assert drvtape("--db", other, "export", "last").stdout == exported.stdout


@pytest.mark.parametrize("damage", ["missing", "wrong"])
def test_import_refuses_a_block_whose_blob_is_missing_or_wrong_and_writes_nothing(drvtape, tmp_path, damage):
    lines = lines_of(*codec_tape(frames=2))
    frame_at = next(i for i, line in enumerate(lines) if blob_key(FRAME) in line and '"type":"blob"' in line)
    if damage == "missing":
        del lines[frame_at]
    else:
        lines[frame_at] = json.dumps({"type": "blob", "sha256": blob_key(FRAME),
                                      "data_b64": base64.b64encode(FORMAT).decode()})
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "new.db"
    result = drvtape("--db", db, "import", str(path))
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.startswith("drvtape: error: ") and result.stderr.count("\n") == 1
    assert ("names blob" if damage == "missing" else "does not hash") in result.stderr
    assert not db.exists()  # nothing written: not even an empty database


def test_export_of_a_session_whose_blob_is_gone_is_refused_in_one_line(drvtape, tmp_path):
    tape, blobs = codec_tape(frames=1)
    db = stored(tmp_path, tape, blobs)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM blobs")
    out = tmp_path / "out.jsonl"
    result = drvtape("--db", db, "export", "last", "-o", str(out))
    assert result.code == 2 and result.stderr.count("\n") == 1 and "run verify" in result.stderr
    assert not out.exists()
