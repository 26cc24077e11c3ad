"""drvtape lint: each rule fires on a minimal session that breaks it and not on one that keeps it."""

import json
from pathlib import Path

import pytest

from drvtape.analysis.lint import RULES, has_errors, lint_rows, select_rules
from drvtape.errors import DrvtapeError
from drvtape.schema.events import EndReason
from drvtape.schema.messages import (
    DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD, DRV_OPEN, DRV_USER,
)
from drvtape.schema.rows import event_to_row
from drvtape.store import Store

WORKLOADS = Path(__file__).resolve().parents[1] / "drvtape" / "workloads"
ID = 0x1234


def fired(tape, rule: str) -> list[int]:
    """The seqs where one rule fires."""
    return [f.seq for f in lint_rows([event_to_row(ev) for ev in tape.events], select_rules([rule]))]


def started(tapes, *, enable: bool = True):
    tape = tapes.Tape(tapes.header(tapes.IDS["clean"]))
    tape.send(DRV_LOAD, 1)
    if enable:
        tape.send(DRV_ENABLE, 1)
    return tape


def closed_properly(tape) -> None:
    tape.send(DRV_CLOSE, 1, driver_id=ID)
    tape.send(DRV_DISABLE, 1, driver_id=ID)
    tape.send(DRV_FREE, 1, driver_id=ID)
    tape.end(EndReason.CLOSED)


def test_the_clean_lifecycle_has_no_findings(tapes):
    assert lint_rows([event_to_row(ev) for ev in tapes.clean().events]) == []


def test_open_before_load(tapes):
    tape = tapes.Tape(tapes.header(tapes.IDS["clean"]))
    opened = tape.send(DRV_OPEN, ID)
    assert fired(tape, "open-before-load") == [opened]
    no_enable = started(tapes, enable=False)
    opened = no_enable.send(DRV_OPEN, ID)
    assert fired(no_enable, "open-before-load") == [opened]
    ok = started(tapes)
    ok.send(DRV_OPEN, ID)
    assert fired(ok, "open-before-load") == []


def test_message_to_unopened_instance(tapes):
    tape = started(tapes)
    tape.send(DRV_OPEN, 0, hdrvr=0x20)  # refused
    sent = tape.send(DRV_USER, 0, driver_id=0x99, hdrvr=0x20)
    assert fired(tape, "message-to-unopened-instance") == [sent]
    ok = started(tapes)
    ok.send(DRV_OPEN, ID)
    ok.send(DRV_USER, 0, driver_id=ID)
    assert fired(ok, "message-to-unopened-instance") == []


def test_message_to_closed_instance(tapes):
    tape = started(tapes)
    tape.send(DRV_OPEN, ID)
    tape.send(DRV_CLOSE, 1, driver_id=ID)
    sent = tape.send(DRV_USER + 1, 0, driver_id=ID)
    assert fired(tape, "message-to-closed-instance") == [sent]
    assert fired(tape, "message-to-unopened-instance") == []  # one finding per cause
    ok = started(tapes)
    ok.send(DRV_OPEN, ID)
    ok.send(DRV_USER + 1, 0, driver_id=ID)
    closed_properly(ok)
    assert fired(ok, "message-to-closed-instance") == []


def test_disable_with_open_instances(tapes):
    tape = started(tapes)
    tape.send(DRV_OPEN, ID)
    disable = tape.send(DRV_DISABLE, 1, driver_id=ID)
    free = tape.send(DRV_FREE, 1, driver_id=ID)
    assert fired(tape, "disable-with-open-instances") == [disable, free]
    assert fired(tapes.clean(), "disable-with-open-instances") == []
    # the Windows shutdown order: what the driver must survive, not what it did wrong
    assert not has_errors(lint_rows([event_to_row(ev) for ev in tape.events]))


