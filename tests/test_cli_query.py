"""`drvtape sessions`, `show`, `events`, `schema`, `import` and `export` as a user runs them."""

import csv
import io
import json
import subprocess
import sys

import pytest

from drvtape.formats.jsonl import json_schema


@pytest.fixture
def run(drvtape, tape_db):
    """drvtape with --db naming the fixture database; asserts success and returns stdout."""
    def ok(*args, input=None) -> str:
        result = drvtape("--db", tape_db, *args, input=input)
        assert (result.code, result.stderr) == (0, ""), result
        return result.stdout
    return ok


@pytest.fixture
def names(tapes):
    """The fixture names (shutdown, hang, clean, open) of session ids."""
    by_id = {session_id: name for name, session_id in tapes.IDS.items()}
    return lambda ids: [by_id[i] for i in ids]


def _seqs(run, *args) -> list[int]:
    return [ev["seq"] for ev in json.loads(run("events", *args, "--format", "json"))]


# ---- sessions -----------------------------------------------------------------------------


def test_sessions_table_shows_short_ids_outcomes_and_counts(run, tapes):
    table = run("sessions")
    rows = {line.split()[1]: line for line in table.splitlines() if line[2:6] in ("aaaa", "bbbb", "cccc")}
    assert list(rows) == ["aaaa0001", "aaaa0002", "bbbb0003", "cccc0004"]
    assert tapes.IDS["shutdown"] not in table  # the full UUID is for --json
    assert "fault at seq 14" in rows["aaaa0001"] and "crash" in rows["aaaa0001"]
    assert "hang at seq 6" in rows["aaaa0002"]
    assert "completed" in rows["bbbb0003"] and "closed" in rows["bbbb0003"]
    assert "open" in rows["cccc0004"] and "msrle32.dll" in rows["cccc0004"]
    assert "2024-05-01 12:00:00" in rows["aaaa0001"]


def test_sessions_json_has_full_ids_and_the_summary(run, names):
    found = json.loads(run("sessions", "--json"))
    sessions = dict(zip(names(s["id"] for s in found), found))
    shutdown = sessions["shutdown"]
    assert (shutdown["events"], shutdown["calls"], shutdown["threads"]) == (16, 7, 2)
    assert (shutdown["outcome"], shutdown["end_reason"], shutdown["fault_seq"]) == ("fault at seq 14", "crash", 14)
    assert sessions["hang"]["outcome"] == "hang at seq 6"
    assert sessions["open"]["outcome"] == "open" and sessions["open"]["end_reason"] is None
    assert shutdown["started_at"] == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize(("args", "expected"), [
    (["--machine", "box-b"], ["hang", "clean"]),
    (["--driver", "exit-spin"], ["hang"]),
    (["--driver", "msrle32"], ["open"]),
    (["--with-msg", "DRV_EXITSESSION"], ["shutdown", "hang"]),
    (["--with-msg", "0xb", "--limit", "1"], ["hang"]),  # the limit applies after the filter
    (["--with-msg", "user+1"], ["shutdown"]),
    (["--limit", "2"], ["clean", "open"]),  # the newest two
    (["--machine", "box-b", "--driver", "reference"], ["clean"]),
    (["--machine", "nowhere"], []),
])
def test_sessions_filters(run, names, args, expected):
    assert names(s["id"] for s in json.loads(run("sessions", *args, "--json"))) == expected


# ---- show ---------------------------------------------------------------------------------


def test_show_has_the_header_counts_threads_outcome_and_exitsession_events(run, tapes):
    t1 = tapes.T1
    text = run("show", "aaaa0001")
    for value in (tapes.IDS["shutdown"], "sim:disable-with-open", "sha256:00ff", "box-a", "Linux", "pytest", "42",
                  "2024-05-01T12:00:00Z", "monotonic_ns", "hook"):
        assert value in text
    assert f"T0 = 6699 (0x1A2B), T1 = {t1} (0x{t1:X})" in text
    assert "fault at seq 14" in text and "crash: access violation in DRV_FREE" in text
    exits = text[text.index("DRV_EXITSESSION events:"):]
    assert [line.split()[1] for line in exits.splitlines() if line.startswith("│")] == ["10", "11"]


