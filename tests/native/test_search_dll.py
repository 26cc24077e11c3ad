"""minimize and explore against a real DLL under Wine (the buggy C test drivers)."""

import json
import subprocess
import sys

from test_replay_dll_target import RECORDED_ID, learn, store_session

from drvtape.schema.messages import (DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD, DRV_OPEN,
                                     DRV_QUERYCONFIGURE, DRV_USER)


def drvtape(db, *args):
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else None


def test_a_use_after_release_session_minimizes_against_the_dll(tmp_path, driver):
    dll = driver("use_after_release")
    padding = [(DRV_USER + n, RECORDED_ID, None) for n in range(6)] + [(DRV_QUERYCONFIGURE, RECORDED_ID, None)] * 3
    calls = [(DRV_LOAD, 0, None), (DRV_ENABLE, 0, None), (DRV_OPEN, 0, None), *padding,
             (DRV_EXITSESSION, RECORDED_ID, None), *padding, (DRV_CLOSE, RECORDED_ID, None)]
    results = learn(dll, calls)
    assert results[-1].kind == "fault"
    db = tmp_path / "m.db"
    session = store_session(db, dll, calls, results)
    code, doc = drvtape(db, "minimize", session, "--target", f"dll:{dll}", "--repeat", "2", "--json")
    assert code == 0, doc
    kept = drvtape(db, "events", doc["minimized"], "--kind", "call", "--format", "json")[1]
    assert [e["msg_name"] for e in kept] == ["DRV_LOAD", "DRV_ENABLE", "DRV_OPEN", "DRV_EXITSESSION", "DRV_CLOSE"]
    code, replayed = drvtape(db, "replay", doc["minimized"], "--target", f"dll:{dll}", "--repeat", "3", "--json")
    assert code == 0 and replayed["reproduced_runs"] == 3 and replayed["location"]["code"] == 0xC0000005


def test_explore_finds_the_shutdown_crash_a_clean_dll_session_did_not_hit(tmp_path, driver):
    dll = driver("free_with_open")  # clean when its instance is closed first; not when Windows ends
    calls = [(DRV_LOAD, 0, None), (DRV_ENABLE, 0, None), (DRV_OPEN, 0, None), (DRV_USER, RECORDED_ID, None),
             (DRV_CLOSE, RECORDED_ID, None), (DRV_DISABLE, 0, None), (DRV_FREE, 0, None)]
    results = learn(dll, calls)
    assert all(r.kind == "return" for r in results)
    db = tmp_path / "e.db"
    session = store_session(db, dll, calls, results)
    code, doc = drvtape(db, "explore", session, "--target", f"dll:{dll}", "--budget", "40", "--json")
    assert code == 0, doc
    crashes = [f for f in doc["findings"] if f["outcome"]["kind"] == "fault"]
    assert crashes and crashes[0]["outcome"]["msg_name"] == "DRV_FREE", doc
    assert crashes[0]["outcome"]["code"] == 0xC0000005
    code, replayed = drvtape(db, "replay", crashes[0]["session"], "--target", f"dll:{dll}", "--repeat", "3", "--json")
    assert code == 0 and replayed["reproduced_runs"] == 3 and replayed["location"]["msg_name"] == "DRV_FREE"