def test_close_after_shutdown_is_a_warning_and_other_messages_after_free_errors(tapes):
    tape = started(tapes)
    opened = tape.send(DRV_OPEN, ID)
    tape.send(DRV_DISABLE, 1, driver_id=ID)
    tape.send(DRV_FREE, 1, driver_id=ID)
    closing = tape.send(DRV_CLOSE, 1, driver_id=ID)
    [finding] = lint_rows([event_to_row(ev) for ev in tape.events], select_rules(["close-after-shutdown"]))
    assert (finding.seq, finding.related, finding.rule.severity) == (closing, (opened,), "warning")
    assert fired(tape, "message-after-free") == []
    late = tape.send(DRV_CLOSE, 1, driver_id=ID)  # closed already: that one is an error
    assert fired(tape, "message-after-free") == [late] and fired(tape, "close-after-shutdown") == [closing]


def test_message_after_free_until_a_new_load(tapes):
    tape = tapes.clean()
    tape.events.pop()  # its end
    late = tape.send(DRV_USER, 0, driver_id=ID)
    assert fired(tape, "message-after-free") == [late]
    tape.send(DRV_LOAD, 1)
    tape.send(DRV_ENABLE, 1)
    assert fired(tape, "message-after-free") == [late]
    assert fired(tapes.clean(), "message-after-free") == []


def test_exitsession_with_open_instance_is_a_warning(tapes):
    tape = started(tapes)
    opened = tape.send(DRV_OPEN, ID)
    exiting = tape.send(DRV_EXITSESSION, 0, driver_id=ID)
    [finding] = lint_rows([event_to_row(ev) for ev in tape.events], select_rules(["exitsession-with-open-instance"]))
    assert (finding.seq, finding.related, finding.rule.severity) == (exiting, (opened,), "warning")
    ok = started(tapes)
    ok.send(DRV_OPEN, ID)
    closed_properly(ok)
    assert fired(ok, "exitsession-with-open-instance") == []


def test_exitsession_with_calls_in_flight(tapes):
    hang = tapes.hang()  # T1 inside DRV_OPEN (5) when T0 sends DRV_EXITSESSION (6)
    assert fired(hang, "exitsession-with-calls-in-flight") == [6]
    ok = started(tapes)
    ok.send(DRV_OPEN, ID, thread=tapes.T1)
    ok.send(DRV_EXITSESSION, 0, driver_id=ID)
    assert fired(ok, "exitsession-with-calls-in-flight") == []


def test_close_on_other_thread(tapes):
    tape = started(tapes)
    tape.send(DRV_OPEN, ID, thread=tapes.T1)
    closing = tape.send(DRV_CLOSE, 1, driver_id=ID)
    assert fired(tape, "close-on-other-thread") == [closing]
    assert fired(tapes.clean(), "close-on-other-thread") == []


def test_session_ends_with_open_instances(tapes):
    tape = started(tapes)
    tape.send(DRV_OPEN, ID)
    end = tape.end(EndReason.PROCESS_EXIT)
    assert fired(tape, "session-ends-with-open-instances") == [end]
    # after DRV_FREE the leftover instances are disable-with-open-instances' finding, not this one
    assert fired(tapes.shutdown(), "session-ends-with-open-instances") == []
    assert fired(tapes.clean(), "session-ends-with-open-instances") == []


def test_call_without_return_reports_the_hang_and_the_fault(tapes):
    assert fired(tapes.hang(), "call-without-return") == [5, 6]
    details = [f.detail for f in lint_rows([event_to_row(ev) for ev in tapes.hang().events],
                                           select_rules(["call-without-return"]))]
    assert details[1] == "DRV_EXITSESSION never returned: the session ended as a hang here"
    assert fired(tapes.shutdown(), "call-without-return") == [14]  # the DRV_FREE that faulted
    assert fired(tapes.clean(), "call-without-return") == []


def test_rule_ids_are_unique_and_unknown_ones_are_refused():
    assert len({r.id for r in RULES}) == len(RULES) and {r.severity for r in RULES} == {"error", "warning"}
    with pytest.raises(DrvtapeError):
        select_rules(["no-such-rule"])


# ---- on recorded sessions ---------------------------------------------------------------------


@pytest.fixture
def recorded(tmp_path, drvtape):
    """Each bundled workload recorded against its buggy driver and against sim:reference."""
    db = tmp_path / "s.db"
    ids = {}
    for workload in sorted(WORKLOADS.glob("*.toml")):
        for target in (workload.stem, "reference"):
            run = drvtape("--db", db, "record", "--target", f"sim:{target}", "--workload", workload)
            assert run.code == 0, run.stderr
            with Store.open(str(db)) as store:
                ids[workload.stem, target] = str(store.resolve("last").header.id)
    return db, ids


