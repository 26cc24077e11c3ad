"""Workload files: the format's errors say the line; each action sends what the system would."""

import hashlib
import subprocess
import sys

import pytest

from drvtape.errors import DrvtapeError
from drvtape.recorder.ending import ending_of
from drvtape.recorder.workload import parse_workload, record_workload
from drvtape.runtime.schedule import ScheduleOutcome, StopRun, Unit
from drvtape.runtime.targets import parse_target
from drvtape.schema.events import Ending, EndReason
from drvtape.schema.messages import message_name
from drvtape.schema.outcome import OutcomeKind
from drvtape.store import Store


def recorded(db, text, target="sim:reference", **options):
    result = record_workload(parse_workload(text, "w.toml"), parse_target(target), db, **options)
    store = Store.open(db)
    events = store.events(store.resolve(result.session_id).pk)
    store.close()
    return result, events


def calls(events):
    return [message_name(e.msg) for e in events if e.kind == "call"]


OPEN_USE_CLOSE = """
[[steps]]
action = "open"
instance = "a"
lparam1 = "wave"
lparam2 = 0x77

[[steps]]
action = "send"
instance = "a"
msg = "user+1"
lparam1 = 5
lparam2 = 0xFFFFFFFFFFFFFFFF

[[steps]]
action = "close"
instance = "a"
"""


def test_open_send_close_sends_what_winmm_sends(tmp_path):
    result, events = recorded(tmp_path / "w.db", OPEN_USE_CLOSE)
    assert result.ending.reason.value == "closed"
    assert calls(events) == ["DRV_LOAD", "DRV_ENABLE", "DRV_OPEN", "DRV_USER+1", "DRV_CLOSE", "DRV_DISABLE",
                             "DRV_FREE"]
    by_msg = {message_name(e.msg): e for e in events if e.kind == "call"}
    opened = next(e.result for e in events if e.kind == "return" and e.msg == 3)
    assert by_msg["DRV_OPEN"].driver_id == 0 and by_msg["DRV_OPEN"].lparam2 == 0x77
    assert by_msg["DRV_OPEN"].payload.lparam1.text == "wave"
    assert by_msg["DRV_USER+1"].driver_id == opened and by_msg["DRV_USER+1"].lparam2 == -1
    # like Wine's winmm, DRV_DISABLE/DRV_FREE carry the last instance's id and handle
    assert by_msg["DRV_FREE"].driver_id == opened and by_msg["DRV_FREE"].hdrvr == by_msg["DRV_OPEN"].hdrvr


def test_shutdown_sends_exitsession_to_each_open_instance_then_disable_and_free_without_close(tmp_path):
    text = "\n".join(f'[[steps]]\naction = "open"\ninstance = "{n}"\n' for n in "ab") + '[[steps]]\naction = "shutdown"\n'
    _, events = recorded(tmp_path / "w.db", text)
    assert calls(events) == ["DRV_LOAD", "DRV_ENABLE", "DRV_OPEN", "DRV_OPEN", "DRV_EXITSESSION",
                             "DRV_EXITSESSION", "DRV_DISABLE", "DRV_FREE"]


def test_exit_ends_the_process_without_closing(tmp_path):
    text = '[[steps]]\naction = "open"\ninstance = "a"\n\n[[steps]]\naction = "exit"\n'
    result, events = recorded(tmp_path / "w.db", text)
    assert result.ending.reason.value == "process-exit"
    assert calls(events) == ["DRV_LOAD", "DRV_ENABLE", "DRV_OPEN"]
    assert events[-1].kind == "end" and events[-1].reason.value == "process-exit"


@pytest.mark.parametrize("bug, reason, last_call", [
    ("exit-spin", "hang", "DRV_EXITSESSION"),
    ("use-after-release", "crash", "DRV_CLOSE"),
    ("disable-with-open", "crash", "DRV_FREE"),
    ("thread-affinity", "crash", "DRV_CLOSE"),
])
def test_the_bundled_workloads_record_each_bug(tmp_path, bug, reason, last_call):
    from importlib import resources

    text = (resources.files("drvtape") / "workloads" / f"{bug}.toml").read_text()
    result, events = recorded(tmp_path / "w.db", text, target=f"sim:{bug}")
    assert result.ending.reason.value == reason
    failing = next(e for e in events if e.seq == result.ending.call_seq)
    assert message_name(failing.msg) == last_call
    if reason == "hang":
        assert not any(e.kind == "return" and e.call_seq == result.ending.call_seq for e in events)


