"""A session is ended by the next writer only when its recording process is really gone."""

import platform
import subprocess
import sys
import uuid

import pytest

from drvtape.schema.events import SessionHeader, utc_now
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions

CHILD = r"""
import sys, time
from drvtape.recorder import Recorder
from drvtape.runtime.faults import DriverFault
db, fault = sys.argv[1], sys.argv[2] == "fault"
def driver(d, h, msg, l1, l2):
    if fault and msg == 4:
        raise DriverFault(0xC0000005, "x.dll", 0x10)
    return 1
rec = Recorder(db, driver="alive", durability="process")
h = rec.wrap(driver)
h(0, 1, 1, 0, 0)
try:
    h(0, 1, 4, 0, 0)
except DriverFault:
    pass
print("recorded", flush=True)
time.sleep(60)
"""


def start(db, *args):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "recorded"
    return child


def end_of(db):
    """Open the database as a writer does (recovering orphans first), then read the last session."""
    with Store.open(db) as store:
        end_orphaned_sessions(store)
        events = store.events(store.resolve("last").pk)
    return next((e for e in events if e.kind == "end"), None), events


def test_a_live_recorders_session_stays_open_and_is_ended_once_the_process_is_gone(tmp_path):
    db = tmp_path / "o.db"
    child = start(db, "plain")
    try:
        end, _ = end_of(db)
        assert end is None  # still recording in another process: not ours to end
    finally:
        child.kill()
        child.wait()
    end, events = end_of(db)
    assert end is not None and end.reason.value == "unknown" and f"pid {child.pid}" in end.detail
    assert end.seq == events[-2].seq + 1
    end_again, events_again = end_of(db)
    assert len(events_again) == len(events)  # ended once, not at every open


def test_a_process_that_died_after_a_fault_is_ended_as_a_crash_at_that_call(tmp_path):
    db = tmp_path / "o.db"
    child = start(db, "fault")
    child.kill()
    child.wait()
    end, events = end_of(db)
    fault = next(e for e in events if e.kind == "fault")
    assert end.reason.value == "crash" and end.call_seq == fault.call_seq


RECOVER = r"""
import sys
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions
with Store.open(sys.argv[1]) as store:
    print(len(end_orphaned_sessions(store)))
"""


def test_writers_recovering_the_same_orphan_at_once_end_it_once(tmp_path):
    db = tmp_path / "o.db"
    child = start(db, "plain")
    child.kill()
    child.wait()
    recoverers = [subprocess.Popen([sys.executable, "-c", RECOVER, str(db)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [r.communicate(timeout=120) for r in recoverers]
    assert [r.returncode for r in recoverers] == [0] * 4, [err for _, err in results]
    assert sum(int(out) for out, _ in results) == 1  # one of them ended it; the others saw it ended
    with Store.open(db) as store:
        events = store.events(store.resolve("last").pk)
        assert store.verify(store.resolve("last").pk) == []
    assert [e.kind for e in events].count("end") == 1


def test_recovering_again_changes_nothing(tmp_path):
    db = tmp_path / "o.db"
    child = start(db, "plain")
    child.kill()
    child.wait()
    with Store.open(db) as store:
        assert len(end_orphaned_sessions(store)) == 1
        assert end_orphaned_sessions(store) == []
        assert [e.kind for e in store.events(store.resolve("last").pk)].count("end") == 1


@pytest.mark.parametrize("pid", [2**31, 2**32, 2**63 - 1])
def test_a_pid_no_process_can_have_is_an_orphan_never_a_crash(tmp_path, pid):
    """An imported header naming this machine and a pid past pid_t/DWORD (issue 18, item 6)."""
    header = SessionHeader(id=uuid.uuid4(), driver="imported", machine=platform.node(), pid=pid, started_at=utc_now())
    with Store.open(tmp_path / "p.db", create=True) as store:
        store.begin_session(header)
        assert [s.header.pid for s in store.sessions()] == [pid]
        assert end_orphaned_sessions(store) == [header.id]
        assert store.sessions()[0].end_reason.value == "unknown"
