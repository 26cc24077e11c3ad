"""The views for other tools (issue 15 item 6): what they show, the same on both engines, made
by the migration as in a new database; and every query docs/sql.md shows, run as written."""

import asyncio
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from drvtape.cli.event_view import summary_json
from drvtape.schema.events import EndReason
from drvtape.schema.memory.selector import parse_selector
from drvtape.schema.memory.classes import fourcc
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN, message_name
from drvtape.schema.payloads import CallPayloads, IcOpen
from drvtape.schema.rows import Kind, event_to_row
from drvtape.schema.values import UINT64_MAX
from drvtape.store import Store, tables, views
from drvtape.store.engines import database_url
from drvtape.store.migrations import alembic_config, upgrade
from drvtape.store.queries import EventFilter
from tests.test_cli_class_names import ICM_DECOMPRESS
from tests.test_message_filters import DEVICES

DOC = Path(__file__).parents[1] / "docs" / "sql.md"
CODES_ID = "dddd0005-0000-4000-8000-000000000005"
ALIAS_ID = "eeee0006-0000-4000-8000-000000000006"
REOPENED_ID = "ffff0007-0000-4000-8000-000000000007"
# a code of each naming rule: the catalog, a gap, the MCI range and its ends, DRV_USER and past it
CODES = [0x0001, 0x000B, 0x000D, 0x07FF, 0x0800, 0x0801, 0x17FF, 0x1800, 0x3FFF, 0x4000, 0x4001, 0xFFFFFFFF]
SESSION_COLUMNS = ("outcome", "events", "calls", "threads", "end_reason", "fault_seq", "hang_seq",
                   "driver", "target", "machine", "driver_hash", "os", "process", "pid", "source", "origin")


def build(db: str, tapes) -> str:
    with Store.open(db, create=True) as store:
        for make in (tapes.shutdown, tapes.hang, tapes.clean, tapes.open):
            make().store_in(store)
        codes = tapes.Tape(tapes.header(CODES_ID, minutes=4))
        for code in CODES:
            codes.send(code, 0)
        codes.end(EndReason.CLOSED)
        codes.store_in(store)
    return db


def query(db: str, sql: str) -> list[dict]:
    engine = sa.create_engine(database_url(db))
    try:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(sa.text(sql)).mappings()]
    finally:
        engine.dispose()


def view(db: str, name: str) -> list[dict]:
    order = "session, seq" if name == "events_view" else "session"
    return query(db, f"SELECT * FROM {name} ORDER BY {order}")