@pytest.mark.parametrize("text, says", [
    ("[[steps]\naction = 'open'", "invalid TOML"),
    ("[[steps]]\naction = 'dance'\n", "line 1: step 1: action"),
    ("[[steps]]\naction = 'open'\ninstance = 'a'\n\n[[steps]]\naction = 'send'\ninstance = 'a'\nmsg = 'DRV_BOGUS'\n",
     "unknown message 'DRV_BOGUS'"),
    ("[[steps]]\naction = 'open'\ninstance = 'a'\n\n[[steps]]\naction = 'close'\ninstance = 'b'\n",
     "line 5: step 2 (close): instance 'b' is not open"),
    ("[[steps]]\naction = 'exit'\n\n[[steps]]\naction = 'shutdown'\n", "line 1: step 1 (exit): exit ends"),
    ("[[steps]]\naction = 'open'\ninstance = 'a'\nmsg = 3\n", "'msg' goes only with send"),
    ("[[steps]]\naction = 'open'\ninstance = 'a'\nlparam2 = 0x1FFFFFFFFFFFFFFFF\n", "64 bits"),
    ("[[steps]]\naction = 'open'\ninstance = 'a'\ncolour = 'red'\n", "colour"),
    ("title = 'no steps'\n", "steps"),
])
def test_malformed_workloads_are_refused_with_where_and_why(text, says):
    with pytest.raises(DrvtapeError) as err:
        parse_workload(text, "w.toml")
    assert says in str(err.value) and str(err.value).startswith("w.toml:")


def test_record_with_a_bad_workload_exits_2_with_one_line_and_leaves_the_database_as_it_was(tmp_path):
    db = tmp_path / "w.db"
    recorded(db, OPEN_USE_CLOSE)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    bad = tmp_path / "bad.toml"
    bad.write_text("[[steps]]\naction = 'send'\ninstance = 'x'\nmsg = 'load'\n")
    for args in (["--workload", str(bad), "--target", "sim:reference"],
                 ["--workload", str(tmp_path / "missing.toml"), "--target", "sim:reference"],
                 ["--workload", str(bad).replace("bad", "ok"), "--target", "sim:nope"]):
        if "ok.toml" in args[1]:
            (tmp_path / "ok.toml").write_text(OPEN_USE_CLOSE)
        proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "record", *args],
                              capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("drvtape: error: ")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_record_cli_reports_the_session_and_its_ending(tmp_path):
    wl = tmp_path / "w.toml"
    wl.write_text(OPEN_USE_CLOSE)
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tmp_path / "c.db"), "record",
                           "--target", "sim:reference", "--workload", str(wl), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["calls"] == 7 and doc["events"] == 15 and doc["end_reason"] == "closed"


def test_a_string_goes_only_where_the_catalog_has_a_wide_string_or_driver_defined_data():
    steps = '[[steps]]\naction = "open"\ninstance = "a"\nlparam1 = "wave"\n' \
            '[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_USER+1"\nlparam2 = "any"\n'
    assert len(parse_workload(steps, "w.toml").steps) == 2
    bad = steps + '[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_CONFIGURE"\nlparam2 = "x"\n'
    with pytest.raises(DrvtapeError, match=r"^w\.toml: line 10: step 3 \(send\): lparam2: DRV_CONFIGURE's lParam2 "
                                           r"points to DRVCONFIGINFO data, not a string$"):
        parse_workload(bad, "w.toml")


UNIT = Unit("app", lambda: None, 3)


class _Recorder:
    """What ending_of asks of a Recorder."""

    def __init__(self, fault_call_seq=None):
        self.fault_call_seq = fault_call_seq

    def in_flight(self, ident):
        return {101: 7}.get(ident)


@pytest.mark.parametrize(("done", "fault_call_seq", "ending"), [
    (ScheduleOutcome(OutcomeKind.COMPLETED), None, Ending()),
    (ScheduleOutcome(OutcomeKind.HANG, UNIT, hung=[UNIT], idents={"app": 101}), None,
     Ending(EndReason.HANG, 7, "unit 3 never returned")),
    (ScheduleOutcome(OutcomeKind.COMPLETED, UNIT, StopRun("the exit step")), None,
     Ending(EndReason.PROCESS_EXIT, None, "the exit step")),
    (ScheduleOutcome(OutcomeKind.FAULT, UNIT, RuntimeError("boom")), 5, Ending(EndReason.CRASH, 5, "boom")),
    (ScheduleOutcome(OutcomeKind.FAULT, UNIT, RuntimeError("ours")), None, Ending(EndReason.UNKNOWN, None, "ours")),
])
def test_a_hooked_run_ends_its_session_as_its_schedule_ended(done, fault_call_seq, ending):
    assert ending_of(done, _Recorder(fault_call_seq), hung=lambda unit: f"unit {unit.label} never returned") == ending
