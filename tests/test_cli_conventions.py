"""One set of conventions for every command (issue 15): --format, -o -/-, --db anywhere,
--version, -h, help with placeholders and examples, tables that never cut an id or a message
name, and one answer when something is stored already."""

import csv
import io
import json
import os
import re
from importlib import resources

import pytest
from cli_runner import on_a_terminal
from test_cli_query import run  # noqa: F401  (the fixture: drvtape on the fixture database)

from drvtape import __version__
from drvtape.cli import command
from drvtape.formats.jsonl import json_schema
from drvtape.store import Store

# ---- --format on every command that prints records ------------------------------------------

RECORD_COMMANDS = [
    ["sessions"],
    ["events", "aaaa0001"],
    ["lint", "--all"],
    ["verify", "--all"],
    ["lint", "--rules"],
]


@pytest.mark.parametrize("args", RECORD_COMMANDS, ids=" ".join)
def test_every_record_command_prints_table_json_jsonl_and_csv(drvtape, tape_db, args):
    def out(*more):
        result = drvtape("--db", tape_db, *args, *more)
        assert result.code in (0, 1) and result.stderr == "", result  # lint exits 1 on error-level findings
        return result.stdout

    table = out()
    assert out("--format", "table") == table
    as_json = json.loads(out("--json"))
    assert json.loads(out("--format", "json")) == as_json
    lines = [json.loads(line) for line in out("--format", "jsonl").splitlines()]
    rows = list(csv.reader(io.StringIO(out("--format", "csv"))))
    records = as_json if isinstance(as_json, list) else None
    if records is not None:  # a list of records: jsonl is the same records, one a line
        assert lines == records
    assert len(rows) - 1 == len(lines) and len(rows[0]) >= 2


def test_json_and_a_different_format_together_are_refused(drvtape, tape_db):
    result = drvtape("--db", tape_db, "sessions", "--json", "--format", "csv")
    assert result.code == 2 and "--json is --format json" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args", [["show", "last"], ["state", "last"], ["diff", "aaaa0001", "aaaa0002"]],
                         ids=" ".join)
def test_commands_that_print_one_document_take_table_or_json(drvtape, tape_db, args):
    as_json = drvtape("--db", tape_db, *args, "--json")
    assert as_json.code in (0, 1) and json.loads(as_json.stdout)
    assert drvtape("--db", tape_db, *args, "--format", "json").stdout == as_json.stdout
    refused = drvtape("--db", tape_db, *args, "--format", "csv")
    assert refused.code == 2 and "prints one document" in refused.stderr


def test_sessions_csv_and_jsonl_have_full_ids(run, tapes):
    rows = list(csv.DictReader(io.StringIO(run("sessions", "--format", "csv"))))
    assert [r["id"] for r in rows] == list(tapes.IDS.values())
    assert [json.loads(line)["id"] for line in run("sessions", "--format", "jsonl").splitlines()] == list(
        tapes.IDS.values())


def test_events_jsonl_is_one_event_a_line(run):
    assert [json.loads(line) for line in run("events", "aaaa0001", "--format", "jsonl").splitlines()] == json.loads(
        run("events", "aaaa0001", "--json"))


def test_the_events_table_shows_the_unit_of_t(run):
    assert "t (ms)" in run("events", "aaaa0001")


# ---- - as stdout and stdin --------------------------------------------------------------------


def test_dash_is_stdout_for_every_output_file(run, tmp_path):
    assert run("export", "--all", "-o", "-") == run("export", "--all")
    assert json.loads(run("schema", "-o", "-")) == json_schema()
    page = run("timeline", "aaaa0001", "-o", "-")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert not (tmp_path / "-").exists() and not os.path.exists("-")


def test_dash_is_stdin_for_import_and_ingest(drvtape, run, tmp_path):
    from test_tape_ingest import Writer, lifecycle  # the tape writer of the ingest tests

    exported = run("export", "--all")
    assert drvtape("--db", tmp_path / "a.db", "import", "-", input=exported).code == 0
    tape = lifecycle(Writer()).save(tmp_path / "player.1.drvtape")
    result = drvtape("--db", tmp_path / "b.db", "ingest", "-", "--json", input=open(tape, "rb").read())
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tapes"][0]["path"] == "<stdin>" and doc["ingested"] == 1