def iso(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hex64(value: int | None) -> str | None:
    return None if value is None else f"0x{value & UINT64_MAX:X}"


@pytest.fixture
def filled(db, tapes) -> str:
    return build(db, tapes)


def test_sessions_view_says_what_drvtape_sessions_says(filled):
    with Store.open(filled) as store:
        expected = {str(s.header.id): (summary_json(s), s.header) for s in store.sessions()}
    rows = view(filled, "sessions_view")
    assert [r["session"] for r in rows] == sorted(expected)
    for row in rows:
        summary, header = expected[row["session"]]
        assert {c: row[c] for c in SESSION_COLUMNS} == {c: summary[c] for c in SESSION_COLUMNS}
        assert row["started"] == iso(header.started_at)
    assert {r["outcome"] for r in rows} == {"fault at seq 14", "hang at seq 6", "completed", "open"}


def test_events_view_has_names_hex_and_utc_times(filled):
    rows = {(r["session"], r["seq"]): r for r in view(filled, "events_view")}
    with Store.open(filled) as store:
        for summary in store.sessions():
            started = summary.header.started_at
            for ev in store.events(summary.pk):
                row, stored = rows.pop((str(summary.header.id), ev.seq)), event_to_row(ev)
                msg = getattr(ev, "msg", None)
                assert row["kind"] == ev.kind
                assert (row["msg"], row["message"]) == (msg, None if msg is None else message_name(msg))
                assert row["time"] == iso(started + timedelta(microseconds=ev.ts_ns // 1000))
                for column in ("thread", "driver_id", "hdrvr", "lparam1", "lparam2", "result"):
                    assert row[column] == hex64(getattr(stored, column)), (ev.seq, column)
                assert (row["call_seq"], row["ts_ns"], row["detail"]) == (stored.call_seq, ev.ts_ns, stored.payload)
    assert not rows  # nothing in the view that the store does not have


def test_every_naming_rule_is_the_one_drvtape_events_uses(filled):
    rows = query(filled, f"SELECT msg, message FROM events_view WHERE session = '{CODES_ID}' AND kind = 'call'")
    assert [(r["msg"], r["message"]) for r in rows] == [(code, message_name(code)) for code in CODES]
    assert {"DRV_EXITSESSION", "0x000D", "DRV_MCI_FIRST", "DRV_MCI_FIRST+1", "DRV_MCI_LAST", "DRV_USER",
            "DRV_USER+1"} <= {r["message"] for r in rows}


def test_the_views_are_the_same_on_both_engines(tmp_path, postgres, tapes):
    on_sqlite = build(str(tmp_path / "v.db"), tapes)
    on_postgres = build(postgres.new_database(), tapes)
    for name in views.NAMES:
        assert view(on_sqlite, name) == view(on_postgres, name), name


def as_schema_3(db: str) -> None:
    """What drvtape of schema version 3 made: the same tables but message_names, no views, no
    blobs nor sessions.arch (schema version 5), events' three whole indexes (version 6 made
    them two partial ones), no events.entry_point (version 7), no thread_counts (version 8), no
    partial indexes of the instances (version 10)."""
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        for name in ("ix_events_calls_msg", "ix_events_endings", "ix_events_opened", "ix_events_closing"):
            conn.exec_driver_sql(f"DROP INDEX {name}")
        for name, columns in (("ix_events_session_msg", "session_pk, msg, seq"),
                              ("ix_events_msg_session", "msg, kind, session_pk"),
                              ("ix_events_kind_session", "kind, session_pk")):
            conn.exec_driver_sql(f"CREATE INDEX {name} ON events ({columns})")
        for name in views.NAMES:
            conn.exec_driver_sql(f"DROP VIEW {name}")
        conn.exec_driver_sql("DROP TABLE message_names")
        conn.exec_driver_sql("DROP TABLE blobs")
        conn.exec_driver_sql("DROP TABLE thread_counts")
        conn.exec_driver_sql("ALTER TABLE sessions DROP COLUMN arch")
        conn.exec_driver_sql("ALTER TABLE events DROP COLUMN entry_point")
        conn.exec_driver_sql("UPDATE drvtape_meta SET value = '3' WHERE key = 'schema_version'")
    engine.dispose()


def test_upgrading_a_schema_3_database_makes_the_views(filled):
    expected = {name: view(filled, name) for name in views.NAMES}
    as_schema_3(filled)
    done = upgrade(filled)
    assert (done.before, done.after) == (3, tables.SCHEMA_VERSION)
    assert {name: view(filled, name) for name in views.NAMES} == expected
    with Store.open(filled) as store:
        assert store.verify(store.resolve(CODES_ID).pk) == []  # nothing stored changed


def test_the_migration_makes_what_a_new_database_has(tmp_path):
    migrated = tmp_path / "migrated.db"
    engine = sa.create_engine(f"sqlite:///{migrated}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    engine.dispose()
    Store.open(tmp_path / "fresh.db", create=True).close()

    def made(path):
        return (query(str(path), "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"),
                query(str(path), "SELECT * FROM message_names ORDER BY driver_class, code"))
    assert made(migrated) == made(tmp_path / "fresh.db")
    assert [v["name"] for v in made(migrated)[0]] == sorted(views.NAMES)


# ---- docs/sql.md, run as written --------------------------------------------------------------

def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.DOTALL)


def doc_lines(language: str, start: str) -> list[str]:
    return [line for block in doc_blocks(language) for line in block.splitlines() if line.startswith(start)]


def test_the_doc_shows_queries_for_each_tool():
    assert len(doc_blocks("sql")) >= 5
    assert doc_lines("sh", "sqlite3 ") and doc_lines("sh", "sqlite-utils ") and doc_lines("sh", "psql ")
    assert doc_lines("text", "http://localhost:8001/")


@pytest.mark.parametrize("number", range(len(doc_blocks("sql"))))
def test_each_sql_query_of_the_doc_answers_on_both_engines(tmp_path, postgres, tapes, number):
    sql = doc_blocks("sql")[number]
    on_sqlite = query(build(str(tmp_path / "v.db"), tapes), sql)
    assert on_sqlite, sql
    assert query(build(postgres.new_database(), tapes), sql) == on_sqlite, sql


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_doc_line(line: str, db: str, program: str) -> subprocess.CompletedProcess:
    args = [db if arg == "drvtape.db" else arg for arg in shlex.split(line)]
    return subprocess.run([program, *args[1:]], capture_output=True, text=True, timeout=60)


def program(name: str) -> str:
    """A tool the doc shows: from this interpreter's environment (the test extra) or PATH;
    missing, the test is skipped, and fails under CI=true."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"required in CI: {name}", pytrace=False)
        pytest.skip(f"{name} is not installed")
    return found


@pytest.mark.parametrize("tool", ["sqlite3", "sqlite-utils"])
def test_the_shell_lines_of_the_doc_run(tmp_path, tapes, tool):
    found = program(tool)
    db = Path(build(str(tmp_path / "drvtape.db"), tapes))
    before = file_digest(db)
    lines = doc_lines("sh", tool + " ")
    assert lines
    for line in lines:
        done = run_doc_line(line, str(db), found)
        assert done.returncode == 0 and done.stdout.strip() and not done.stderr, (line, done.stderr)
    assert file_digest(db) == before  # reading with them changes nothing


def test_the_datasette_pages_of_the_doc_answer(tmp_path, tapes):
    program("datasette")
    datasette = pytest.importorskip("datasette.app")
    db = Path(build(str(tmp_path / "drvtape.db"), tapes))
    paths = [line.removeprefix("http://localhost:8001") for line in doc_lines("text", "http://localhost:8001/")]

    async def fetch_all() -> list:
        ds = datasette.Datasette([str(db)])
        return [await ds.client.get(path) for path in paths]
    for path, response in zip(paths, asyncio.run(fetch_all())):
        assert response.status_code == 200, (path, response.text[:300])
        if "_shape=array" in path:
            assert response.json(), path
        if "outcome__startswith=fault" in path:
            assert "fault at seq 14" in response.text


def test_the_psql_line_of_the_doc_runs(postgres, tapes):
    psql = program("psql")
    url = build(postgres.new_database(), tapes)
    for line in doc_lines("sh", "psql "):
        args = [url.replace("+psycopg", "") if arg.startswith("postgresql://") else arg for arg in shlex.split(line)]
        done = subprocess.run([psql, *args[1:]], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "fault at seq 14" in done.stdout, (line, done.stderr)


# ---- names by instance class, damaged details ---------------------------------------------------

def class_db(db: str, tapes) -> str:
    from tests.test_cli_class_names import codec_tape
    from tests.test_message_filters import devices_tape
    with Store.open(db, create=True) as store:
        codec_tape(tapes).store_in(store)
        devices_tape(tapes).store_in(store)
        alias = tapes.Tape(tapes.header(ALIAS_ID, minutes=5, driver="msacm.imaadpcm", target=None))
        alias.send(DRV_OPEN, 0x20)
        alias.send(0x604F, 0, driver_id=0x20)
        alias.end(EndReason.CLOSED)
        alias.store_in(store)
        reopened_tape(tapes).store_in(store)
    return db


def reopened_tape(tapes):
    """A dwDriverId a second DRV_OPEN returned again, with no DRV_CLOSE between: the id is the
    driver's own, so the driver reused it, and once it is closed no instance has it."""
    tape = tapes.Tape(tapes.header(REOPENED_ID, minutes=6, driver="C:\\windows\\system32\\reopens.dll", target=None))
    vfw = CallPayloads(lparam2=IcOpen(dwSize=48, fccType=fourcc("vidc"), fccHandler=fourcc("MRLE")))
    tape.send(DRV_OPEN, 0x30, payload=vfw)  # 1: a VfW instance
    tape.send(ICM_DECOMPRESS, 0, driver_id=0x30)  # 3
    tape.send(DRV_OPEN, 0x30)  # 5: the same id again, for a plain open: a drv instance
    tape.send(ICM_DECOMPRESS, 0, driver_id=0x30)  # 7
    tape.send(DRV_CLOSE, 1, driver_id=0x30)  # 9
    tape.send(ICM_DECOMPRESS, 0, driver_id=0x30)  # 11: no instance has the id now
    first = tape.call(DRV_OPEN, payload=vfw)  # 13: two threads open, the first called returns last
    tape.ret(tape.call(DRV_OPEN, thread=tapes.T1), 0x40)  # 14, 15: a drv instance
    tape.send(ICM_DECOMPRESS, 0, driver_id=0x40)  # 16
    tape.ret(first, 0x40)  # 18: the id is the VfW instance's from here
    tape.send(ICM_DECOMPRESS, 0, driver_id=0x40)  # 19
    tape.end(EndReason.CLOSED)
    return tape


def test_events_view_names_messages_by_the_class_of_their_instance(db, tapes):
    from drvtape.cli.event_view import event_class, session_classes
    from drvtape.schema.memory.catalog import message_name as class_message_name
    rows = {(r["session"], r["seq"]): r for r in view(class_db(db, tapes), "events_view")}
    with Store.open(db) as store:
        for summary in store.sessions():
            stored = store.resolve(str(summary.header.id))
            classes = session_classes(store, stored)
            for ev in store.events(summary.pk):
                msg, row = getattr(ev, "msg", None), rows[(str(summary.header.id), ev.seq)]
                expected = None if msg is None else class_message_name(msg, event_class(ev, classes))
                assert row["message"] == expected, ev.seq
                # and the entry point and class drvtape events --json says (issue 13)
                said = (None, None) if msg is None else (ev.entry_point.value, event_class(ev, classes).value)
                assert (row["entry_point"], row["driver_class"]) == said, ev.seq
    named = {r["message"] for r in rows.values()}
    assert {"ICM_GETINFO", "ICM_DECOMPRESS", "ACMDM_STREAM_CONVERT", "DRV_USER+13"} <= named
    # device messages by their entry point (11 is MODM_SETVOLUME at modMessage, DRV_EXITSESSION
    # at DriverProc), MCI commands in an MCI instance only
    assert {"MCI_STATUS", "DRV_MCI_FIRST+20", "MODM_SETVOLUME", "WODM_WRITE", "DRV_EXITSESSION"} <= named
    devices = {r["seq"]: (r["message"], r["entry_point"], r["driver_class"]) for r in rows.values()
               if r["session"] == DEVICES}
    assert devices[5] == ("MCI_STATUS", "DriverProc", "mci") and devices[7][0] == "DRV_MCI_FIRST+20"
    assert devices[11] == ("MODM_SETVOLUME", "modMessage", "midiout") and devices[12][0] == "MODM_SETVOLUME"
    assert devices[13] == ("WODM_WRITE", "wodMessage", "waveout") and devices[17][0] == "DRV_MCI_FIRST+20"
    assert devices[19] == ("0x4001", "wodMessage", "waveout")  # not DRV_USER+1: no DRV_* message
    reopened = {r["seq"]: (r["message"], r["driver_class"]) for r in rows.values() if r["session"] == REOPENED_ID}
    assert [reopened[seq] for seq in (3, 7, 9, 11, 16, 19)] == [
        ("ICM_DECOMPRESS", "vfw"), ("DRV_USER+13", "drv"), ("DRV_CLOSE", "drv"), ("DRV_USER+13", "drv"),
        ("DRV_USER+13", "drv"), ("ICM_DECOMPRESS", "vfw")]
    with Store.open(db) as store:  # and the message filters' per-event class test agrees
        pk = store.resolve(REOPENED_ID).pk
        found = store.events(pk, EventFilter(msgs=(parse_selector("ICM_DECOMPRESS"),), kinds=(Kind.CALL,)))
        assert [ev.seq for ev in found] == [3, 19]


def test_the_views_answer_on_a_detail_that_is_not_json(db, tapes):
    build(db, tapes)
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events SET payload = '{not json' WHERE kind IN (0, 4)")
    engine.dispose()
    sessions = {r["session"]: r for r in view(db, "sessions_view")}
    assert len(sessions) == 5 and len(view(db, "events_view")) > 0
    clean = sessions[tapes.IDS["clean"]]
    assert (clean["outcome"], clean["end_reason"], clean["end_detail"]) == ("completed", None, None)
    assert sessions[tapes.IDS["open"]]["outcome"] == "open"
