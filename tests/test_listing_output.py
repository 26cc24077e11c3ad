"""`drvtape sessions` prints what it printed before it stopped building a SessionHeader per
session and json stopped encoding the table (issue 16 item 4): its JSON is summary_json's
for every kind of session, and the streamed JSON writers give json_text's text."""

import json
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from enum import Enum

import pytest

from cli_runner import run_cli
from drvtape.cli.app import COMMAND_MODULES, app, command, named_command
from drvtape.cli.event_view import summary_json
from drvtape.cli.output import json_line, json_text, write_json_array
from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema.rows import CALL, RETURN, end_row, fault_row
from drvtape.store import Store

THREAD = 0x7F3A_5C2D_E700


def _header(**fields) -> SessionHeader:
    return SessionHeader(**{"id": uuid.uuid4(), "driver": "sim:list", "started_at": datetime(
        2026, 3, 1, 8, 30, 5, 250_000, tzinfo=timezone.utc), **fields})


def _call(seq: int) -> list[tuple]:
    return [(seq, CALL, 10 * seq, THREAD, 0x4001, 1, 2, 3, 4, None, None, 0, None, None),
            (seq + 1, RETURN, 10 * seq + 5, THREAD, 0x4001, 1, 2, None, None, 0, seq, None, 5, None)]


def varied_store(path) -> Store:
    """Sessions of every outcome and every optional header field set and not."""
    store = Store.open(path, create=True)
    origin = uuid.uuid4()
    sessions = [
        (_header(), _call(1) + [end_row(3, 40, THREAD, EndReason.CLOSED)]),
        (_header(driver="C:\\drivers\\ünï.dll", driver_hash="ab" * 32, target="dll:x", machine="lab-é", os="Windows",
                 process="app.exe", pid=4242, recorder_version="9.9", clock="perf_counter_ns", origin=origin,
                 source="ingest", arch="x86", started_at=datetime(2026, 3, 1, 8, 30, 5, tzinfo=timezone.utc)),
         _call(1) + [fault_row(3, 30, THREAD, 0x4001, 1, 2, 1, 0xC0000005, "drv.dll", 16, "access violation"),
                     end_row(4, 40, THREAD, EndReason.CRASH, 1)]),
        (_header(pid=0, target="sim:hang"), _call(1) + [end_row(3, 40, THREAD, EndReason.HANG, 1)]),
        (_header(arch="x64"), _call(1)),  # open: no end
        (_header(machine="empty"), []),
    ]
    for header, rows in sessions:
        pk = store.begin_session(header)
        if rows:
            store.append_rows(pk, rows)
    return store


def test_the_listing_json_is_summary_json_of_every_kind_of_session(tmp_path):
    with varied_store(tmp_path / "varied.db") as store:
        expected = [summary_json(s) for s in store.sessions()]
    code, out, _ = run_cli("--db", tmp_path / "varied.db", "sessions", "--json")
    assert code == 0
    assert out == json_text(expected) + "\n"
    code, out, _ = run_cli("--db", tmp_path / "varied.db", "sessions", "--format", "jsonl")
    assert out == "".join(json_text(d, indent=None) + "\n" for d in expected)
    assert {d["outcome"] for d in expected} == {"completed", "fault at seq 1", "hang at seq 1", "open"}


class Colour(str, Enum):
    RED = "red"


DOCUMENTS = [
    {"a": 1, "b": None, "c": True, "d": "é\u2028\x1f\x7f\"\\", "e": -(2 ** 63), "f": 2 ** 64 - 1},
    {},
    {"nested": [1, {"deeper": [], "t": (1, "x")}], "empty": {}},
    {"float": 1e-07, "big": 1e16, "third": 1 / 3},
    {"huge": 2 ** 70, "negative": -(2 ** 64)},
    {"enum": Colour.RED, "when": datetime(2026, 1, 1, tzinfo=timezone.utc), "id": uuid.UUID(int=7)},
    {1: "int key"},
]
UNWRITABLE = {"s": "\ud800"}  # orjson refuses it; json encodes it (stdout then cannot write it)