def lint_json(drvtape, db, *args):
    run = drvtape("--db", db, "lint", "--json", *args)
    assert run.code in (0, 1), run.stderr
    return run.code, json.loads(run.stdout)


def findings(doc) -> list[tuple[int, str]]:
    return [(f["seq"], f["rule"]) for s in doc["sessions"] for f in s["findings"]]


def test_disable_with_open_fires_at_the_drv_disable(recorded, drvtape):
    db, ids = recorded
    code, doc = lint_json(drvtape, db, ids["disable-with-open", "disable-with-open"])
    assert code == 1
    assert findings(doc) == [(11, "exitsession-with-open-instance"), (13, "exitsession-with-open-instance"),
                             (15, "disable-with-open-instances"), (17, "disable-with-open-instances"),
                             (17, "call-without-return")]
    assert doc["sessions"][0]["findings"][2]["related"] == [5, 7]  # the two DRV_OPENs never closed


def test_the_reference_driver_gets_the_same_protocol_findings(recorded, drvtape):
    """Same workload, same messages: lint differs only where the buggy driver faulted or hung."""
    db, ids = recorded
    for bug in ("disable-with-open", "use-after-release", "thread-affinity"):
        _, buggy = lint_json(drvtape, db, ids[bug, bug])
        _, reference = lint_json(drvtape, db, ids[bug, "reference"])
        assert [f for f in findings(buggy) if f[1] != "call-without-return"] == findings(reference)
        assert [rule for _, rule in findings(buggy) if rule == "call-without-return"] == ["call-without-return"]


def test_exit_spin_is_an_exitsession_while_an_open_is_pending(recorded, drvtape):
    db, ids = recorded
    _, doc = lint_json(drvtape, db, ids["exit-spin", "exit-spin"])
    assert findings(doc) == [(10, "exitsession-with-open-instance"), (10, "exitsession-with-calls-in-flight"),
                             (10, "call-without-return")]
    assert doc["sessions"][0]["findings"][1]["related"] == [9]  # the DRV_OPEN still pending


def test_which_sessions_got_exitsession_with_an_instance_open(recorded, drvtape):
    db, ids = recorded
    code, doc = lint_json(drvtape, db, "--all", "--rule", "exitsession-with-open-instance")
    assert code == 0  # a warning only
    expected = {ids[w, t] for w in ("disable-with-open", "exit-spin", "use-after-release") for t in (w, "reference")}
    assert {s["session"] for s in doc["sessions"]} == expected and doc["linted"] == 8
    table = drvtape("--db", db, "lint", "--all", "--rule", "exitsession-with-open-instance")
    assert table.code == 0 and "6 of 8 session(s) with findings" in table.stdout


def test_a_correct_driver_lints_clean_on_every_bundled_workload(recorded, drvtape):
    """sim:reference gets what the system sends (shutdown with instances open ...): warnings only."""
    db, ids = recorded
    run = drvtape("--db", db, "lint", *[ids[w.stem, "reference"] for w in sorted(WORKLOADS.glob("*.toml"))])
    assert run.code == 0, run.stdout
    code, doc = lint_json(drvtape, db, *[ids[w.stem, "reference"] for w in sorted(WORKLOADS.glob("*.toml"))])
    assert code == 0 and {f["severity"] for s in doc["sessions"] for f in s["findings"]} == {"warning"}


def test_lint_cli_bad_input_and_rules(recorded, drvtape):
    db, ids = recorded
    for args in ((), ("--all", ids["exit-spin", "reference"]), ("--all", "--rule", "nope"), ("nosuch",)):
        run = drvtape("--db", db, "lint", *args)
        assert run.code == 2 and run.stderr.startswith("drvtape: error: ") and run.stderr.count("\n") == 1
    rules = drvtape("lint", "--rules", "--json")
    assert rules.code == 0 and [r["rule"] for r in json.loads(rules.stdout)] == [r.id for r in RULES]
    assert not has_errors([])
