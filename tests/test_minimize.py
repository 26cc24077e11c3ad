"""minimize: ddmin over a session's calls, well-formed candidates, the result stored and replayable."""

import json

import pytest

from drvtape.recorder.workload import Workload, record_workload
from drvtape.replay import load_recording
from drvtape.replay.derive import replays_as_stored, save_derived
from drvtape.replay.minimize import minimize, structure
from drvtape.runtime.targets import parse_target
from drvtape.schema.messages import message_name
from drvtape.store import Store

# The steps of each bundled workload (drvtape/workloads/*.toml) that meet the bug.
BUG_STEPS = {
    "exit-spin": [dict(action="open", instance="playback", lparam1="wave", thread="app"),
                  dict(action="send", instance="playback", msg="DRV_USER+1", lparam1=44100, thread="app"),
                  dict(action="open", instance="capture", thread="app"),
                  dict(action="shutdown", thread="logoff"),
                  dict(action="close", instance="playback", thread="app")],
    "use-after-release": [dict(action="open", instance="mixer", lparam1="wave"),
                          dict(action="send", instance="mixer", msg="DRV_USER+1", lparam1=5, lparam2=6),
                          dict(action="send", instance="mixer", msg="DRV_EXITSESSION"),
                          dict(action="close", instance="mixer")],
    "disable-with-open": [dict(action="open", instance="a"), dict(action="open", instance="b"),
                          dict(action="send", instance="b", msg="DRV_QUERYCONFIGURE"), dict(action="shutdown")],
    "thread-affinity": [dict(action="open", instance="codec", thread="app"),
                        dict(action="send", instance="codec", msg="DRV_USER+2", thread="app"),
                        dict(action="close", instance="codec", thread="shutdown")],
}

# (thread, message) of the known minimal sequences; threads numbered in order of first appearance.
MINIMAL = {
    # an open still pending (the second) when DRV_EXITSESSION reaches the first instance
    "exit-spin": [(0, "DRV_LOAD"), (0, "DRV_ENABLE"), (0, "DRV_OPEN"), (0, "DRV_OPEN"), (1, "DRV_EXITSESSION")],
    "use-after-release": [(0, "DRV_LOAD"), (0, "DRV_ENABLE"), (0, "DRV_OPEN"), (0, "DRV_EXITSESSION"),
                          (0, "DRV_CLOSE")],
    "disable-with-open": [(0, "DRV_LOAD"), (0, "DRV_ENABLE"), (0, "DRV_OPEN"), (0, "DRV_DISABLE"),
                          (0, "DRV_FREE")],
    "thread-affinity": [(0, "DRV_LOAD"), (0, "DRV_ENABLE"), (0, "DRV_OPEN"), (1, "DRV_CLOSE")],
}


def noisy_workload(bug: str, pad: int) -> Workload:
    """Twelve instances opened, used and closed (on the bug's opening threads, so the driver is
    unloaded and reloaded between them) before the bug's own steps; `pad` more sends."""
    bug_steps = BUG_STEPS[bug]
    threads = sorted({s.get("thread", "main") for s in bug_steps if s["action"] == "open"})
    steps = []
    for i in range(12):
        thread, name = threads[i % len(threads)], f"noise{i}"
        steps.append(dict(action="open", instance=name, thread=thread))
        for k in range(3 + (pad if i == 0 else 0)):
            steps.append(dict(action="send", instance=name, msg=f"DRV_USER+{k % 50 + 3}", lparam1=k, thread=thread))
        if i % 3 == 0:
            steps.append(dict(action="send", instance=name, msg="DRV_QUERYCONFIGURE", thread=thread))
        steps.append(dict(action="close", instance=name, thread=thread))
    return Workload.model_validate({"steps": steps + bug_steps})


def record_noisy(bug: str, db: str, calls: int = 200):
    target = parse_target(f"sim:{bug}")
    first = record_workload(noisy_workload(bug, 0), target, db)
    with Store.open(db) as store:
        short = len(load_recording(store, first.session_id).calls)
    result = record_workload(noisy_workload(bug, calls - short), target, db)
    with Store.open(db) as store:
        return load_recording(store, result.session_id)