@pytest.mark.parametrize("count", [0, 1, 3, 2_500])
def test_the_streamed_json_array_is_json_texts(count, capsys):
    documents = [DOCUMENTS[i % len(DOCUMENTS)] for i in range(count)]
    write_json_array(iter(documents))
    assert capsys.readouterr().out == json_text(documents) + "\n"


@pytest.mark.parametrize("document", [*DOCUMENTS, UNWRITABLE])
def test_a_json_line_is_json_texts(document):
    assert json_line(document) == json_text(document, indent=None) + "\n"


def test_each_command_is_registered_by_the_modules_named_for_it():
    built = command()
    assert sorted(built.commands) == sorted(COMMAND_MODULES)
    registering = {}
    for info in app.registered_commands:
        registering.setdefault(info.name or info.callback.__name__, set()).add(info.callback.__module__)
    for group in app.registered_groups:
        registering[group.name] = {c.callback.__module__ for c in group.typer_instance.registered_commands}
    assert registering == {name: {f"drvtape.cli.{m}" for m in modules} for name, modules in COMMAND_MODULES.items()}


@pytest.mark.parametrize("args, name", [
    (["sessions"], "sessions"), (["--db", "x.db", "events", "last"], "events"), (["--db=x.db", "tap", "run"], "tap"),
    (["--help"], None), ([], None), (["sesions"], None), (["--version", "sessions"], None), (["--db"], None),
])
def test_the_command_named_is_found_past_the_global_db_option(args, name):
    assert named_command(args) == name


def test_listing_sessions_imports_no_other_commands_modules(tmp_path):
    varied_store(tmp_path / "v.db").close()
    probe = ("import sys\nfrom drvtape.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('drvtape.cli.', 'drvtape.replay', 'drvtape.analysis', "
             "'drvtape.dllhost'))), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe, "--db", str(tmp_path / "v.db"), "sessions", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert len(json.loads(proc.stdout)) == 5
    loaded = set(eval(proc.stderr.strip().splitlines()[-1]))
    others = {f"drvtape.cli.{m}" for name, modules in COMMAND_MODULES.items() if name != "sessions" for m in modules}
    assert not loaded & others and not any(m.startswith(("drvtape.replay", "drvtape.analysis", "drvtape.dllhost"))
                                           for m in loaded)


def test_a_sessions_figures_follow_its_first_fault_and_last_end(tmp_path):
    """As sessions_view: hang_seq is the hung call of the last end, fault_seq the first fault's call."""
    with Store.open(tmp_path / "ends.db", create=True) as store:
        ended_twice = store.begin_session(_header())
        store.append_rows(ended_twice, _call(1) + [end_row(3, 40, THREAD, EndReason.HANG, 1),
                                                   end_row(4, 50, THREAD, EndReason.CLOSED)])
        hung = store.begin_session(_header(machine="hung"))
        store.append_rows(hung, _call(1) + [
            fault_row(3, 30, THREAD, 0x4001, 1, 2, 1, 0xC0000005, "drv.dll", 16, "first"),
            fault_row(4, 31, THREAD, 0x4001, 1, 2, 9, 0xC0000005, "drv.dll", 17, "second"),
            end_row(5, 40, THREAD, EndReason.CLOSED), end_row(6, 50, THREAD, EndReason.HANG, 1)])
        listed = {s.columns["machine"]: s for s in store.listing()}
        summaries = {s.header.machine: s for s in store.sessions()}
        assert [store.summary(s.pk) for s in summaries.values()] == list(summaries.values())
    for figures in (listed, summaries):
        first, second = figures[_header().machine], figures["hung"]
        assert (first.end_reason, first.hang_seq, first.fault_seq, first.outcome) == (
            EndReason.CLOSED, None, None, "completed")
        assert (second.end_reason, second.hang_seq, second.fault_seq, second.outcome) == (
            EndReason.HANG, 1, 1, "fault at seq 1")
        assert (first.events, first.calls, first.threads, second.events) == (4, 1, 1, 6)
