"""Every message until the process is gone (issue 11, items 2 and 4), under Wine: the
messages the system sends after the tap's process-exit detach belong to the session, a
SIGKILL mid-stream leaves every whole record ingestible, and two processes can append to
one tape at once."""
import json
import os
import random
import struct
import subprocess
import time


from drvtape.dllhost import wine
from drvtape.formats.tape import frames
from drvtape.recorder.ingest import read_tape
from drvtape.schema.messages import DRV_CLOSE, DRV_DISABLE, DRV_FREE, DRV_LOAD, DRV_OPEN, DRV_USER
from drvtape.store import Store

from test_drvtap import ingest, run_client

KILL_TRIALS = 50
KILL_AT_ONCE = 5


def test_a_client_exiting_with_two_acm_instances_open_gives_a_session_with_the_exit_time_messages(
        tmp_path, tap, client, wine_drivers, drvtape):
    """msacm32 closes the instances in its own detach, which Wine 8.0 runs after the tap's
    (the tap was loaded after msacm32): DRV_CLOSE for each open instance, DRV_DISABLE and
    DRV_FREE all come after the tap's DETACH record, and all are in the session."""
    real = str(wine_drivers / "imaadp32.acm")
    tape = tmp_path / "acm.drvtape"
    proc = run_client(client, tap, "acmexit", real=real, tape=tape)
    assert proc.returncode == 0 and "open 0 0" in proc.stdout, (proc.stdout, proc.stderr)
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    assert doc["tapes"][0]["problems"] == []
    (session,) = doc["tapes"][0]["sessions"]
    assert session["end_reason"] == "process-exit"
    with Store.open(tmp_path / "t.db") as store:
        events = store.events(store.resolve(session["session"]).pk)
    calls = [ev for ev in events if ev.kind == "call"]
    answered = {ev.call_seq for ev in events if ev.kind == "return"}
    assert all(c.seq in answered for c in calls)
    last_load = max(i for i, c in enumerate(calls) if c.msg == DRV_LOAD)
    opened = [c.hdrvr for c in calls[last_load:] if c.msg == DRV_OPEN]
    at_exit = calls[-(len(opened) + 2):]
    assert len(opened) >= 2  # the client's two, and whatever msacm32 opened for itself
    assert [c.msg for c in at_exit] == [DRV_CLOSE] * len(opened) + [DRV_DISABLE, DRV_FREE]
    assert sorted(c.hdrvr for c in at_exit[:-2]) == sorted(opened)
    assert f"{len(at_exit)} message(s) came after the tap's process-exit detach" in session["detail"]


def test_a_sigkill_mid_stream_leaves_every_whole_record_50_of_50(tmp_path, tap, client, driver, drvtape):
    """The client streams messages in bursts; each is killed at a random time (a few kills
    land inside a record: its length is not written yet, so it reads as torn)."""
    real = driver("thread_affinity")
    argv, env = wine.command(client)
    run_env = dict(env or os.environ, DRVTAP_REAL=wine.windows_path(real))
    run_env.pop("DRVTAP_FLUSH", None)
    tapes = [tmp_path / f"kill{trial}.drvtape" for trial in range(KILL_TRIALS)]
    for batch in range(0, KILL_TRIALS, KILL_AT_ONCE):  # a few at once: Wine's start-up dominates
        procs = [subprocess.Popen([*argv, wine.windows_path(str(tap)), "stream"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True,
                                  env=dict(run_env, DRVTAP_TAPE=wine.windows_path(str(tape))))
                 for tape in tapes[batch:batch + KILL_AT_ONCE]]
        try:
            for proc in procs:
                assert proc.stdout.readline().startswith("open ")
            for proc in procs:
                time.sleep(random.uniform(0.0, 0.03))
                proc.kill()
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(timeout=30)
                proc.stdout.close()
    counts = []
    for trial, tape in enumerate(tapes):
        parsed = read_tape(tape)
        assert [p.kind for p in parsed.problems] in ([], ["torn"]), (trial, parsed.problems)
        (session,) = parsed.sessions
        streamed = [ev.lparam2 for ev in session.events if ev.kind == "call" and ev.msg == DRV_USER + 1]
        assert streamed and streamed == list(range(len(streamed))), trial  # no record lost before the last
        assert session.end.reason.value in ("killed", "unknown")
        counts.append(len(session.events))
    run = drvtape("--db", tmp_path / "t.db", "ingest", *tapes, "--json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    with Store.open(tmp_path / "t.db") as store:
        for n_events, report in zip(counts, doc["tapes"]):
            (session,) = report["sessions"]
            assert len(store.events(store.resolve(session["session"]).pk)) == n_events


def test_two_processes_appending_to_one_tape_at_once_give_two_whole_sessions(tmp_path, tap, client, driver):
    """Each process claims chunks of the file under a mutex named after the file; both send
    at the same moment (a gate file), so their chunks interleave in the file."""
    real = driver("thread_affinity")
    tape, gate = tmp_path / "shared.drvtape", tmp_path / "go"
    argv, env = wine.command(client)
    run_env = dict(env or os.environ, DRVTAP_REAL=wine.windows_path(real), DRVTAP_TAPE=wine.windows_path(str(tape)),
                   TAPCLIENT_GATE=wine.windows_path(str(gate)))
    run_env.pop("DRVTAP_FLUSH", None)
    n, m = 4, 5000
    procs = [subprocess.Popen([*argv, wine.windows_path(str(tap)), "threads", str(n), str(m)], env=run_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n"
    gate.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
    parsed = read_tape(tape)
    assert parsed.problems == []
    assert len(parsed.sessions) == 2 and len({s.header.pid for s in parsed.sessions}) == 2
    for session in parsed.sessions:
        assert session.calls == n * m + 6 and session.end.reason.value == "closed"
    pids = [struct.unpack_from("<I", body, 4)[0] for _, body in frames(tape.read_bytes(), [])]
    assert sum(a != b for a, b in zip(pids, pids[1:])) >= 2  # A's chunk, B's, A's again at least