# ---- --db, --version, -h ----------------------------------------------------------------------


def test_db_is_accepted_after_the_subcommand(drvtape, tape_db, tmp_path):
    before = drvtape("--db", tape_db, "sessions", "--json").stdout
    after = drvtape("sessions", "--db", tape_db, "--json")
    assert after.code == 0 and after.stdout == before
    # after the subcommand it wins over the one before
    assert drvtape("--db", tmp_path / "none.db", "sessions", "--db", tape_db, "--json").stdout == before
    assert drvtape("tap", "status", "--db", tape_db, "-h").code == 0


def test_version(drvtape):
    result = drvtape("--version")
    assert (result.code, result.stdout) == (0, f"drvtape {__version__}\n")


def _all_commands():
    """Every command and command group, drvtape itself first."""
    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        yield path
        for name, sub in (subs or {}).items():
            yield from walk(sub, [*path, name])
    return list(walk(command(), []))


def test_every_command_has_h_placeholders_and_examples(drvtape):
    assert drvtape("-h").stdout == drvtape("--help").stdout
    commands = _all_commands()
    assert len(commands) >= 20
    for path in commands:
        shown = drvtape(*path, "-h")
        assert shown.code == 0 and shown.stdout == drvtape(*path, "--help").stdout, path
        text = shown.stdout
        assert not re.search(r"<(str|bool|int|float|path|list\[[a-z]+\]|[a-z]+ range)>", text), (path, text)
        assert "Examples:" in text and " ".join(["drvtape", *path]) in text.split("Examples:")[1], (path, text)
        assert not re.search(r"[\w)] [.,;]", text), (path, text)  # a stray space: where rich markup ate [...]


def test_completion_is_offered(drvtape):
    assert "--install-completion" in drvtape("--help").stdout


# ---- tables on an 80-column terminal ----------------------------------------------------------


def _on_a_terminal(*args, columns=80) -> str:
    return on_a_terminal(*args, columns=columns)[1]


def test_an_80_column_terminal_never_cuts_an_id_or_a_message_name(tape_db, tapes):
    listed = _on_a_terminal("--db", str(tape_db), "sessions")
    for session_id in tapes.IDS.values():
        assert session_id[:8] in listed
    assert "…" not in "".join(line.split("│")[1] for line in listed.splitlines() if line.count("│") > 2)
    wide = _on_a_terminal("--db", str(tape_db), "sessions", "--wide", columns=200)
    assert all(session_id in wide for session_id in tapes.IDS.values())
    events = _on_a_terminal("--db", str(tape_db), "events", "aaaa0001")
    for name in ("DRV_EXITSESSION", "DRV_USER+1", "DRV_DISABLE"):
        assert name in events


# ---- one answer when something is there already -----------------------------------------------


def test_import_ingest_and_push_of_a_stored_session_say_so_exit_0_and_store_once(drvtape, run, tmp_path):
    exported = run("export", "aaaa0001")
    copy = tmp_path / "copy.db"
    assert drvtape("--db", copy, "import", "-", input=exported).code == 0
    again = drvtape("--db", copy, "import", "-", input=exported)
    assert again.code == 0 and "already there" in again.stdout
    pushed = drvtape("--db", copy, "push", "--to", tmp_path / "central.db", "--all")
    assert pushed.code == 0
    pushed = drvtape("--db", copy, "push", "--to", tmp_path / "central.db", "--all")
    assert pushed.code == 0 and "already there" in pushed.stdout
    pulled = drvtape("--db", copy, "pull", "--from", tmp_path / "central.db", "--all")
    assert pulled.code == 0 and "already there" in pulled.stdout
    for db in (copy, tmp_path / "central.db"):
        assert len(json.loads(drvtape("--db", db, "sessions", "--json").stdout)) == 1


# ---- threads, and the seqs minimize prints ----------------------------------------------------


