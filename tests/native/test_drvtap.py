"""The recording proxy (native/drvtap) under Wine: a winmm client opens drvtap.dll, which
forwards to a real driver and writes a tape; `drvtape ingest` turns the tape into a session
that is what Wine really sent, and `drvtape replay` reproduces it against the real DLL."""

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.schema.messages import (DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD,
                                     DRV_OPEN, DRV_USER)
from drvtape.store import Store
from drvtape.recorder.ingest import read_tape

CLIENT_SOURCE = Path(__file__).parent / "clients" / "tapclient.c"
INSTANCE = 0x200  # what tests/native/drivers/thread_affinity.c returns from DRV_OPEN


def run_client(client: Path, tap: Path, *args: str, real: str | None = None, tape: Path | None = None,
               cwd: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    argv, env = wine.command(client)
    env = dict(env or os.environ)
    for name in ("DRVTAP_REAL", "DRVTAP_TAPE", "DRVTAP_FLUSH"):
        env.pop(name, None)
    if real is not None:
        env["DRVTAP_REAL"] = wine.windows_path(real)
    if tape is not None:
        env["DRVTAP_TAPE"] = wine.windows_path(str(tape))
    env.update(extra_env)
    return subprocess.run([*argv, wine.windows_path(str(tap)), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def ingest(drvtape, db: Path, *tapes: Path) -> dict:
    run = drvtape("--db", db, "ingest", *tapes, "--json")
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


def replay(db: Path, session: str, dll: str) -> tuple[int, dict | None, str]:
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "replay", session, "--target",
                           f"dll:{dll}", "--json"], capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else None, proc.stderr


def messages(events) -> list[tuple]:
    """(msg, handle role, driver_id, lparam1, lparam2, result) per call; handles named H0, H1, ...
    in order of first appearance."""
    roles: dict[int, str] = {}
    results = {ev.call_seq: ev.result for ev in events if ev.kind == "return"}
    out = []
    for ev in events:
        if ev.kind == "call":
            role = roles.setdefault(ev.hdrvr, f"H{len(roles)}")
            out.append((ev.msg, role, ev.driver_id, ev.lparam1, ev.lparam2, results.get(ev.seq)))
    return out


def handles(events) -> list[int]:
    return list(dict.fromkeys(ev.hdrvr for ev in events if ev.kind == "call"))


def printed_handles(stdout: str) -> list[int]:
    line = next(line for line in stdout.splitlines() if line.startswith("open "))
    return [int(h, 16) for h in line.split()[1:]]


def test_a_winmm_session_recorded_by_the_tap_is_what_wine_sent_and_replays(tmp_path, tap, client, driver, drvtape):
    real = driver("thread_affinity")
    tape = tmp_path / "winmm.drvtape"
    proc = run_client(client, tap, "77", "88", real=real, tape=tape)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[1:5] == ["user1 1", "exitsession 1", "close1 1", "close2 1"]

    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    assert doc["tapes"][0]["problems"] == []
    assert session["status"] == "ingested" and session["end_reason"] == "closed"  # the tap was unloaded
    with Store.open(tmp_path / "t.db") as store:
        stored = store.resolve(session["session"])
        events = store.events(stored.pk)
    assert stored.header.driver == wine.windows_path(real) and stored.header.pid > 0
    assert "Wine" in stored.header.os and stored.header.process.lower().endswith(".exe")

    # domain.md's sequence: Wine opens a hidden first instance (lParam2 0) before the
    # caller's, closes it last, and passes the last id, not 0, to DRV_DISABLE/DRV_FREE.
    i = INSTANCE
    assert messages(events) == [
        (DRV_LOAD, "H0", 0, 0, 0, 1),
        (DRV_ENABLE, "H0", 0, 0, 0, 1),
        (DRV_OPEN, "H0", 0, 0, 0, i),
        (DRV_OPEN, "H1", 0, 0, 0x77, i),
        (DRV_OPEN, "H2", 0, 0, 0x88, i),
        (DRV_USER + 1, "H1", i, 5, 6, 1),
        (DRV_EXITSESSION, "H1", i, 0, 0, 1),
        (DRV_CLOSE, "H1", i, 0, 0, 1),
        (DRV_CLOSE, "H2", i, 0, 0, 1),
        (DRV_CLOSE, "H0", i, 0, 0, 1),
        (DRV_DISABLE, "H0", i, 0, 0, 1),
        (DRV_FREE, "H0", i, 0, 0, 1),
    ]
    assert handles(events)[1:] == printed_handles(proc.stdout)  # H1, H2 are what OpenDriver returned
    assert len({ev.thread for ev in events}) == 1  # all on the caller's thread
    calls = [ev for ev in events if ev.kind == "call"]
    assert all(a.ts_ns <= b.ts_ns for a, b in zip(events, events[1:]))
    assert all(c.payload is None for c in calls)  # 0x77 is a value, not readable memory

    code, report, err = replay(tmp_path / "t.db", session["session"], real)
    assert code == 0, (report, err)
    assert report["reproduced"] and report["outcome"]["kind"] == "completed"

    again = ingest(drvtape, tmp_path / "t.db", tape)
    assert again["ingested"] == 0 and again["tapes"][0]["sessions"][0]["status"] == "already ingested"


def test_with_lparam2_zero_wine_opens_no_hidden_instance_and_msrle32_replays(tmp_path, tap, client, wine_drivers,
                                                                            drvtape):
    """Wine's two-phase open happens only when the caller's lParam2 is nonzero: with 0 the
    first OpenDriver is the first instance. (Wine's msrle32 reads lParam2 as an ICOPEN*, so
    0x77 would crash it: see the crash test.)"""
    real = str(wine_drivers / "msrle32.dll")
    tape = tmp_path / "msrle32.drvtape"
    proc = run_client(client, tap, "0", "0", real=real, tape=tape)
    assert proc.returncode == 0, proc.stderr
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    with Store.open(tmp_path / "t.db") as store:
        events = store.events(store.resolve(session["session"]).pk)
    seen = messages(events)
    assert [(m, role) for m, role, *_ in seen] == [
        (DRV_LOAD, "H0"), (DRV_ENABLE, "H0"), (DRV_OPEN, "H0"), (DRV_OPEN, "H1"), (DRV_USER + 1, "H0"),
        (DRV_EXITSESSION, "H0"), (DRV_CLOSE, "H0"), (DRV_CLOSE, "H1"), (DRV_DISABLE, "H1"), (DRV_FREE, "H1"),
    ]
    assert handles(events) == printed_handles(proc.stdout)
    opened = seen[2][5]
    assert opened != 0 and seen[4][2] == opened  # the instance id msrle32 gave is passed back
    code, report, err = replay(tmp_path / "t.db", session["session"], real)
    assert code == 0, (report, err)
    assert report["reproduced"]


def test_a_crash_in_the_driver_is_on_the_tape_and_replays_5_of_5(tmp_path, tap, client, driver, drvtape):
    """use_after_release frees its state in DRV_EXITSESSION; the DRV_CLOSE after it faults and
    the process dies. The call record was written before forwarding, the tap's vectored
    handler wrote a fault record, no return ever came: ingest ends the session "crash", and
    replay against the real DLL faults at the same call, code and module+offset."""
    real = driver("use_after_release")
    tape = tmp_path / "crash.drvtape"
    proc = run_client(client, tap, "crash", real=real, tape=tape, DRVTAP_FLUSH="every")
    assert proc.returncode != 0 and "close" not in proc.stdout
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    assert session["end_reason"] == "crash" and "DRV_CLOSE" in session["detail"]
    assert "0xC0000005" in session["detail"] and session["handled_exceptions"] == 0
    with Store.open(tmp_path / "t.db") as store:
        events = store.events(store.resolve(session["session"]).pk)
    last_call = [ev for ev in events if ev.kind == "call"][-1]
    assert last_call.msg == DRV_CLOSE and session["call_seq"] == last_call.seq
    assert [ev.kind for ev in events[-3:]] == ["call", "fault", "end"]
    fault = events[-2]
    assert fault.call_seq == last_call.seq and fault.code == 0xC0000005
    assert fault.module.lower() == Path(real).name.lower() and fault.offset > 0
    header = tape.read_bytes()[8:8 + 72]
    assert header[4:12] == b"DRVTAPE1" and struct.unpack_from("<I", header, 20)[0] & 1  # flushed every record

    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tmp_path / "t.db"), "replay",
                           session["session"], "--target", f"dll:{real}", "--repeat", "5", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    report = json.loads(proc.stdout)
    assert report["reproduced_runs"] == 5
    assert report["location"] == {"seq": last_call.seq, "msg": DRV_CLOSE, "msg_name": "DRV_CLOSE",
                                  "code": 0xC0000005, "module": fault.module, "offset": fault.offset}


def test_the_cfg_file_beside_the_tap_names_the_real_driver_and_the_default_tape(tmp_path, tap, client, driver):
    folder = tmp_path / "tap"
    folder.mkdir()
    shutil.copyfile(tap, folder / "drvtap.dll")
    shutil.copyfile(driver("thread_affinity"), folder / "real_driver.dll")
    (folder / "drvtap.cfg").write_text("real_driver.dll\n", encoding="utf-8")  # relative to the cfg's folder
    work = tmp_path / "cwd"
    work.mkdir()
    proc = run_client(client, folder / "drvtap.dll", "0", "0", cwd=work)
    assert proc.returncode == 0, proc.stderr
    (written,) = work.glob("*.drvtape")
    (session,) = read_tape(written).sessions
    assert written.name == f"real_driver.{session.header.pid}.drvtape"
    assert session.header.driver.lower().endswith("\\tap\\real_driver.dll")
    assert session.calls == 10 and session.end.reason.value == "closed"


def fourcc(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


def test_an_msvfw32_session_captures_the_icopen_and_replays_against_msrle32(tmp_path, tap, client, wine_drivers,
                                                                           drvtape):
    """ICOpen on vidc.mrle (the tap's DriverProc installed as a function driver, so no
    registry change): msvfw32 passes an ICOPEN*, which the tap copies and replay rebuilds."""
    real = str(wine_drivers / "msrle32.dll")
    tape = tmp_path / "vfw.drvtape"
    proc = run_client(client, tap, "vfw", real=real, tape=tape)
    assert proc.returncode == 0, proc.stderr
    assert "icopen 0000000000000000" not in proc.stdout
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    # the tap was loaded with LoadLibrary and never freed: the process exit ends the tape
    assert session["end_reason"] == "process-exit"
    with Store.open(tmp_path / "t.db") as store:
        events = store.events(store.resolve(session["session"]).pk)
    calls = [ev for ev in events if ev.kind == "call"]
    icm_configure = DRV_USER + 0x100A
    assert [c.msg for c in calls] == [DRV_LOAD, DRV_ENABLE, DRV_OPEN, icm_configure, DRV_CLOSE, DRV_DISABLE,
                                      DRV_FREE]
    opened = calls[2]
    assert opened.payload.lparam1 is None
    icopen = opened.payload.lparam2
    assert (icopen.type, icopen.dwSize, icopen.fccType, icopen.fccHandler, icopen.dwFlags) == (
        "ICOPEN", 56, fourcc("vidc"), fourcc("mrle"), 2)  # sizeof(ICOPEN) on x64; ICMODE_DECOMPRESS
    instance = next(ev.result for ev in events if ev.kind == "return" and ev.call_seq == opened.seq)
    assert instance != 0 and all(c.driver_id == instance for c in calls[3:])
    code, report, err = replay(tmp_path / "t.db", session["session"], real)
    assert code == 0, (report, err)
    assert report["reproduced"]


def test_threads_sending_at_once_give_a_whole_tape_in_seq_order(tmp_path, tap, client, driver):
    """8 threads x 500 messages to one instance at the same time: no record lost or torn,
    every call answered, each thread's calls in its own order, alternating with its returns."""
    tape = tmp_path / "threads.drvtape"
    n, m = 8, 500
    proc = run_client(client, tap, "threads", str(n), str(m), real=driver("thread_affinity"), tape=tape)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    parsed = read_tape(tape)
    assert parsed.problems == []
    (session,) = parsed.sessions
    assert session.calls == n * m + 6 and session.end.reason.value == "closed"
    events = session.events[:-1]
    answered = {ev.call_seq for ev in events if ev.kind == "return"}
    assert answered == {ev.seq for ev in events if ev.kind == "call"}
    by_thread: dict[int, list] = {}
    for ev in events:
        by_thread.setdefault(ev.thread, []).append(ev)
    senders = [evs for evs in by_thread.values() if any(e.kind == "call" and e.msg == DRV_USER + 1 for e in evs)]
    assert len(senders) == n
    for evs in senders:
        assert [e.kind for e in evs] == ["call", "return"] * m
        calls = [e for e in evs if e.kind == "call"]
        assert [c.lparam2 for c in calls] == list(range(m)) and len({c.lparam1 for c in calls}) == 1
        assert all(c.driver_id == INSTANCE for c in calls)


def test_a_missing_real_driver_fails_drv_load_and_is_on_the_tape(tmp_path, tap, client):
    folder = tmp_path / "tap"
    folder.mkdir()
    shutil.copyfile(tap, folder / "drvtap.dll")
    (folder / "drvtap.cfg").write_text("missing.dll\nout.drvtape\n", encoding="utf-8")  # both relative to it
    proc = run_client(client, folder / "drvtap.dll", "0", "0", cwd=tmp_path)
    assert proc.returncode == 1 and "open 0000000000000000" in proc.stdout
    # each OpenDriver loads the tap, gets 0 from DRV_LOAD and unloads it: two sessions, one file
    sessions = read_tape(folder / "out.drvtape").sessions
    assert len(sessions) == 2
    for session in sessions:
        assert [(ev.kind, getattr(ev, "msg", None), getattr(ev, "result", None)) for ev in session.events] == [
            ("call", DRV_LOAD, None), ("return", DRV_LOAD, 0), ("end", None, None)]
        assert session.end.reason.value == "closed"
        assert session.header.driver.lower().endswith("\\tap\\missing.dll")


def test_a_hang_recorded_by_the_tap_and_killed_replays_as_a_hang(tmp_path, tap, client, driver, drvtape):
    """sleeper's DRV_USER never returns; the process is killed. `ingest --unfinished hang`
    ends the session as a hang at that call, and replay with a timeout reproduces it."""
    real = driver("sleeper")
    tape = tmp_path / "hang.drvtape"
    argv, env = wine.command(client)
    env = dict(env or os.environ, DRVTAP_REAL=wine.windows_path(real), DRVTAP_TAPE=wine.windows_path(str(tape)))
    env.pop("DRVTAP_FLUSH", None)
    proc = subprocess.Popen([*argv, wine.windows_path(str(tap)), "send", f"{DRV_USER:x}"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().startswith("open ")
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=2)  # stuck in DRV_USER
    finally:
        proc.kill()
        proc.wait(timeout=30)
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    assert doc["tapes"][0]["sessions"][0]["end_reason"] == "unknown"  # the tap cannot tell a hang from a kill
    run = drvtape("--db", tmp_path / "h.db", "ingest", "--unfinished", "hang", tape, "--json")
    (session,) = json.loads(run.stdout)["tapes"][0]["sessions"]
    assert session["end_reason"] == "hang" and "DRV_USER" in session["detail"]
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tmp_path / "h.db"), "replay",
                           session["session"], "--target", f"dll:{real}", "--timeout", "1", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    report = json.loads(proc.stdout)
    assert report["outcome"] == {"kind": "hang", "seq": session["call_seq"], "msg": DRV_USER,
                                 "msg_name": "DRV_USER"}


DRIVERS32 = r"HKLM\Software\Microsoft\Windows NT\CurrentVersion\Drivers32"


def test_through_a_drivers32_alias_the_section_arguments_arrive_as_lparam1(tmp_path, tap, client, driver, drvtape):
    """The alias's value is "<drvtap path> my-args"; Wine 8.0 passes the text after the first
    space as DRV_OPEN's lParam1, a wide string the tap copies, but not for every instance:
    the hidden first instance and later opens get it, the caller's first instance gets NULL."""
    real = driver("thread_affinity")
    tape = tmp_path / "alias.drvtape"
    alias = f"drvtap.t{os.getpid()}"
    argv, env = wine.command(client)
    reg = [argv[0], "reg"] if len(argv) > 1 else ["reg"]
    added = subprocess.run([*reg, "add", DRIVERS32, "/v", alias, "/d", f"{wine.windows_path(str(tap))} my-args", "/f"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    try:
        argv, env = wine.command(client)
        env = dict(env or os.environ, DRVTAP_REAL=wine.windows_path(real), DRVTAP_TAPE=wine.windows_path(str(tape)))
        env.pop("DRVTAP_FLUSH", None)
        proc = subprocess.run([*argv, alias, "77", "88"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run([*reg, "delete", DRIVERS32, "/v", alias, "/f"], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    with Store.open(tmp_path / "t.db") as store:
        events = store.events(store.resolve(session["session"]).pk)
    opens = [(ev.lparam2, ev.payload.lparam1.text if ev.payload and ev.payload.lparam1 else None)
             for ev in events if ev.kind == "call" and ev.msg == DRV_OPEN]
    assert opens == [(0, "my-args"), (0x77, None), (0x88, "my-args")]
    assert [m for m, *_ in messages(events)] == [DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_OPEN, DRV_OPEN, DRV_USER + 1,
                                                 DRV_EXITSESSION, DRV_CLOSE, DRV_CLOSE, DRV_CLOSE, DRV_DISABLE,
                                                 DRV_FREE]
    code, report, err = replay(tmp_path / "t.db", session["session"], real)
    assert code == 0, (report, err)
