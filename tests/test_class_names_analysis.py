"""diff and lint name a codec's messages by the class of the instance they went to
(ICM_DECOMPRESS, ACMDM_STREAM_CONVERT), as events and show do, not DRV_USER+n."""

from drvtape.analysis.diff import What, diff_recordings
from drvtape.analysis.lint import lint_rows, select_rules
from drvtape.schema.events import EndReason
from drvtape.schema.memory.classes import DriverClass, fourcc
from drvtape.schema.messages import DRV_ENABLE, DRV_LOAD, DRV_OPEN
from drvtape.schema.payloads import CallPayloads, IcOpen
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.rows import event_to_row

VFW_ID = 0x10
ICM_DECOMPRESS, ACMDM_STREAM_CONVERT = 0x400D, 0x604F
VFW_OPEN = CallPayloads(lparam2=IcOpen(dwSize=48, fccType=fourcc("vidc"), fccHandler=fourcc("MRLE")))


def opened(tapes, driver: str = "C:\\windows\\system32\\codec.dll", payload: CallPayloads | None = VFW_OPEN):
    tape = tapes.Tape(tapes.header(tapes.IDS["clean"], driver=driver, target=None))
    tape.send(DRV_LOAD, 1)
    tape.send(DRV_ENABLE, 1)
    tape.send(DRV_OPEN, VFW_ID, payload=payload)
    return tape


def rows(tape) -> list:
    return [event_to_row(ev) for ev in tape.events]


def test_diff_names_the_differing_call_by_its_instance_class(tapes):
    texts = []
    for lparam in (0x1000, 0x2000):
        tape = opened(tapes)
        tape.send(ICM_DECOMPRESS, 0, driver_id=VFW_ID, lparam2=lparam)
        tape.end(EndReason.CLOSED)
        texts.append(recording_from_rows(tape.header, rows(tape)))
    first = diff_recordings(*texts).first
    assert first.what is What.PARAMS
    assert first.a.startswith("ICM_DECOMPRESS id=0x10") and first.b.startswith("ICM_DECOMPRESS id=0x10")


def test_lint_names_a_faulting_and_an_unanswered_codec_call(tapes):
    tape = opened(tapes)
    call = tape.call(ICM_DECOMPRESS, driver_id=VFW_ID)
    tape.fault(call)
    tape.end(EndReason.CRASH, call_seq=call)
    assert [f.detail.split(":")[0] for f in lint_rows(rows(tape), select_rules(["call-without-return"]))] == [
        "ICM_DECOMPRESS faulted"]
    hung = opened(tapes)
    hung.call(ICM_DECOMPRESS, driver_id=VFW_ID)
    found = lint_rows(rows(hung), select_rules(["call-without-return"]))
    assert [f.detail for f in found] == ["ICM_DECOMPRESS had no return when the session stopped"]


def test_lint_takes_the_class_from_the_alias_when_drv_open_tells_none(tapes):
    tape = opened(tapes, driver="msacm.imaadpcm", payload=None)
    tape.call(ACMDM_STREAM_CONVERT, driver_id=VFW_ID)
    rules = select_rules(["call-without-return"])
    assert lint_rows(rows(tape), rules, DriverClass.ACM)[0].detail.startswith("ACMDM_STREAM_CONVERT had no return")
    assert lint_rows(rows(tape), rules)[0].detail.startswith("DRV_USER+8271 had no return")  # no hint: DRV