def test_show_json(run, tapes):
    shown = json.loads(run("show", "aaaa0001", "--json"))
    assert shown["session"]["id"] == tapes.IDS["shutdown"] and shown["session"]["outcome"] == "fault at seq 14"
    assert shown["calls_by_msg"] == {"DRV_LOAD": 1, "DRV_ENABLE": 1, "DRV_OPEN": 1, "DRV_DISABLE": 1,
                                     "DRV_FREE": 1, "DRV_EXITSESSION": 1, "DRV_USER+1": 1}
    assert shown["threads"] == [{"name": "T0", "thread": 0x1A2B}, {"name": "T1", "thread": tapes.T1}]
    assert [(e["seq"], e["kind"], e["msg_name"]) for e in shown["exitsession"]] == [
        (10, "call", "DRV_EXITSESSION"), (11, "return", "DRV_EXITSESSION")]
    assert shown["end"]["reason"] == "crash" and shown["end"]["call_seq"] == 14


def test_show_a_session_without_exitsession_or_end(run, tapes):
    text = run("show", "last")
    assert tapes.IDS["open"] in text and "no DRV_EXITSESSION events" in text and "open" in text
    assert json.loads(run("show", "last", "--json"))["end"] is None


# ---- events -------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ([], list(range(1, 17))),
    (["--msg", "DRV_EXITSESSION"], [10, 11]),
    (["--msg", "exitsession", "--msg", "0x6"], [10, 11, 14, 15]),
    (["--msg", "DRV_USER+1"], [7, 8]),
    (["--msg", "16385"], [7, 8]),
    (["--kind", "fault", "--kind", "END"], [15, 16]),
    (["--kind", "mark"], [9]),
    (["--thread", "T1"], [5, 6, 7, 8]),
    (["--thread", "t1"], [5, 6, 7, 8]),
    (["--thread", "0xFFFFFFFFFFFFFFF0"], [5, 6, 7, 8]),  # T1's OS thread id
    (["--thread", "18446744073709551600"], [5, 6, 7, 8]),
    (["--thread", "6699", "--kind", "call"], [1, 3, 10, 12, 14]),
    (["--from-seq", "14"], [14, 15, 16]),
    (["--from-seq", "3", "--to-seq", "5"], [3, 4, 5]),
    (["--since", "13ms"], [14, 15, 16]),
    (["--since", "0.0135s"], [15, 16]),
    (["--until", "1500us"], [1, 2]),
    (["--until", "1000000"], [1, 2]),  # a bare integer is nanoseconds
    (["--since", "2000000ns", "--until", "3ms"], [3, 4]),
    (["--since", "2024-05-01T12:00:00.014Z"], [15, 16]),
    (["--until", "2024-05-01T12:00:00.001"], [1, 2]),  # no zone: UTC
    (["--result", "-1"], [8]),
    (["--result", "0xFFFFFFFFFFFFFFFF"], [8]),  # the same LRESULT bits
    (["--result", "0x1234"], [6]),
    (["--result", "0", "--result", "1"], [2, 4, 11, 13]),
    (["--limit", "3"], [1, 2, 3]),
    (["--kind", "call", "--thread", "T0", "--from-seq", "4", "--limit", "2"], [10, 12]),
])
def test_events_filters(run, args, expected):
    assert _seqs(run, "aaaa0001", *args) == expected


