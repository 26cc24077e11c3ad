"""Replay: the verdict, id remapping, the schedule, targets, and the CLI contract."""

import json
import os
import subprocess
import sys
import textwrap
from importlib import resources

import pytest

from drvtape.present.text import outcome_text
from drvtape.recorder.workload import parse_workload, record_workload
from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.store import Store

BUGS = {  # bug -> (replayed outcome, first divergence against sim:reference)
    "exit-spin": ("hang", "DRV_OPEN"),
    "use-after-release": ("fault", "DRV_CLOSE"),
    "disable-with-open": ("fault", "DRV_FREE"),
    "thread-affinity": ("fault", "DRV_CLOSE"),
}


def record_bundled(db, bug):
    text = (resources.files("drvtape") / "workloads" / f"{bug}.toml").read_text()
    result = record_workload(parse_workload(text, bug), parse_target(f"sim:{bug}"), db)
    with Store.open(db) as store:
        return load_recording(store, result.session_id)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_reproduces_5_of_5_and_the_reference_driver_diverges(tmp_path, bug):
    recording = record_bundled(tmp_path / "r.db", bug)
    kind, divergence_msg = BUGS[bug]
    report = replay_recording(recording, parse_target(f"sim:{bug}"), repeat=5)
    assert report.reproduced and report.reproduced_runs == 5
    assert all(o.kind == kind and o.seq == recording.outcome.seq for o in report.runs)
    if kind == "fault":
        assert report.runs[0].code == 0xC0000005 and report.runs[0].module == f"sim:{bug}"
    against_reference = replay_recording(recording, parse_target("sim:reference"))
    assert not against_reference.reproduced
    first = against_reference.first_divergence
    assert first is not None and first.seq <= recording.outcome.seq
    from drvtape.schema.messages import message_name

    assert message_name(first.msg) == divergence_msg


@pytest.mark.parametrize("bug", ["exit-spin", "thread-affinity"])
def test_two_thread_bugs_need_thread_faithful_replay(tmp_path, bug):
    recording = record_bundled(tmp_path / "r.db", bug)
    assert recording.threads >= 2
    assert not replay_recording(recording, parse_target(f"sim:{bug}"), threads="serial").reproduced
    assert replay_recording(recording, parse_target(f"sim:{bug}"), threads="faithful").reproduced


def write_module(tmp_path, name, body):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    sys.path.insert(0, str(tmp_path))


RANDOM_IDS = """
    import random
    class Driver:
        def __init__(self):
            self.open = set()
        def __call__(self, driver_id, hdrvr, msg, lparam1, lparam2):
            if msg == 3:
                new = random.randrange(1, 1 << 64)
                self.open.add(new)
                return new
            if msg == 4:
                return 1 if driver_id in self.open else 0
            if msg >= 0x4000:
                return 10 if driver_id in self.open else -1
            return 1
"""


def test_driver_ids_are_remapped_from_run_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_module(tmp_path, "randomids", RANDOM_IDS)
    wl = "\n".join([
        '[[steps]]\naction = "open"\ninstance = "a"',
        '[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_USER"',
        '[[steps]]\naction = "close"\ninstance = "a"'])
    result = record_workload(parse_workload(wl, "w"), parse_target("py:randomids:Driver"), tmp_path / "r.db")
    with Store.open(tmp_path / "r.db") as store:
        recording = load_recording(store, result.session_id)
    report = replay_recording(recording, parse_target("py:randomids:Driver"), repeat=3)
    assert report.reproduced, [outcome_text(o) for o in report.runs]


def test_a_python_driver_that_never_returns_is_a_hang_after_the_timeout(tmp_path):
    write_module(tmp_path, "stuck", """
        import threading
        def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):
            if msg == 0xB:
                threading.Event().wait(60)
            return 1 if msg != 3 else 0x55
    """)
    wl = '[[steps]]\naction = "open"\ninstance = "a"\n[[steps]]\naction = "shutdown"\n'
    result = record_workload(parse_workload(wl, "w"), parse_target("py:stuck:DriverProc"), tmp_path / "r.db",
                             timeout=0.3)
    assert result.ending.reason.value == "hang"
    with Store.open(tmp_path / "r.db") as store:
        recording = load_recording(store, result.session_id)
    assert recording.outcome.kind == "hang"
    report = replay_recording(recording, parse_target("py:stuck:DriverProc"), timeout=0.3)
    assert report.reproduced and report.runs[0].seq == result.ending.call_seq


def drvtape(*args, db):
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True)


def test_replay_cli_exit_codes_and_json(tmp_path):
    db = tmp_path / "r.db"
    record_bundled(db, "use-after-release")
    ok = drvtape("replay", "last", "--target", "recorded", "--repeat", "3", "--json", db=db)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["reproduced"] is True and doc["runs"] == 3 and doc["reproduced_runs"] == 3
    assert doc["outcome"]["kind"] == "fault" and doc["location"]["msg_name"] == "DRV_CLOSE"
    assert doc["outcome"]["code"] == 0xC0000005
    no = drvtape("replay", "last", "--target", "sim:reference", "--json", db=db)
    assert no.returncode == 1
    assert json.loads(no.stdout)["first_divergence"]["msg_name"] == "DRV_CLOSE"
    for bad in (["replay", "last", "--target", "sim:nope"], ["replay", "last", "--target", "teapot"],
                ["replay", "ffffffff"], ["replay", "last", "--repeat", "0"],
                ["replay", "last", "--target", "dll:/no/such.dll"]):
        proc = drvtape(*bad, db=db)
        assert proc.returncode == 2, (bad, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr


FLAKY = """
    import pathlib
    def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):
        if msg == 0x4000:  # every third run (counted in a file) answers differently
            runs = pathlib.Path("runs.txt")
            n = int(runs.read_text()) + 1 if runs.exists() else 0
            runs.write_text(str(n))
            return 2 if n % 3 == 2 else 1
        return 1 if msg != 3 else 0x55
"""


def test_repeat_reports_each_distinct_outcome_with_its_count(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_module(tmp_path, "flaky", FLAKY)
    wl = '[[steps]]\naction = "open"\ninstance = "a"\n[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_USER"'
    record_workload(parse_workload(wl, "w"), parse_target("py:flaky:DriverProc"), tmp_path / "r.db")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def replay(*args):
        return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tmp_path / "r.db"), "replay", "last",
                               "--target", "py:flaky:DriverProc", *args], capture_output=True, text=True, env=env)

    run = replay("--repeat", "6", "--json")
    assert run.returncode == 1, run.stderr
    distinct = json.loads(run.stdout)["distinct_outcomes"]
    assert sorted((d["outcome"]["kind"], d["runs"]) for d in distinct) == [("completed", 4), ("diverged", 2)]
    table = replay("--repeat", "3").stdout
    assert "[2 of 3 runs]" in table and "[1 of 3 runs]" in table
