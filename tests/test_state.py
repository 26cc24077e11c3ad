"""drvtape state: the driver's state folded from a session, at any seq."""

import json
from pathlib import Path

import pytest

from drvtape.analysis.state import fold
from drvtape.schema.messages import DRV_CLOSE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD, DRV_OPEN
from drvtape.schema.rows import event_to_row

WORKLOADS = Path(__file__).resolve().parents[1] / "drvtape" / "workloads"


def rows(tape):
    return [event_to_row(ev) for ev in tape.events]


def test_lifecycle_flags_follow_load_enable_disable_free(tapes):
    tape = tapes.clean()  # LOAD 1, ENABLE 3, OPEN 5, CLOSE 7, DISABLE 9, FREE 11
    assert (fold(rows(tape), 0).loaded, fold(rows(tape), 2).loaded) == (False, True)
    at_open = fold(rows(tape), 6)
    assert at_open.enabled and [(i.driver_id, i.seq) for i in at_open.instances] == [(tapes.INSTANCE, 5)]
    assert fold(rows(tape), 7).instances == ()  # closed when DRV_CLOSE is sent: its result is ignored
    end = fold(rows(tape))
    assert (end.loaded, end.enabled, end.freed, end.in_flight) == (False, False, True, ())


def test_a_refused_load_or_open_leaves_nothing(tapes):
    tape = tapes.Tape(tapes.header(tapes.IDS["clean"]))
    tape.send(DRV_LOAD, 0)
    assert not fold(rows(tape)).loaded
    tape.send(DRV_LOAD, 1)
    tape.send(DRV_ENABLE, 1)
    tape.send(DRV_OPEN, 0)
    assert fold(rows(tape)).instances == ()


def test_calls_in_flight_and_last_message_per_thread(tapes):
    state = fold(rows(tapes.hang()))  # T1 inside DRV_OPEN (5) when T0's DRV_EXITSESSION (6) hangs
    assert [(c.seq, c.msg, c.thread) for c in state.in_flight] == [(5, DRV_OPEN, tapes.T1), (6, DRV_EXITSESSION, tapes.T0)]
    assert {t: (m.seq, m.status) for t, m in state.last.items()} == {tapes.T0: (6, "in flight"),
                                                                     tapes.T1: (5, "in flight")}
    opening = fold(rows(tapes.shutdown()), 6)
    assert opening.last[tapes.T1].status == "returned" and opening.last[tapes.T1].result == tapes.INSTANCE


def test_a_faulted_call_is_not_in_flight(tapes):
    state = fold(rows(tapes.shutdown()))
    assert state.in_flight == () and state.last[tapes.T0].status == "faulted"


def test_instances_are_known_by_handle_when_ids_are_shared(tapes):
    """Wine gives every instance of some drivers the same dwDriverId (domain.md): close one, the other stays."""
    tape = tapes.Tape(tapes.header(tapes.IDS["clean"]))
    tape.send(DRV_LOAD, 1)
    tape.send(DRV_ENABLE, 1)
    tape.send(DRV_OPEN, 0x1234, hdrvr=0x10)
    tape.send(DRV_OPEN, 0x1234, hdrvr=0x20)
    tape.send(DRV_CLOSE, 1, driver_id=0x1234, hdrvr=0x10)
    assert [i.hdrvr for i in fold(rows(tape)).instances] == [0x20]


@pytest.fixture
def disable_with_open(tmp_path, drvtape):
    db = tmp_path / "s.db"
    run = drvtape("--db", db, "record", "--target", "sim:disable-with-open",
                  "--workload", WORKLOADS / "disable-with-open.toml")
    assert run.code == 0, run.stderr
    return db


def test_state_at_the_failing_drv_free_shows_both_instances_open(disable_with_open, drvtape):
    run = drvtape("--db", disable_with_open, "state", "last", "--at", 17, "--json")  # 17: the DRV_FREE that faults
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert (doc["at"], doc["loaded"], doc["freed"]) == (17, False, True)
    assert [(i["driver_id"], i["opened_seq"], i["thread"]) for i in doc["instances"]] == [(0x1001, 5, "T0"),
                                                                                         (0x1002, 7, "T0")]
    assert [c["msg_name"] for c in doc["in_flight"]] == ["DRV_FREE"]
    assert doc["last"] == [{"thread": "T0", "thread_id": doc["last"][0]["thread_id"], "seq": 17, "msg": DRV_FREE,
                            "msg_name": "DRV_FREE", "status": "in flight", "result": None}]


def test_state_table_and_bad_input(disable_with_open, drvtape):
    run = drvtape("--db", disable_with_open, "state", "last", "--at", 15)
    assert run.code == 0 and "at seq 15: loaded yes, enabled no, freed no" in run.stdout  # DRV_DISABLE sent
    assert "DRV_DISABLE" in run.stdout and "0x1002" in run.stdout
    for args in (("--at", 999), ("--at", 0), ("--at", "x")):
        bad = drvtape("--db", disable_with_open, "state", "last", *args)
        assert bad.code == 2 and bad.stderr.startswith("drvtape: error: ") and bad.stderr.count("\n") == 1
    assert drvtape("--db", disable_with_open, "state", "nosuch").code == 2