@pytest.mark.parametrize("bug", sorted(MINIMAL))
def test_a_200_message_session_shrinks_to_the_known_minimal_sequence(bug, tmp_path):
    db = str(tmp_path / "m.db")
    recording = record_noisy(bug, db)
    assert len(recording.calls) == 200
    target = parse_target(f"sim:{bug}")
    result = minimize(recording, target)
    assert [(c.thread, message_name(c.msg)) for c in result.calls] == MINIMAL[bug]
    assert result.replays <= 300 and not result.exhausted
    assert result.calls[-1].seq == recording.outcome.seq or recording.outcome.kind == "hang"

    session_id = save_derived(recording, result.calls, target, db, source="minimize")
    with Store.open(db) as store:
        saved = store.resolve(session_id).header
        stored = load_recording(store, session_id)
    assert stored.outcome.kind == recording.outcome.kind
    assert saved.origin == recording.header.id and saved.source == "minimize"
    assert [(c.thread, message_name(c.msg)) for c in stored.calls] == MINIMAL[bug]
    assert replays_as_stored(db, session_id, target, repeat=3)


def test_removing_an_open_removes_what_was_sent_to_its_instance(tmp_path):
    recording = record_noisy("disable-with-open", str(tmp_path / "m.db"), calls=120)
    shape = structure(recording)
    by_seq = {c.seq: c for c in recording.calls}
    opens = [a for a in shape.atoms if len(a) == 1 and message_name(by_seq[a[0]].msg) == "DRV_OPEN"]
    dropped = opens[0][0]
    kept = shape.closure([a for a in shape.atoms if a != opens[0]])
    gone = {c.seq for c in recording.calls} - kept
    assert dropped in gone and len(gone) > 1
    assert all(by_seq[s].hdrvr == by_seq[dropped].hdrvr for s in gone)
    # the mid-session unload and reload go as one piece; the outer bracket stays
    reloads = [a for a in shape.atoms if len(a) > 1]
    assert reloads and all([message_name(by_seq[s].msg) for s in a] ==
                           ["DRV_DISABLE", "DRV_FREE", "DRV_LOAD", "DRV_ENABLE"] for a in reloads)
    assert [message_name(by_seq[s].msg) for s in sorted(shape.fixed)] == [
        "DRV_LOAD", "DRV_ENABLE", "DRV_DISABLE", "DRV_FREE"]


def test_a_python_target_accepts_a_candidate_only_when_every_repeat_reproduces(tmp_path):
    db = str(tmp_path / "m.db")
    recording = record_noisy("use-after-release", db, calls=60)
    target = parse_target("py:drvtape.runtime.sim.bugs:UseAfterReleaseDriver")
    runs = []
    result = minimize(recording, target, repeat=3, on_replay=runs.append)
    assert [message_name(c.msg) for c in result.calls] == [m for _, m in MINIMAL["use-after-release"]]
    # a rejected candidate stops at its first failing run; an accepted one takes all three
    assert result.replays == len(runs) and result.candidates < result.replays < 3 * result.candidates
    session_id = save_derived(recording, result.calls, target, db, source="minimize")
    assert replays_as_stored(db, session_id, target, repeat=3)


def test_the_budget_stops_with_the_smallest_session_found(tmp_path):
    recording = record_noisy("use-after-release", str(tmp_path / "m.db"), calls=120)
    result = minimize(recording, parse_target("sim:use-after-release"), max_replays=4)
    assert result.exhausted and result.replays <= 4
    assert len(result.calls) < len(recording.calls)


def test_cli_minimize(drvtape, tmp_path):
    db = tmp_path / "m.db"
    recording = record_noisy("thread-affinity", str(db), calls=150)
    run = drvtape("--db", db, "minimize", "last", "--target", "recorded", "--json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["before"]["calls"] == 150 and doc["after"]["calls"] == 4 and doc["verified"]
    assert doc["session"] == str(recording.header.id)
    run = drvtape("--db", db, "replay", doc["minimized"], "--target", "recorded")
    assert run.code == 0, run.stdout
    human = drvtape("--db", db, "minimize", str(recording.header.id)[:8], "--target", "sim:thread-affinity")
    assert human.code == 0 and "before: 150 calls" in human.stdout and "after: 4 calls" in human.stdout


def test_cli_minimize_refuses_what_it_cannot_minimize(drvtape, tape_db):
    clean = drvtape("--db", tape_db, "minimize", "bbbb0003", "--target", "sim:reference")
    assert clean.code == 2 and clean.stderr.count("\n") == 1 and "ended completed" in clean.stderr
    other = drvtape("--db", tape_db, "minimize", "aaaa0001", "--target", "sim:reference")
    assert other.code == 2 and "nothing to minimize" in other.stderr
    assert drvtape("--db", tape_db, "minimize", "nope", "--target", "sim:reference").code == 2
