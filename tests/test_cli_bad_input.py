"""Bad input: exit code 2, one line on stderr, no traceback, and the database exactly as it was."""

import hashlib
import json
import sqlite3

import pytest

from drvtape.formats.jsonl import dump_session
from drvtape.store import Store


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tape_lines(tape) -> list[str]:
    return list(dump_session(tape.header, tape.events))


def _session_count(path) -> int:
    with Store.open(str(path)) as store:
        return len(store.sessions())


def _assert_refused(result, *phrases: str) -> None:
    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("drvtape: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr


@pytest.fixture
def refused(drvtape, tape_db):
    """Run drvtape on the fixture database, check it refused, and that the file did not change."""
    def check(*args, phrases=(), input=None):
        before = _digest(tape_db)
        _assert_refused(drvtape("--db", tape_db, *args, input=input), *phrases)
        assert _digest(tape_db) == before
    return check


@pytest.mark.parametrize(("args", "phrase"), [
    (["show", "dddd"], "no session matches 'dddd'"),
    (["show", "aaaa"], "session prefix 'aaaa' is ambiguous"),
    (["show", "not-a-uuid!"], "'not-a-uuid!' is not a session"),
    (["events", "last", "--msg", "DRV_BOGUS"], "unknown message 'DRV_BOGUS'"),
    (["events", "last", "--msg", "\ud800"], "'\\ud800' is not UTF-8 text"),  # not from the OS: no surrogateescape
    (["sessions", "--with-msg", "exit"], "unknown message 'exit'"),
    (["events", "last", "--since", "5 minutes"], "'5 minutes' is not a time"),
    (["events", "last", "--until", "tomorrow"], "'tomorrow' is not a time"),
    (["events", "last", "--since", "1.5"], "'1.5' is not a time"),  # a bare number is integer ns
    (["events", "last", "--from-seq", "x"], "'x' is not an integer"),
    (["events", "last", "--to-seq", "0"], "'0' must be a positive integer"),
    (["events", "last", "--limit", "-3"], "'-3' must be a positive integer"),
    (["sessions", "--limit", "0"], "'0' must be a positive integer"),
    (["events", "last", "--result", "1.5"], "'1.5' is not an integer"),
    (["events", "last", "--result", "0x1FFFFFFFFFFFFFFFF"], "does not fit in 64 bits"),
    (["events", "last", "--kind", "exit"], "unknown event kind 'exit'"),
    (["events", "last", "--format", "xml"], "unknown format 'xml'"),
    (["events", "aaaa0001", "--thread", "T9"], "no thread 'T9' in this session (it has T0, T1)"),
    (["events", "aaaa0001", "--thread", "-1"], "thread id '-1' is not an unsigned 64-bit value"),
    (["events"], "SESSION"),  # a usage error is one line too
    (["export"], "give SESSION... or --all"),
    (["export", "last", "--all"], "give SESSION... or --all"),
])
def test_bad_query_input(refused, args, phrase):
    refused(*args, phrases=(phrase,))


def test_a_missing_database_is_not_created_by_a_read(drvtape, tmp_path):
    _assert_refused(drvtape("--db", tmp_path / "none.db", "sessions"), "no drvtape database at")
    assert list(tmp_path.iterdir()) == []


def test_a_text_file_is_not_a_database(drvtape, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 200)
    _assert_refused(drvtape("--db", path, "sessions"), str(path), "not a usable drvtape database")
    _assert_refused(drvtape("--db", path, "import", "-", input="{}"), "neither a session header")
    assert path.read_text() == "not a database\n" * 200


def test_another_applications_sqlite_file_is_left_alone(drvtape, tapes, tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    before = _digest(path)
    export = tmp_path / "clean.jsonl"
    export.write_text("\n".join(_tape_lines(tapes.clean())) + "\n")
    _assert_refused(drvtape("--db", path, "sessions"), "not a drvtape database")
    _assert_refused(drvtape("--db", path, "import", export), "not a drvtape database")
    assert _digest(path) == before


def test_a_newer_schema_version_is_refused(drvtape, tape_db):
    with sqlite3.connect(tape_db) as conn:
        conn.execute("UPDATE drvtape_meta SET value = '99' WHERE key = 'schema_version'")
    _assert_refused(drvtape("--db", tape_db, "sessions"), "schema version 99", "upgrade drvtape")


def test_export_of_an_unknown_session_writes_no_file(refused, tmp_path):
    refused("export", "last", "dddd", "-o", tmp_path / "out.jsonl", phrases=("no session matches 'dddd'",))
    assert not (tmp_path / "out.jsonl").exists()


def test_export_into_a_missing_folder(refused, tmp_path):
    refused("export", "last", "-o", tmp_path / "no" / "out.jsonl", phrases=("cannot write",))


# ---- import -------------------------------------------------------------------------------


def test_a_bad_line_in_the_second_file_imports_nothing(refused, tapes, tape_db, tmp_path):
    fresh = tapes.Tape(tapes.header("dddd0005-0000-4000-8000-000000000005"))
    fresh.send(1, 1)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("\n".join(_tape_lines(fresh)) + "\n")
    lines = _tape_lines(tapes.Tape(tapes.header("eeee0006-0000-4000-8000-000000000006")))
    bad.write_text(lines[0] + '\n{"kind": "call", "seq": 1}\n')
    refused("import", good, bad, phrases=(f"{bad}:2: field 'ts_ns': Field required",))
    assert _session_count(tape_db) == 4


def test_a_session_already_in_the_database_is_reported_and_not_stored_twice(drvtape, tapes, tape_db, tmp_path):
    # issue 15: adding something already stored says so and exits 0 (import, ingest, push, pull alike)
    fresh = tapes.Tape(tapes.header("dddd0005-0000-4000-8000-000000000005"))
    both = tmp_path / "both.jsonl"
    both.write_text("\n".join(_tape_lines(fresh) + _tape_lines(tapes.hang())) + "\n")
    result = drvtape("--db", tape_db, "import", both, "--json")
    assert (result.code, result.stderr) == (0, ""), result
    doc = json.loads(result.stdout)
    assert doc["imported"] == [str(fresh.header.id)] and doc["already_there"] == [tapes.IDS["hang"]]
    assert _session_count(tape_db) == 5
    again = drvtape("--db", tape_db, "import", both)
    assert again.code == 0 and "2 already there" in again.stdout and _session_count(tape_db) == 5


def test_a_session_with_the_id_of_another_imports_nothing(refused, tapes, tape_db, tmp_path):
    fresh = tapes.Tape(tapes.header("dddd0005-0000-4000-8000-000000000005"))
    other = tapes.hang()
    other.header = other.header.model_copy(update={"machine": "another-box"})
    both = tmp_path / "both.jsonl"
    both.write_text("\n".join(_tape_lines(fresh) + _tape_lines(other)) + "\n")
    refused("import", both, phrases=(f"session {tapes.IDS['hang']} is already in the database with other content",))
    assert _session_count(tape_db) == 4


def test_the_same_session_in_two_files_imports_nothing(refused, tapes, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    for path in (one, two):
        path.write_text("\n".join(_tape_lines(tapes.Tape(tapes.header("dddd0005-0000-4000-8000-000000000005")))))
    refused("import", one, two, phrases=(f"is in both {one} and {two}",))


@pytest.mark.parametrize(("content", "phrase"), [
    (b"", "<stdin>: no sessions (the file is empty)"),
    (b"{]\n", "<stdin>:1: not JSON"),
    (b'{"type": "session", "format": "drvtape-jsonl", "version": 7}\n', "<stdin>:1: unsupported"),
    (b"\xff\xfe{}\n", "<stdin>:1: not UTF-8 text"),
])
def test_malformed_stdin_is_refused_with_its_line(refused, content, phrase):
    refused("import", "-", input=content, phrases=(phrase,))


def test_unreadable_files_are_refused(refused, tmp_path):
    refused("import", tmp_path / "absent.jsonl", phrases=("cannot read", "No such file"))
    refused("import", tmp_path, phrases=("cannot read", "Is a directory"))


def test_a_failed_import_creates_no_database(drvtape, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"kind": "mark"}) + "\n")
    _assert_refused(drvtape("--db", tmp_path / "new.db", "import", bad), f"{bad}:1: an event before any session header")
    assert not (tmp_path / "new.db").exists()


def test_import_creates_a_missing_database(drvtape, tapes, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(_tape_lines(tapes.clean())) + "\n")
    assert drvtape("--db", tmp_path / "new.db", "import", good).code == 0
    assert _session_count(tmp_path / "new.db") == 1
