"""The shutdown bugs (domain.md 1-4) recorded by the tap under Wine and replayed 5 of 5.

Each driver in tests/native/drivers/ has one bug; the winmm client (clients/tapclient.c)
makes it happen through drvtap; `drvtape ingest` turns the tape into a session, and
`drvtape replay --repeat 5 --target dll:REAL` reproduces it every time: the fault with its
exception code and module+offset, the hang at its call, the refused close on the wrong
thread. (use_after_release, bug 2, is test_drvtap.py's crash test.)"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.schema.messages import DRV_CLOSE, DRV_EXITSESSION, DRV_OPEN
from drvtape.store import Store

from test_drvtap import ingest

EXCEPTION_ACCESS_VIOLATION = 0xC0000005


def start(client: Path, tap: Path, real: str, tape: Path, mode: str, **extra: str) -> subprocess.Popen:
    argv, env = wine.command(client)
    env = dict(env or os.environ, DRVTAP_REAL=wine.windows_path(real), DRVTAP_TAPE=wine.windows_path(str(tape)))
    env.pop("DRVTAP_FLUSH", None)
    env.update(extra)
    return subprocess.Popen([*argv, wine.windows_path(str(tap)), mode], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def replay5(db: Path, session: str, real: str, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "replay", session, "--target",
                           f"dll:{real}", "--repeat", "5", *extra, "--json"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return json.loads(proc.stdout)


def stored_events(db: Path, session: str) -> list:
    with Store.open(db) as store:
        return store.events(store.resolve(session).pk)


def test_bug1_exitsession_spinning_while_another_thread_opens_is_recorded_and_hangs_5_of_5(
        tmp_path, tap, client, driver, drvtape):
    """exit_spin: thread 2 is inside its second DRV_OPEN when thread 1's DRV_EXITSESSION
    starts; the open gives up leaving its pending count, DRV_EXITSESSION spins forever, the
    process is killed. (Both opens are on thread 2: drvhost keeps each thread's order and the
    global issue order, but not "returned before" across threads, so a first open on thread 1
    could overlap the second in replay and make the outcome a race.)"""
    real = driver("exit_spin")
    tape = tmp_path / "spin.drvtape"
    proc = start(client, tap, real, tape, "exitspin")
    try:
        # the first open takes 1 s (over 6 s of wall time beside busy processes): wait for it,
        # then DRV_EXITSESSION never returns
        first = proc.stdout.readline()
        assert first.startswith("open "), first
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=6)
    finally:
        proc.kill()
        out, _ = proc.communicate(timeout=30)
    assert "exitsession" not in out
    run = drvtape("--db", tmp_path / "t.db", "ingest", "--unfinished", "hang", tape, "--json")
    assert run.code == 0, run.stderr
    (session,) = json.loads(run.stdout)["tapes"][0]["sessions"]
    assert session["end_reason"] == "hang" and "DRV_EXITSESSION" in session["detail"]
    events = stored_events(tmp_path / "t.db", session["session"])
    calls = [ev for ev in events if ev.kind == "call"]
    spin = next(c for c in calls if c.msg == DRV_EXITSESSION)
    assert session["call_seq"] == spin.seq
    first_open, second_open = [c for c in calls if c.msg == DRV_OPEN]
    # both opens on one thread, DRV_EXITSESSION on another while the second open is in flight
    assert first_open.thread == second_open.thread != spin.thread and second_open.seq < spin.seq
    assert not any(ev.kind == "return" and ev.call_seq == second_open.seq and ev.seq < spin.seq for ev in events)
    report = replay5(tmp_path / "t.db", session["session"], real, "--timeout", "3")
    assert report["reproduced_runs"] == 5
    assert report["location"]["seq"] == spin.seq and report["location"]["msg"] == DRV_EXITSESSION


def test_bug3_close_after_disable_is_recorded_and_faults_5_of_5(tmp_path, tap, client, driver, drvtape):
    """disable_with_open: DRV_DISABLE while an instance is open frees the device buffer; the
    DRV_CLOSE after it writes to it and the process dies."""
    real = driver("disable_with_open")
    tape = tmp_path / "disable.drvtape"
    proc = start(client, tap, real, tape, "disable", DRVTAP_FLUSH="every")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "disable 1" in out and "close" not in out
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    assert session["end_reason"] == "crash" and "DRV_CLOSE" in session["detail"]
    events = stored_events(tmp_path / "t.db", session["session"])
    fault = next(ev for ev in events if ev.kind == "fault")
    assert fault.code == EXCEPTION_ACCESS_VIOLATION and fault.module.lower() == Path(real).name.lower()
    report = replay5(tmp_path / "t.db", session["session"], real)
    assert report["reproduced_runs"] == 5
    assert report["location"] == {"seq": fault.call_seq, "msg": DRV_CLOSE, "msg_name": "DRV_CLOSE",
                                  "code": EXCEPTION_ACCESS_VIOLATION, "module": fault.module,
                                  "offset": fault.offset}


def test_bug4_close_on_another_thread_is_recorded_and_refused_5_of_5(tmp_path, tap, client, driver, drvtape):
    """thread_affinity: the instance is closed on a thread other than its opener's; the driver
    refuses (DRV_CLOSE returns 0). Replay runs each recorded thread on a thread of its own, so
    the refusal comes back every time."""
    real = driver("thread_affinity")
    tape = tmp_path / "affinity.drvtape"
    proc = start(client, tap, real, tape, "affinity")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    events = stored_events(tmp_path / "t.db", session["session"])
    results = {ev.call_seq: ev.result for ev in events if ev.kind == "return"}
    opened = next(ev for ev in events if ev.kind == "call" and ev.msg == DRV_OPEN)
    closed = next(ev for ev in events if ev.kind == "call" and ev.msg == DRV_CLOSE)
    assert closed.thread != opened.thread and results[closed.seq] == 0
    report = replay5(tmp_path / "t.db", session["session"], real)
    assert report["reproduced_runs"] == 5, report
