"""`drvtape record --target dll:PATH` (issue 11, item 6): the workload runs in drvhost with the
tap in front of the real DLL, so the session is the tap's (its thread ids, QPC times, fault
records), ingested; it replays 5 of 5 against the real DLL, and a crash or hang during the
recording ends the session as crash or hang with the fault recorded."""
import json
from pathlib import Path

import pytest

from drvtape.recorder.tapped import plan_calls
from drvtape.recorder.workload import parse_workload
from drvtape.runtime.schedule import Threads
from drvtape.schema.messages import (DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD,
                                     DRV_OPEN, DRV_USER)
from drvtape.store import Store

WORKLOADS = Path(__file__).parents[2] / "drvtape" / "workloads"
TWO_THREADS = """
[[steps]]
action = "open"
instance = "a"

[[steps]]
action = "open"
instance = "b"
thread = "other"

[[steps]]
action = "send"
instance = "a"
msg = "DRV_USER+1"
lparam1 = 5
lparam2 = 6

[[steps]]
action = "close"
instance = "b"
thread = "other"

[[steps]]
action = "close"
instance = "a"
"""


def record(drvtape, db: Path, dll: str, workload: Path, *extra) -> dict:
    run = drvtape("--db", db, "record", "--target", f"dll:{dll}", "--workload", workload, "--json", *extra)
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


def replay_5(drvtape, db: Path, session: str, dll: str, *extra) -> dict:
    run = drvtape("--db", db, "replay", session, "--target", f"dll:{dll}", "--repeat", "5", "--json", *extra)
    assert run.code in (0, 1), run.stderr
    return json.loads(run.stdout)


def stored(db: Path, session: str):
    with Store.open(db) as store:
        found = store.resolve(session)
        return found.header, store.events(found.pk)


def test_the_plan_is_the_systems_messages_on_the_workloads_threads():
    plan = plan_calls(parse_workload(TWO_THREADS, "w.toml").steps)
    calls = plan.calls
    assert [c.msg for c in calls] == [DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_OPEN, DRV_USER + 1, DRV_CLOSE, DRV_CLOSE,
                                      DRV_DISABLE, DRV_FREE]
    assert [c.thread for c in calls] == [0, 0, 0, 1, 0, 1, 0, 0, 0]
    assert plan.step_of == [1, 1, 1, 2, 3, 4, 5, 5, 5]
    assert [c.id_from for c in calls] == [None, None, None, None, 2, 3, 2, 2, 2]  # each instance's own DRV_OPEN
    assert [c.expect for c in calls if c.msg == DRV_OPEN] == [1, 1]  # a refused open stops the host
    assert (calls[4].lparam1, calls[4].lparam2) == (5, 6)
    serial = plan_calls(parse_workload(TWO_THREADS, "w.toml").steps, Threads.SERIAL)
    assert {c.thread for c in serial.calls} == {0}


def test_a_string_lparam_is_a_wide_string_payload():
    steps = parse_workload('[[steps]]\naction = "open"\ninstance = "a"\nlparam1 = "wave"\n', "w.toml").steps
    opened = plan_calls(steps).calls[2]
    assert opened.msg == DRV_OPEN and opened.lparam1 == 0 and opened.payload1 == {"type": "wstr", "text": "wave"}


def test_a_two_thread_workload_is_recorded_by_the_tap_and_replays_5_of_5(drvtape, tmp_path, driver):
    dll = driver("thread_affinity")
    workload = tmp_path / "two.toml"
    workload.write_text(TWO_THREADS)
    doc = record(drvtape, tmp_path / "r.db", dll, workload)
    assert doc["end_reason"] == "closed" and doc["calls"] == 9 and doc["threads"] >= 2
    header, events = stored(tmp_path / "r.db", doc["session"])
    assert header.recorder_version.startswith("drvtap") and header.clock == "qpc"  # the tap wrote it
    assert header.source == "workload"
    assert "drvhost" in header.process.lower() and header.process.lower().endswith(".exe")  # drvhost ran the calls
    calls = [e for e in events if e.kind == "call"]
    assert sorted(c.msg for c in calls) == sorted([DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_OPEN, DRV_USER + 1,
                                                   DRV_CLOSE, DRV_CLOSE, DRV_DISABLE, DRV_FREE])
    by_msg_thread = {(c.msg, c.lparam1): c.thread for c in calls}
    assert by_msg_thread[(DRV_USER + 1, 5)] == by_msg_thread[(DRV_LOAD, 0)]  # step 3 on step 1's thread
    opens = [c.thread for c in calls if c.msg == DRV_OPEN]
    assert len(set(opens)) == 2  # "other" is an OS thread of its own
    assert all(a.ts_ns <= b.ts_ns for a, b in zip(events, events[1:]))
    report = replay_5(drvtape, tmp_path / "r.db", doc["session"], dll)
    assert report["reproduced_runs"] == 5, report