@pytest.fixture
def two_threads(drvtape, tmp_path):
    db = tmp_path / "t.db"
    workload = resources.files("drvtape") / "workloads" / "thread-affinity.toml"
    rec = drvtape("--db", db, "record", "--target", "sim:thread-affinity", "--workload", workload, "--json")
    assert rec.code == 0, rec.stderr
    return db, json.loads(rec.stdout)


def test_minimize_prints_the_seqs_of_the_stored_session(drvtape, two_threads):
    db, recorded = two_threads
    doc = json.loads(drvtape("--db", db, "minimize", recorded["session"], "--target", "recorded", "--json").stdout)
    calls = json.loads(drvtape("--db", db, "events", doc["minimized"], "--kind", "call", "--json").stdout)
    assert [m["stored_seq"] for m in doc["messages"]] == [c["seq"] for c in calls]
    assert [m["msg_name"] for m in doc["messages"]] == [c["msg_name"] for c in calls]
    human = drvtape("--db", db, "minimize", recorded["session"], "--target", "recorded").stdout
    listed = [int(n) for n in re.findall(r"^\s+seq\s+(\d+)", human, re.M)]
    stored = json.loads(drvtape("--db", db, "sessions", "--json").stdout)[-1]["id"]
    calls = json.loads(drvtape("--db", db, "events", stored, "--kind", "call", "--json").stdout)
    assert listed == [c["seq"] for c in calls]


def test_a_sessions_threads_are_the_threads_that_sent_messages(drvtape, two_threads):
    db, recorded = two_threads  # two workload threads; the end event is written by a third
    assert recorded["threads"] == 2
    (listed,) = json.loads(drvtape("--db", db, "sessions", "--json").stdout)
    assert listed["threads"] == 2


def test_table_ids_are_the_shortest_unique_prefix_of_at_least_8_characters(drvtape, tapes, tmp_path):
    db = tmp_path / "near.db"
    near = ("12345678-9abc-4000-8000-000000000001", "12345678-9abd-4000-8000-000000000002",
            "aaaa0001-0000-4000-8000-000000000003")
    with Store.open(str(db), create=True) as store:
        for session_id in near:
            tapes.Tape(tapes.header(session_id)).store_in(store)
    expected = ["12345678-9abc", "12345678-9abd", "aaaa0001"]
    for args in (["sessions"], ["sessions", "--driver", ""], ["verify", "--all"], ["verify", *near]):
        listed = drvtape("--db", db, *args).stdout
        shown = [line.split()[1] for line in listed.splitlines() if line.startswith("│")]
        assert shown == expected, (args, listed)
        for prefix in shown:
            assert drvtape("--db", db, "show", prefix).code == 0


def test_import_ingest_push_and_pull_print_records_in_every_format(drvtape, run, tmp_path):
    from test_tape_ingest import Writer, lifecycle  # the tape writer of the ingest tests

    exported = run("export", "aaaa0001", "bbbb0003")
    tape = lifecycle(Writer()).save(tmp_path / "player.1.drvtape")
    local, central = tmp_path / "local.db", tmp_path / "central.db"
    commands = [
        ["--db", local, "import", "-"],
        ["--db", local, "ingest", tape],
        ["--db", local, "push", "--to", central, "--all"],
        ["--db", tmp_path / "desk.db", "pull", "--from", central, "--all"],
    ]
    for args in commands:
        first = drvtape(*args, "--format", "jsonl", input=exported)  # the first run stores; the rest say so
        assert first.code == 0, (args, first.stderr)
        for fmt in ("jsonl", "csv", "table", "json"):
            result = drvtape(*args, "--format", fmt, input=exported)
            assert result.code == 0 and result.stdout, (args, fmt, result.stderr)
        records = [json.loads(line) for line in drvtape(*args, "--format", "jsonl", input=exported).stdout.splitlines()]
        rows = list(csv.DictReader(io.StringIO(drvtape(*args, "--format", "csv", input=exported).stdout)))
        assert len(records) == len(rows) >= 1 and all("session" in r for r in records), args
