"""`drvtape tap run` (issue 11, item 5): one command installs the tap, runs the program under
Wine, uninstalls (also when the program crashed or drvtape was interrupted) and stores the
sessions; the session replays 5 of 5 against the real DLL."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from drvtape.dllhost import wine
from drvtape.recorder.aliasplaces import registry
from drvtape.recorder.tapinstall import state_folder



@pytest.fixture
def alias(host, request):
    name = f"drvtap.r{os.getpid()}.{request.node.name[-10:]}"
    yield name
    assert registry().get(name) is None, "tap run left its alias installed"
    assert not (state_folder(name) / "install.json").exists()


def drvtape(db, *args, **popen):
    command = [sys.executable, "-m", "drvtape", "--db", str(db), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(db.parent)  # the run's tape folder is made there
    if popen:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                **popen)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_tap_run_records_a_client_and_the_session_replays_5_of_5(tmp_path, client, driver, alias):
    real = driver("thread_affinity")
    db = tmp_path / "r.db"
    run = drvtape(db, "tap", "run", "--alias", alias, "--real", real, "--json", "--", str(client), alias, "77", "88")
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert f"in Wine prefix {wine.prefix_dir()}" in run.stderr
    doc = json.loads(run.stdout)
    assert doc["ingested"] == 1
    (session,) = doc["tapes"][0]["sessions"]
    assert session["end_reason"] == "closed" and session["calls"] > 0
    replayed = drvtape(db, "replay", session["session"], "--target", f"dll:{real}", "--repeat", "5", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["reproduced_runs"] == 5


def test_a_crashing_program_is_recorded_and_the_alias_uninstalled(tmp_path, client, driver, alias):
    run = drvtape(tmp_path / "c.db", "tap", "run", "--alias", alias, "--real", driver("use_after_release"), "--json",
                  "--", str(client), alias, "crash")
    assert run.returncode != 0, (run.stdout, run.stderr)
    (session,) = json.loads(run.stdout)["tapes"][0]["sessions"]
    assert session["end_reason"] == "crash"


def test_sigterm_stops_the_program_uninstalls_and_keeps_what_was_recorded(tmp_path, client, driver, alias):
    proc = drvtape(tmp_path / "s.db", "tap", "run", "--alias", alias, "--real", driver("thread_affinity"), "--json",
                   "--", str(client), alias, "stream", start_new_session=True)
    deadline = time.monotonic() + 120
    tapes = tmp_path.glob("drvtape-taprun-*/*.drvtape")
    while not any(t.stat().st_size for t in tapes) and time.monotonic() < deadline:
        time.sleep(0.2)
        tapes = tmp_path.glob("drvtape-taprun-*/*.drvtape")
    time.sleep(1)  # the client streams messages meanwhile
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted (SIGTERM)" in stderr
    (session,) = json.loads(stdout)["tapes"][0]["sessions"]
    assert session["calls"] > 10
