"""A command that only reads leaves the database byte for byte as it was, even when it holds
an orphaned session (one whose recording process is gone); a writer ends the orphan."""

import hashlib
import platform
import subprocess
import sys
import uuid

import pytest

from cli_runner import run_cli
from drvtape import __version__
from drvtape.recorder import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.messages import DRV_ENABLE, DRV_LOAD
from drvtape.schema.rows import call_row, return_row
from drvtape.store import Store


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def add_orphan(db) -> str:
    """A session recorded on this machine by a process that is gone, with no end event."""
    header = SessionHeader(id=uuid.uuid4(), driver="orphan", machine=platform.node(), os=platform.platform(),
                           process="killed-recorder", pid=dead_pid(), recorder_version=__version__,
                           started_at=utc_now(), clock="perf_counter_ns")
    with Store.open(db, create=True) as store:
        pk = store.begin_session(header)
        store.append_rows(pk, [call_row(1, 10, 7, DRV_LOAD, 0, 0x10, 0, 0, 0),
                               return_row(2, 20, 7, DRV_LOAD, 0, 0x10, 1, 1, 10),
                               call_row(3, 30, 7, DRV_ENABLE, 0, 0x10, 0, 0, 0)])
    return str(header.id)


def add_closed(db) -> str:
    with Recorder(db, driver="sim:reference") as rec:
        hooked = rec.wrap(ReferenceDriver())
        hooked(0, 0x10, DRV_LOAD, 0, 0)
        hooked(0, 0x10, DRV_ENABLE, 0, 0)
    return str(rec.session_id)


def fingerprint(db) -> dict[str, str]:
    """sha256 of the database file and of its -wal and -shm files where present."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists()}


@pytest.fixture
def db_with_orphan(tmp_path):
    db = tmp_path / "ro.db"
    closed = add_closed(db)
    orphan = add_orphan(db)
    return db, closed, orphan


READERS = {
    "sessions": lambda closed, orphan, out: ["sessions"],
    "show": lambda closed, orphan, out: ["show", orphan],
    "events": lambda closed, orphan, out: ["events", orphan],
    "lint": lambda closed, orphan, out: ["lint", "--all"],
    "verify": lambda closed, orphan, out: ["verify", "--all"],
    "state": lambda closed, orphan, out: ["state", orphan],
    "diff": lambda closed, orphan, out: ["diff", closed, orphan],
    "export": lambda closed, orphan, out: ["export", "--all", "-o", out / "all.jsonl"],
    "timeline": lambda closed, orphan, out: ["timeline", orphan, "-o", out / "orphan.html"],
}


@pytest.mark.parametrize("command", list(READERS))
def test_a_read_only_command_leaves_the_database_byte_identical(db_with_orphan, tmp_path, command):
    db, closed, orphan = db_with_orphan
    out = tmp_path / "out"
    out.mkdir()
    before = fingerprint(db)
    code, _stdout, stderr = run_cli("--db", db, *READERS[command](closed, orphan, out))
    assert code in (0, 1), stderr  # lint and diff say "found something" with 1
    assert "Traceback" not in stderr
    assert fingerprint(db) == before
    with Store.open(db) as store:
        assert store.summary(store.resolve(orphan).pk).end_reason is None  # still not ended


def test_a_writer_ends_the_orphan_once(db_with_orphan, tmp_path):
    db, closed, orphan = db_with_orphan
    exported = tmp_path / "closed.jsonl"
    assert run_cli("--db", db, "export", closed, "-o", exported)[0] == 0
    other = tmp_path / "other.db"
    orphan_there = add_orphan(other)
    code, _stdout, stderr = run_cli("--db", other, "import", exported)
    assert code == 0, stderr
    with Store.open(other) as store:
        events = store.events(store.resolve(orphan_there).pk)
    assert [e.kind for e in events] == ["call", "return", "call", "end"]
    assert events[-1].reason.value == "unknown" and "ended without closing" in events[-1].detail
    code, _stdout, stderr = run_cli("--db", other, "import", exported)  # refused: already there; no second end
    with Store.open(other) as store:
        assert len(store.events(store.resolve(orphan_there).pk)) == 4
