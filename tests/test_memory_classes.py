"""The class of an instance: from ICOPEN / ACMDRVOPENDESCW at DRV_OPEN, else the alias."""

from dataclasses import dataclass, replace

import pytest

from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.events import CallEvent, ReturnEvent
from drvtape.schema.memory.classes import (
    DriverClass, InstanceClasses, call_classes, class_of_open, fourcc, instance_classes, session_class_hint,
)
from drvtape.present.text import outcome_text
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.outcome import Outcome, OutcomeKind
from drvtape.schema.payloads import AcmDrvOpenDescW, CallPayloads, IcOpen, RawBytes


@dataclass(frozen=True)
class Call:
    msg: int
    driver_id: int
    payload: CallPayloads | None = None
    result: int | None = None
    seq: int = 0
    returned_at: int | None = None


def numbered(*calls: Call) -> list[Call]:
    return [replace(c, seq=2 * i + 1, returned_at=2 * i + 2) for i, c in enumerate(calls)]


def icopen(fcc: str) -> CallPayloads:
    return CallPayloads(lparam2=IcOpen(dwSize=48, fccType=fourcc(fcc), fccHandler=fourcc("mrle")))


def acmopen(fcc: str = "audc") -> CallPayloads:
    return CallPayloads(lparam2=AcmDrvOpenDescW(cbStruct=48, fccType=fourcc(fcc), alias="msacm.imaadpcm"))


@pytest.mark.parametrize("payload, cls", [
    (icopen("vidc"), DriverClass.VFW), (icopen("vids"), DriverClass.VFW), (acmopen(), DriverClass.ACM),
    (icopen("auds"), None), (acmopen("vidc"), None), (CallPayloads(lparam2=RawBytes(hex="00")), None), (None, None),
])
def test_class_from_what_drv_open_received(payload, cls):
    assert class_of_open(payload) is cls


@pytest.mark.parametrize("alias, cls", [
    ("vidc.MRLE", DriverClass.VFW), ("VIDS.cvid", DriverClass.VFW), ("msacm.imaadpcm", DriverClass.ACM),
    ("C:\\windows\\system32\\msrle32.dll", DriverClass.DRV), ("wave", DriverClass.DRV), (None, DriverClass.DRV),
])
def test_class_hint_from_the_alias(alias, cls):
    assert session_class_hint(alias) is cls


def test_each_call_gets_its_instance_class_and_a_reused_id_its_new_one():
    calls = numbered(Call(DRV_OPEN, 0, icopen("vidc"), result=7), Call(0x400D, 7), Call(DRV_CLOSE, 7, result=1),
                     Call(DRV_OPEN, 0, acmopen(), result=7), Call(0x604F, 7), Call(0x604F, 9),
                     Call(DRV_OPEN, 0, CallPayloads(lparam2=RawBytes(hex="")), result=9), Call(0x604F, 9))
    assert call_classes(calls, hint=DriverClass.ACM) == [
        DriverClass.DRV, DriverClass.VFW, DriverClass.VFW, DriverClass.DRV, DriverClass.ACM,
        DriverClass.DRV, DriverClass.DRV, DriverClass.ACM]
    assert instance_classes(calls) == {7: DriverClass.ACM, 9: DriverClass.DRV}


def test_an_id_opened_again_without_a_close_is_the_later_instance_and_once_closed_none():
    calls = numbered(Call(DRV_OPEN, 0, icopen("vidc"), result=7), Call(0x400D, 7),
                     Call(DRV_OPEN, 0, None, result=7), Call(0x400D, 7), Call(DRV_CLOSE, 7, result=1), Call(0x400D, 7))
    assert call_classes(calls) == [DriverClass.DRV, DriverClass.VFW, DriverClass.DRV, DriverClass.DRV,
                                   DriverClass.DRV, DriverClass.DRV]  # not the first instance's VfW at the end


def test_opens_returning_out_of_order_count_from_their_returns():
    """Two threads' DRV_OPENs give the same id; the one called first returns last, so its
    instance is the one the id has after both returns (as the SQL views have it)."""
    calls = [Call(DRV_OPEN, 0, icopen("vidc"), result=7, seq=1, returned_at=10),
             Call(DRV_OPEN, 0, None, result=7, seq=2, returned_at=5), Call(0x400D, 7, seq=6, returned_at=7),
             Call(0x400D, 7, seq=11, returned_at=12)]
    assert call_classes(calls) == [DriverClass.DRV, DriverClass.DRV, DriverClass.DRV, DriverClass.VFW]


def test_one_message_number_two_meanings():
    assert message_name(0x604F, DriverClass.ACM) == "ACMDM_STREAM_CONVERT"
    assert message_name(0x400D, DriverClass.VFW) == "ICM_DECOMPRESS"
    assert message_name(0x400D, DriverClass.ACM) == "DRV_USER+13"
    assert message_name(0x400D) == "DRV_USER+13"
    assert message_name(DRV_OPEN, DriverClass.VFW) == "DRV_OPEN"
    assert message_memory(DriverClass.DRV, 0x400D) is None
    assert message_memory(DriverClass.VFW, DRV_OPEN).nodes == ()


def test_instance_classes_from_stored_events():
    t = dict(ts_ns=0, thread=1, hdrvr=5)
    events = [
        CallEvent(seq=1, msg=DRV_OPEN, driver_id=0, lparam1=0, lparam2=1, payload=icopen("vids"), **t),
        ReturnEvent(seq=2, call_seq=1, msg=DRV_OPEN, driver_id=0, result=3, duration_ns=1, **t),
        CallEvent(seq=3, msg=DRV_OPEN, driver_id=0, lparam1=0, lparam2=1, payload=acmopen(), **t),
        ReturnEvent(seq=4, call_seq=3, msg=DRV_OPEN, driver_id=0, result=4, duration_ns=1, **t),
        CallEvent(seq=9, msg=DRV_CLOSE, driver_id=3, lparam1=0, lparam2=0, **t),
    ]
    classes = InstanceClasses.from_events(events)
    assert [classes.at(seq, 3) for seq in (1, 2, 5, 9, 10)] == [
        DriverClass.DRV, DriverClass.VFW, DriverClass.VFW, DriverClass.VFW, DriverClass.DRV]
    assert classes.at(5, 4) is DriverClass.ACM and classes.at(5, 0) is DriverClass.DRV


def test_an_outcome_names_its_message_by_class():
    fault = Outcome(OutcomeKind.FAULT, seq=9, msg=0x5002, code=0xC0000005, module="msrle32.dll", offset=0x3DE5,
                    cls=DriverClass.VFW)
    assert outcome_text(fault) == "fault 0xC0000005 in msrle32.dll+0x3DE5 at seq 9 (ICM_GETINFO)"
    assert fault.to_json()["msg_name"] == "ICM_GETINFO" and "cls" not in fault.to_json()
    assert outcome_text(Outcome(OutcomeKind.HANG, seq=3, msg=0x5002)) == "hang at seq 3 (DRV_USER+4098)"