def test_a_workload_against_wines_msrle32_replays_5_of_5(drvtape, tmp_path, wine_drivers):
    dll = str(wine_drivers / "msrle32.dll")
    workload = tmp_path / "rle.toml"
    workload.write_text('[[steps]]\naction = "open"\ninstance = "c"\n\n'
                        '[[steps]]\naction = "send"\ninstance = "c"\nmsg = "DRV_USER+1"\n\n'
                        '[[steps]]\naction = "close"\ninstance = "c"\n')
    doc = record(drvtape, tmp_path / "r.db", dll, workload, "--threads", "serial")
    assert doc["end_reason"] == "closed" and doc["calls"] == 7
    header, events = stored(tmp_path / "r.db", doc["session"])
    assert header.driver.lower().endswith("msrle32.dll") and header.target == f"dll:{header.driver}"
    opened = next(e for e in events if e.kind == "return" and e.msg == DRV_OPEN)
    assert opened.result != 0
    assert all(e.driver_id == opened.result for e in events if e.kind == "call" and e.seq > opened.seq)
    assert replay_5(drvtape, tmp_path / "r.db", doc["session"], dll)["reproduced_runs"] == 5


@pytest.mark.parametrize(("name", "workload", "faulting"), [
    ("use_after_release", "use-after-release.toml", DRV_CLOSE),  # DRV_CLOSE after DRV_EXITSESSION
    ("free_with_open", "disable-with-open.toml", DRV_FREE),  # Windows ending with an instance open
])
def test_a_crash_during_recording_ends_the_session_as_a_crash_with_its_fault(drvtape, tmp_path, driver, name,
                                                                             workload, faulting):
    dll = driver(name)
    doc = record(drvtape, tmp_path / "r.db", dll, WORKLOADS / workload)
    assert doc["end_reason"] == "crash", doc
    _, events = stored(tmp_path / "r.db", doc["session"])
    (fault,) = [e for e in events if e.kind == "fault"]
    assert fault.msg == faulting and fault.code == 0xC0000005 and fault.module == Path(dll).name
    assert doc["call_seq"] == fault.call_seq
    report = replay_5(drvtape, tmp_path / "r.db", doc["session"], dll)
    assert report["reproduced_runs"] == 5, report


def test_a_hang_during_recording_ends_the_session_as_a_hang(drvtape, tmp_path, driver):
    """exit-spin.toml's shutdown on thread logoff meets app's second DRV_OPEN in flight:
    DRV_EXITSESSION spins for ever, and the host's watchdog ends the run."""
    dll = driver("exit_spin")
    doc = record(drvtape, tmp_path / "r.db", dll, WORKLOADS / "exit-spin.toml", "--timeout", "2")
    assert doc["end_reason"] == "hang", doc
    _, events = stored(tmp_path / "r.db", doc["session"])
    hung = next(e for e in events if e.seq == doc["call_seq"])
    assert hung.kind == "call" and hung.msg == DRV_EXITSESSION
    assert not any(e.kind == "return" and e.call_seq == hung.seq for e in events)
    report = replay_5(drvtape, tmp_path / "r.db", doc["session"], dll, "--timeout", "2")
    assert report["reproduced_runs"] == 5, report


def test_an_exit_step_ends_the_session_as_process_exit(drvtape, tmp_path, driver):
    workload = tmp_path / "exit.toml"
    workload.write_text('[[steps]]\naction = "open"\ninstance = "a"\n\n[[steps]]\naction = "exit"\n')
    doc = record(drvtape, tmp_path / "r.db", driver("thread_affinity"), workload)
    assert doc["end_reason"] == "process-exit" and doc["calls"] == 3, doc


def test_a_refused_open_stops_the_run_and_says_so(drvtape, tmp_path, driver):
    """exit_spin's DRV_OPEN returns 0 once the driver is exiting (after a DRV_EXITSESSION)."""
    workload = tmp_path / "refused.toml"
    workload.write_text('[[steps]]\naction = "open"\ninstance = "a"\n\n'
                        '[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_EXITSESSION"\n\n'
                        '[[steps]]\naction = "open"\ninstance = "b"\n\n'
                        '[[steps]]\naction = "close"\ninstance = "b"\n')
    run = drvtape("--db", tmp_path / "r.db", "record", "--target", f"dll:{driver('exit_spin')}", "-w", workload,
                  "--json")
    assert run.code == 0, run.stderr
    assert "step 3's DRV_OPEN returned 0 (refused): the run stopped there" in run.stderr
    assert json.loads(run.stdout)["calls"] == 5


def test_a_missing_dll_is_one_line(drvtape, tmp_path):
    workload = tmp_path / "w.toml"
    workload.write_text('[[steps]]\naction = "open"\ninstance = "a"\n')
    run = drvtape("--db", tmp_path / "r.db", "record", "--target", f"dll:{tmp_path}/none.dll", "-w", workload)
    assert run.code == 2 and run.stderr.count("\n") == 1 and "no driver file at" in run.stderr, run.stderr


def test_a_string_over_the_taps_cap_is_stored_truncated_and_record_says_so(drvtape, tmp_path, driver):
    workload = tmp_path / "long.toml"
    workload.write_text(f'[[steps]]\naction = "open"\ninstance = "a"\nlparam1 = "{"x" * 2000}"\n')
    run = drvtape("--db", tmp_path / "r.db", "record", "--target", f"dll:{driver('thread_affinity')}", "-w", workload,
                  "--json")
    assert run.code == 0, run.stderr
    assert "note: the tape: the lparam1 payload at offset" in run.stderr and "tap's size cap" in run.stderr
    _, events = stored(tmp_path / "r.db", json.loads(run.stdout)["session"])
    opened = next(e for e in events if e.kind == "call" and e.msg == DRV_OPEN)
    assert opened.payload.lparam1.text == "x" * 1024  # DRVTAP_MAX_WSTR