def test_events_json_is_the_event_models_with_msg_name(run, tapes):
    events = json.loads(run("events", tapes.IDS["shutdown"], "--format", "json"))
    open_call = events[4]
    assert open_call["msg_name"] == "DRV_OPEN" and open_call["hdrvr"] == tapes.H1
    assert open_call["payload"]["lparam1"] == {"type": "wstr", "text": "section"}
    assert events[6]["lparam1"] == -(1 << 63) and events[6]["thread"] == tapes.T1
    assert events[14]["kind"] == "fault" and events[14]["code"] == 0xC0000005
    assert events[8]["msg_name"] is None  # a mark has no message


def test_events_table_shows_payloads_times_threads_and_details(run):
    lines = {line.split()[1]: line for line in run("events", "aaaa0001").splitlines() if line[2:4].strip().isdigit()}
    assert '"section"' in lines["5"] and "ICOPEN(vidc/mrle)" in lines["5"] and "4.000" in lines["5"]
    assert " T1 " in lines["7"] and "DRV_USER+1" in lines["7"] and "-9223372036854775808" in lines["7"]
    assert "logoff starts" in lines["9"]
    assert "fault 0xC0000005 at sim.dll+0x4F2" in lines["15"]
    assert "crash: access violation in DRV_FREE" in lines["16"]


def test_events_csv_has_a_header_and_exact_decimal_values(run, tapes):
    rows = list(csv.DictReader(io.StringIO(run("events", "aaaa0001", "--format", "csv"))))
    assert list(rows[0]) == ["seq", "kind", "t", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2",
                             "result"]
    assert len(rows) == 16
    user = rows[6]
    assert (user["msg"], user["thread"], user["t"]) == ("DRV_USER+1", "T1", "6.000")
    assert (user["lparam1"], user["lparam2"], user["hdrvr"]) == (str(-(1 << 63)), str((1 << 63) - 1), str(tapes.H1))
    assert rows[7]["result"] == "-1" and rows[5]["result"] == str(0x1234)
    assert rows[4]["lparam1"] == '"section"'


# ---- schema -------------------------------------------------------------------------------


def test_schema_prints_the_interchange_json_schema(drvtape, tmp_path):
    printed = drvtape("schema")
    assert printed.code == 0 and json.loads(printed.stdout) == json_schema()
    assert drvtape("schema", "-o", tmp_path / "s.json").code == 0
    assert (tmp_path / "s.json").read_text() == printed.stdout


# ---- export / import ----------------------------------------------------------------------


def test_export_import_export_is_byte_identical(run, drvtape, names, tmp_path):
    first = tmp_path / "first.jsonl"
    run("export", "--all", "-o", first)
    imported = drvtape("--db", tmp_path / "copy.db", "import", first, "--json")
    assert imported.code == 0
    assert names(json.loads(imported.stdout)["imported"]) == ["shutdown", "hang", "clean", "open"]
    again = drvtape("--db", tmp_path / "copy.db", "export", "--all")
    assert again.stdout.encode() == first.read_bytes()
    assert again.stdout == run("export", "--all")  # stdout and -o write the same bytes


def test_export_chosen_sessions_and_import_from_stdin(run, drvtape, names, tapes, tmp_path):
    text = run("export", "bbbb", "last", "bbbb0003")  # named twice, exported once
    headers = [json.loads(line) for line in text.splitlines() if '"type":"session"' in line]
    assert names(h["id"] for h in headers) == ["clean", "open"]
    result = drvtape("--db", tmp_path / "piped.db", "import", "-", input=text)
    assert result.code == 0 and tapes.IDS["clean"] in result.stdout and tapes.IDS["open"] in result.stdout
    assert drvtape("--db", tmp_path / "piped.db", "export", "--all").stdout == text


def test_the_console_script_reports_bad_input_in_one_line_with_exit_code_2(tape_db):
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tape_db), "show", "aaaa"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "drvtape: error: session prefix 'aaaa' is ambiguous: give more of the UUID\n"


def test_the_console_script_runs_a_query(tape_db):
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tape_db), "events", "aaaa0001",
                           "--msg", "exitsession", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert [e["seq"] for e in json.loads(proc.stdout)] == [10, 11]

