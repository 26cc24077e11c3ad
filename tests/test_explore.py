"""explore: shutdown at every point, thread reorderings; distinct failures stored and replayable."""

import json
from importlib import resources

import pytest

from drvtape.cli.explore import parse_budget
from drvtape.errors import DrvtapeError
from drvtape.recorder.workload import load_workload, record_workload
from drvtape.replay import load_recording
from drvtape.replay.explore import FoundBy, candidates, explore, save_findings, windows_ending
from drvtape.replay.order import call_orders
from drvtape.replay.reorder import interleaving
from drvtape.runtime.targets import parse_target
from drvtape.schema.messages import message_name
from drvtape.store import Store


def recorded(bug: str, target: str, db: str):
    workload = load_workload(resources.files("drvtape") / "workloads" / f"{bug}.toml")
    result = record_workload(workload, parse_target(target), db)
    with Store.open(db) as store:
        return load_recording(store, result.session_id)


def names(calls) -> list[str]:
    return [message_name(c.msg) for c in calls]


def test_windows_ends_with_exitsession_to_each_open_instance_then_disable_and_free(tmp_path):
    recording = recorded("disable-with-open", "sim:reference", str(tmp_path / "e.db"))
    # LOAD ENABLE OPEN(a) OPEN(b) QUERYCONFIGURE ...
    ending = windows_ending(recording.calls[:5], thread=9, first_seq=100)
    assert names(ending) == ["DRV_EXITSESSION", "DRV_EXITSESSION", "DRV_DISABLE", "DRV_FREE"]
    assert [c.seq for c in ending] == [100, 101, 102, 103] and {c.thread for c in ending} == {9}
    assert ending[0].hdrvr == recording.calls[2].hdrvr and ending[1].hdrvr == recording.calls[3].hdrvr
    assert windows_ending([], thread=1, first_seq=1) == []
    assert names(windows_ending(recording.calls[:2], 1, 1)) == ["DRV_DISABLE", "DRV_FREE"]


def test_windows_ends_after_every_return_of_the_prefix(tmp_path):
    """The ending's calls come after the prefix's returns too, the last one's included: its
    first call waits for every prefix thread's last call (it did not, for the whole recording
    as prefix, whose last return had the seq the ending's first call was given)."""
    recording = recorded("exit-spin", "sim:reference", str(tmp_path / "e.db"))  # ends with an instance open
    assert windows_ending(recording.calls, 9, 100)
    for how, prefix, _seed, calls in candidates(recording, 0):
        if how is FoundBy.REORDER:
            break  # the prefixes come first; reorderings go on for ever
        if how is not FoundBy.SHUTDOWN:
            continue
        ending_first = call_orders(calls)[prefix]
        last = {c.thread: i for i, c in enumerate(calls[:prefix])}
        assert set(ending_first.after) == set(last.values()), prefix


def test_reorderings_keep_each_threads_order(tmp_path):
    recording = recorded("exit-spin", "sim:reference", str(tmp_path / "e.db"))
    seen = set()
    for seed in range(10):
        merged = interleaving(recording.calls, seed)
        assert [c.seq for c in merged] == list(range(1, len(merged) + 1))
        for thread in {c.thread for c in recording.calls}:
            assert [c.msg for c in merged if c.thread == thread] == [
                c.msg for c in recording.calls if c.thread == thread]
        seen.add(tuple(c.thread for c in merged))
    assert len(seen) > 1
    assert interleaving(recording.calls, 3) == interleaving(recording.calls, 3)


def test_a_shutdown_the_recording_did_not_hit_is_found_saved_and_replayed(tmp_path):
    db = str(tmp_path / "e.db")
    # recorded cleanly: the instance was closed on another thread only at the end
    recording = recorded("use-after-release", "sim:disable-with-open", db)
    assert recording.outcome.kind == "completed"
    target = parse_target("sim:disable-with-open")
    result = explore(recording, target, max_replays=50)
    assert result.replays == 15  # 8 prefixes x (process exit, and a Windows ending where loaded)
    [finding] = result.findings
    assert finding.how == "shutdown" and finding.prefix == 3 and finding.outcome.kind == "fault"
    assert names(finding.calls) == ["DRV_LOAD", "DRV_ENABLE", "DRV_OPEN", "DRV_EXITSESSION", "DRV_DISABLE",
                                    "DRV_FREE"]
    save_findings(result, target, db)
    assert finding.verified
    with Store.open(db) as store:
        header = store.resolve(finding.session_id).header
    assert header.origin == recording.header.id and header.source == "explore"


def test_failures_are_deduplicated_and_the_recorded_one_is_not_reported_as_new(tmp_path):
    recording = recorded("exit-spin", "sim:exit-spin", str(tmp_path / "e.db"))
    result = explore(recording, parse_target("sim:exit-spin"), max_replays=60, seed=7)
    assert result.replays == 60 and result.recorded_hit > 0
    fingerprints = [(f.outcome.kind, f.outcome.msg) for f in result.findings]
    assert len(fingerprints) == len(set(fingerprints))
    assert ("hang", recording.outcome.msg) not in fingerprints


def test_the_budget_in_seconds_stops_exploring(tmp_path):
    recording = recorded("exit-spin", "sim:reference", str(tmp_path / "e.db"))
    result = explore(recording, parse_target("sim:reference"), max_replays=None, seconds=0.3)
    assert result.seconds < 2 and result.replays > 0


@pytest.mark.parametrize("text, parsed", [("200", (200, None)), ("30s", (None, 30.0)), ("1.5s", (None, 1.5))])
def test_budget_parsing(text, parsed):
    assert parse_budget(text) == parsed


@pytest.mark.parametrize("text", ["", "0", "x", "-3", "2.5", "10m"])
def test_bad_budgets_are_refused(text):
    with pytest.raises(DrvtapeError):
        parse_budget(text)


def test_cli_explore(drvtape, tmp_path):
    db = tmp_path / "e.db"
    recording = recorded("use-after-release", "sim:disable-with-open", str(db))
    run = drvtape("--db", db, "explore", "last", "--target", "recorded", "--budget", "40", "--json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["session"] == str(recording.header.id) and doc["replays"] == 15
    [finding] = doc["findings"]
    assert finding["how"] == "shutdown" and finding["prefix"] == 3 and finding["verified"]
    assert drvtape("--db", db, "replay", finding["session"], "--target", "recorded").code == 0
    human = drvtape("--db", db, "explore", str(recording.header.id), "--target", "recorded", "--budget", "5s")
    assert human.code == 0 and "shutdown after 3 call(s)" in human.stdout
    bad = drvtape("--db", db, "explore", "last", "--target", "recorded", "--budget", "lots")
    assert bad.code == 2 and bad.stderr.count("\n") == 1
