"""push and pull between a machine's SQLite file and a central database (both engines)."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

from drvtape.recorder import Recorder
from drvtape.schema.events import CallEvent, ReturnEvent, SessionHeader, utc_now
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store


def drvtape(db, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True,
                          input=stdin)


def record(path, calls=50):
    with Recorder(path, driver="pushed") as rec:
        hooked = rec.wrap(ReferenceDriver())
        for i in range(calls):
            hooked(0, 1, 0x4001, i, 0)
    return str(rec.session_id)


def session_from(machine, calls=5, session_id=None, first=0):
    """A session recorded on another machine, as its JSONL export would bring it."""
    header = SessionHeader(id=session_id or uuid.uuid4(), driver="pushed", machine=machine, started_at=utc_now())
    events = []
    for i in range(calls):
        events.append(CallEvent(seq=2 * i + 1, ts_ns=i, thread=1, msg=0x4001, driver_id=0, hdrvr=1,
                                lparam1=first + i, lparam2=0))
        events.append(ReturnEvent(seq=2 * i + 2, ts_ns=i, thread=1, call_seq=2 * i + 1, msg=0x4001, driver_id=0,
                                  hdrvr=1, result=0, duration_ns=1))
    return header, events


def exported(db):
    return drvtape(db, "export", "--all").stdout


def test_push_twice_stores_once_and_pull_brings_it_back(tmp_path, db):
    local = tmp_path / "target-machine.db"
    record(local)
    record(local)
    first = drvtape(local, "push", "--to", db, "--all", "--json")
    assert first.returncode == 0, first.stderr
    assert [c["copied_events"] for c in json.loads(first.stdout)] == [101, 101]
    second = json.loads(drvtape(local, "push", "--to", db, "--all", "--json").stdout)
    assert [c["copied_events"] for c in second] == [0, 0]
    assert exported(db) == exported(local)
    assert drvtape(db, "verify", "--all").returncode == 0
    desk = tmp_path / "desk.db"
    assert drvtape(desk, "pull", "--from", db, "--all").returncode == 0
    assert exported(desk) == exported(local)


def test_an_interrupted_push_continues_where_it_stopped(tmp_path, db):
    local = tmp_path / "big.db"
    record(local, calls=40_000)
    push = subprocess.Popen([sys.executable, "-m", "drvtape", "--db", str(local), "push", "--to", db, "--all",
                             "--chunk", "500", "--quiet"], stderr=subprocess.PIPE)
    with Store.open(db, create=True) as central:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and central.event_count() < 5_000:
            time.sleep(0.02)
        push.send_signal(signal.SIGKILL)
        push.wait()
        partial = central.event_count()
    assert 0 < partial < 80_001, "the push should have been killed half-way"
    resumed = json.loads(drvtape(local, "push", "--to", db, "--all", "--json").stdout)
    assert resumed[0]["copied_events"] == 80_001 - partial and resumed[0]["events"] == 80_001
    assert exported(db) == exported(local)
    assert drvtape(db, "verify", "--all").returncode == 0


def test_a_damaged_session_is_not_pushed(tmp_path):
    local, central = tmp_path / "local.db", tmp_path / "central.db"
    record(local)
    with sqlite3.connect(local) as conn:
        conn.execute("UPDATE events SET lparam1 = 99 WHERE seq = 51")
    refused = drvtape(local, "push", "--to", central, "--all")
    assert refused.returncode == 2 and "damaged" in refused.stderr and "seq 51" in refused.stderr
    assert not central.exists() or json.loads(drvtape(central, "sessions", "--json").stdout) == []


def test_a_push_into_a_different_history_is_refused_and_writes_nothing(tmp_path):
    local, central = tmp_path / "local.db", tmp_path / "central.db"
    same_id = uuid.uuid4()
    with Store.open(local, create=True) as store:
        store.import_sessions([session_from("lab-01", calls=6, session_id=same_id)])
    with Store.open(central, create=True) as store:  # the same session id, another history
        store.import_sessions([session_from("lab-01", calls=3, session_id=same_id, first=100)])
    before = exported(central)
    refused = drvtape(local, "push", "--to", central, "--all")
    assert refused.returncode == 2 and "differs at seq 6" in refused.stderr
    assert exported(central) == before


def test_sessions_from_many_machines_are_queried_centrally(tmp_path, db):
    for n, machine in enumerate(("lab-01", "lab-02", "lab-01")):
        local = tmp_path / f"{machine}-{n}.db"
        with Store.open(local, create=True) as store:
            store.import_sessions([session_from(machine)])
        assert drvtape(local, "push", "--to", db, "--all").returncode == 0
    listed = json.loads(drvtape(db, "sessions", "--machine", "lab-01", "--json").stdout)
    assert len(listed) == 2 and {s["machine"] for s in listed} == {"lab-01"}
    found = json.loads(drvtape(db, "events", listed[0]["id"], "--msg", "DRV_USER+1", "--kind", "call",
                               "--format", "json").stdout)
    assert [e["lparam1"] for e in found] == list(range(5))
