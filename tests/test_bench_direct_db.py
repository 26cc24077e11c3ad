"""The bench's directly written database (bench/direct_db.py) holds what `drvtape import`
stores for the same sessions: every column of sessions, events (chain links included) and
thread_counts, and the sessions-stored count; and `verify` finds it whole."""

import json
import sqlite3
import sys
from pathlib import Path

from cli_runner import run_cli

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
import stream_bench  # noqa: E402  (bench/ is not a package)

EVENTS = 3_000  # three sessions of 999 events


def contents(path: Path) -> dict:
    with sqlite3.connect(path) as conn:
        return {
            "sessions": conn.execute("SELECT * FROM sessions ORDER BY pk").fetchall(),
            "events": conn.execute("SELECT * FROM events ORDER BY session_pk, seq").fetchall(),
            "thread_counts": conn.execute("SELECT * FROM thread_counts ORDER BY session_pk, thread").fetchall(),
            "meta": conn.execute("SELECT * FROM drvtape_meta ORDER BY key").fetchall(),
        }


def test_the_direct_database_holds_what_import_stores(tmp_path):
    jsonl, imported, direct = tmp_path / "in.jsonl", tmp_path / "imported.db", tmp_path / "direct.db"
    events = stream_bench.write_jsonl(jsonl, EVENTS)
    code, _, err = run_cli("--db", imported, "import", "--quiet", jsonl)
    assert code == 0, err
    assert stream_bench.write_db(direct, EVENTS) == events
    got, want = contents(direct), contents(imported)
    assert len(got["events"]) == events and len(got["sessions"]) == 3
    assert got == want
    code, out, err = run_cli("--db", direct, "verify", "--all", "--json")
    assert code == 0, err
    assert json.loads(out) == {"sessions": 3, "intact": 3, "damaged": []}
