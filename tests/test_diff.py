"""drvtape diff: two sessions aligned per thread lane with instance ids remapped."""

import json
from pathlib import Path

import pytest

from drvtape.analysis.diff import diff_recordings
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.events import EndReason
from drvtape.schema.messages import DRV_CLOSE, DRV_ENABLE, DRV_LOAD, DRV_OPEN, DRV_QUERYCONFIGURE, DRV_USER
from drvtape.schema.rows import event_to_row
from drvtape.schema.values import as_signed64

WORKLOADS = Path(__file__).resolve().parents[1] / "drvtape" / "workloads"


def session(tapes, *, thread: int, instance: int, hdrvr: int, user_result: int = 0, extra: bool = False,
            lparam: int = 5):
    """LOAD, ENABLE, OPEN on one thread, a DRV_USER on another, CLOSE: with the ids given."""
    tape = tapes.Tape(tapes.header(tapes.IDS["clean"]))
    tape.send(DRV_LOAD, 1, thread=thread, hdrvr=hdrvr)
    tape.send(DRV_ENABLE, 1, thread=thread, hdrvr=hdrvr)
    tape.send(DRV_OPEN, as_signed64(instance), thread=thread, hdrvr=hdrvr)  # an LRESULT: signed
    if extra:
        tape.send(DRV_QUERYCONFIGURE, 0, thread=thread + 1, driver_id=instance, hdrvr=hdrvr)
    tape.send(DRV_USER, user_result, thread=thread + 1, driver_id=instance, hdrvr=hdrvr, lparam1=lparam)
    tape.send(DRV_CLOSE, 1, thread=thread, driver_id=instance, hdrvr=hdrvr)
    tape.end(EndReason.CLOSED)
    return recording_from_rows(tape.header, [event_to_row(ev) for ev in tape.events])


def test_same_calls_with_other_thread_and_instance_ids_match(tapes):
    a = session(tapes, thread=0x10, instance=0x1234, hdrvr=0x7E10)
    b = session(tapes, thread=0x99, instance=0xFFFF_8000_0000_0001, hdrvr=0x5550)
    d = diff_recordings(a, b)
    assert d.equal and d.first is None and d.matching == 5


def test_a_different_result_is_the_first_divergence(tapes):
    d = diff_recordings(session(tapes, thread=1, instance=7, hdrvr=2),
                        session(tapes, thread=1, instance=8, hdrvr=3, user_result=-1))
    assert (d.first.what, d.first.seq_a, d.first.seq_b, d.first.a, d.first.b) == (
        "result", 7, 7, "0 (0x0)", "-1 (0xFFFFFFFFFFFFFFFF)")
    assert (d.matching, d.differing, d.count("only-in-a"), d.count("only-in-b")) == (4, 1, 0, 0)


def test_different_params_and_a_wrong_instance_id_differ(tapes):
    d = diff_recordings(session(tapes, thread=1, instance=7, hdrvr=2),
                        session(tapes, thread=1, instance=8, hdrvr=3, lparam=6))
    assert (d.first.what, d.first.seq_a) == ("params", 7)


def test_an_extra_call_is_only_in_one_side_and_the_rest_still_match(tapes):
    a = session(tapes, thread=1, instance=7, hdrvr=2)
    b = session(tapes, thread=1, instance=7, hdrvr=2, extra=True)
    d = diff_recordings(a, b)
    assert (d.first.what, d.first.seq_a, d.first.seq_b) == ("only-in-b", None, 7)
    assert (d.matching, d.differing, d.count("only-in-b")) == (5, 0, 1)
    back = diff_recordings(b, a)
    assert (back.first.what, back.first.seq_a, back.first.seq_b, back.count("only-in-a")) == ("only-in-a", 7, None, 1)


def test_a_faulted_call_differs_from_a_returned_one(tapes):
    d = diff_recordings(recording_from_rows(tapes.shutdown().header, [event_to_row(e) for e in tapes.shutdown().events]),
                        recording_from_rows(tapes.clean().header, [event_to_row(e) for e in tapes.clean().events]))
    assert not d.equal and d.outcome_a.kind == "fault" and d.outcome_b.kind == "completed"


# ---- on recorded sessions ---------------------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    return tmp_path / "s.db"


def record(drvtape, db, target: str, workload: str) -> str:
    run = drvtape("--db", db, "record", "--target", f"sim:{target}", "--workload", WORKLOADS / f"{workload}.toml")
    assert run.code == 0, run.stderr
    return run.stdout.split()[2].rstrip(":")


def test_the_same_workload_recorded_twice_diffs_as_equal(db, drvtape):
    """Two threads: OS thread ids differ between the recordings; the calls do not."""
    a, b = (record(drvtape, db, "reference", "thread-affinity") for _ in range(2))
    run = drvtape("--db", db, "diff", a, b, "--json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert (doc["equal"], doc["first"], doc["matching"], doc["differing"]) == (True, None, 7, 0)
    assert "the sessions match: 7 calls" in drvtape("--db", db, "diff", a, b).stdout


def test_the_buggy_driver_against_the_reference_diverges_at_the_fault(db, drvtape):
    buggy = record(drvtape, db, "disable-with-open", "disable-with-open")
    reference = record(drvtape, db, "reference", "disable-with-open")
    run = drvtape("--db", db, "diff", buggy, reference, "--json")
    assert run.code == 1
    doc = json.loads(run.stdout)
    assert (doc["first"]["what"], doc["first"]["seq_a"], doc["first"]["seq_b"]) == ("result", 17, 17)
    assert doc["first"]["a"].startswith("fault 0xC0000005") and doc["first"]["b"] == "1 (0x1)"
    assert (doc["matching"], doc["differing"], doc["only_in_a"], doc["only_in_b"]) == (8, 1, 0, 0)
    table = drvtape("--db", db, "diff", buggy, reference)
    assert table.code == 1 and "first divergence (result) on T0: A seq 17, B seq 17" in table.stdout


def test_exit_spin_against_the_reference_shows_what_the_hang_cut_off(db, drvtape):
    hung = record(drvtape, db, "exit-spin", "exit-spin")
    reference = record(drvtape, db, "reference", "exit-spin")
    doc = json.loads(drvtape("--db", db, "diff", hung, reference, "--json").stdout)
    # the pending DRV_OPEN was refused in the buggy run (the driver was exiting), opened in the reference
    assert (doc["first"]["what"], doc["first"]["seq_a"]) == ("result", 9)
    assert doc["only_in_b"] == 3 and doc["only_in_a"] == 0  # the DRV_EXITSESSION, DISABLE, FREE after the hang


def test_diff_bad_input(db, drvtape):
    record(drvtape, db, "reference", "thread-affinity")
    for args in (("last",), ("last", "nosuch"), ("zz", "last")):
        run = drvtape("--db", db, "diff", *args)
        assert run.code == 2 and run.stderr.startswith("drvtape: error: ") and run.stderr.count("\n") == 1
